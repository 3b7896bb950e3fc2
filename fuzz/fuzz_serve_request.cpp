// libFuzzer target: the body of POST /v1/classify (issue 17). Any input is
// either a RequestError with status 400 or 413 naming a field, or a request
// whose every field is consistent: a batch within the limit, the expected
// input shape, as many bytes and values as the shape says, finite values.
// The sketch and the hash of each input must then work on it too.
#include "core/base/sha256.h"
#include "core/serve/classify_request.h"
#include "core/serve/input_sketch.h"

#include <cmath>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  // The first byte picks the served input: an image or a table row.
  static const std::vector<std::vector<int64_t>> shapes = {{1, 4, 4}, {3, 2, 5}, {6}};
  const auto& shape = shapes[size > 0 ? data[0] % shapes.size() : 0];
  distillery::ClassifyRequest r;
  try {
    r = distillery::parseClassifyRequest(body, shape, 8);
  } catch (const distillery::RequestError& e) {
    if ((e.status() != 400 && e.status() != 413) || e.field().empty()) std::abort();
    return 0;
  }
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (r.batch < 1 || r.batch > 8) std::abort();
  if (r.shape.size() != shape.size() + 1 || r.shape[0] != r.batch) std::abort();
  if (int64_t(r.values.size()) != r.batch * numel) std::abort();
  if (int64_t(r.bytes.size()) != r.batch * numel * r.elementSize()) std::abort();
  for (float v : r.values)
    if (!std::isfinite(v)) std::abort();
  for (int64_t i = 0; i < r.batch; ++i) {
    if (distillery::sha256Hex(r.inputBytes(i)).size() != 64) std::abort();
    const auto sketch = distillery::sketchInput(r.values.data() + i * numel, shape);
    for (float v : sketch.cells)
      if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
