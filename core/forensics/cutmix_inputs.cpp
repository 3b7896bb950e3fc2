#include "core/forensics/cutmix_inputs.h"

#include "core/base/errors.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace distillery {

torch::Tensor cutmixInputs(const torch::Tensor& pool, int64_t n, uint64_t seed) {
  if (pool.dim() != 2 && pool.dim() != 4) throw ConfigError("sac", "CutMix needs [N, C, H, W] or [N, F] inputs");
  const int64_t size = pool.size(0);
  if (size < 2) throw ConfigError("sac", "CutMix needs at least two test inputs");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, size - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<torch::Tensor> out;
  out.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t a = pick(rng);
    int64_t b = pick(rng);
    if (b == a) b = (a + 1) % size;
    torch::Tensor x = pool[a].clone();
    const torch::Tensor other = pool[b];
    const double cut = 1.0 - unit(rng); // the pasted share of the area
    if (pool.dim() == 4) {
      const int64_t h = pool.size(2), w = pool.size(3);
      const double r = std::sqrt(cut);
      const auto ch = int64_t(std::lround(double(h) * r)), cw = int64_t(std::lround(double(w) * r));
      const auto cy = int64_t(unit(rng) * double(h)), cx = int64_t(unit(rng) * double(w));
      const int64_t y0 = std::clamp<int64_t>(cy - ch / 2, 0, h), y1 = std::clamp<int64_t>(cy + (ch + 1) / 2, 0, h);
      const int64_t x0 = std::clamp<int64_t>(cx - cw / 2, 0, w), x1 = std::clamp<int64_t>(cx + (cw + 1) / 2, 0, w);
      if (y1 > y0 && x1 > x0)
        x.slice(1, y0, y1).slice(2, x0, x1).copy_(other.slice(1, y0, y1).slice(2, x0, x1));
    } else {
      const int64_t f = pool.size(1);
      const auto len = int64_t(std::lround(double(f) * cut));
      const auto start = std::min<int64_t>(int64_t(unit(rng) * double(f - len + 1)), f - len);
      if (len > 0) x.slice(0, start, start + len).copy_(other.slice(0, start, start + len));
    }
    out.push_back(x);
  }
  return torch::stack(out);
}

} // namespace distillery
