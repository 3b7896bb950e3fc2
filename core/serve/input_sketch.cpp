#include "core/serve/input_sketch.h"

#include <algorithm>
#include <cstring>

namespace distillery {

std::string InputSketch::bytes() const {
  std::string out(cells.size() * 4, '\0');
  for (size_t i = 0; i < cells.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &cells[i], 4);
    for (int b = 0; b < 4; ++b) out[4 * i + size_t(b)] = char((bits >> (8 * b)) & 0xFF);
  }
  return out;
}

InputSketch sketchInput(const float* values, const std::vector<int64_t>& shape) {
  int64_t c = 1, h = 1, w = 1;
  if (shape.size() == 3) {
    c = shape[0];
    h = shape[1];
    w = shape[2];
  } else if (shape.size() == 2) {
    h = shape[0];
    w = shape[1];
  } else if (shape.size() == 1) {
    w = shape[0];
  }
  InputSketch s;
  s.height = std::min<int64_t>(8, h);
  s.width = std::min<int64_t>(8, w);
  s.cells.assign(size_t(s.height * s.width), 0.0f);
  for (int64_t i = 0; i < s.height; ++i) {
    const int64_t r0 = i * h / s.height, r1 = (i + 1) * h / s.height;
    for (int64_t j = 0; j < s.width; ++j) {
      const int64_t c0 = j * w / s.width, c1 = (j + 1) * w / s.width;
      double sum = 0;
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t col = c0; col < c1; ++col) sum += values[(ch * h + r) * w + col];
      s.cells[size_t(i * s.width + j)] = float(sum / double(c * (r1 - r0) * (c1 - c0)));
    }
  }
  return s;
}

} // namespace distillery
