#include "core/forensics/watermark_sampler.h"

#include <cmath>

namespace distillery {

WatermarkSampler::WatermarkSampler(const WatermarkParams& params, double delta, int64_t vocab_size,
                                   const std::string& field)
    : greens_(params, vocab_size, field), delta_(delta) {}

torch::Tensor WatermarkSampler::nextTokenBias(const torch::Tensor& sequence, const std::vector<uint8_t>& rows) const {
  auto seq = sequence.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t B = seq.size(0), L = seq.size(1), V = greens_.vocabSize(), h = greens_.params().context;
  auto bias = torch::zeros({B, V}, torch::kFloat);
  if (L < h) return bias;
  auto* out = bias.data_ptr<float>();
  const int64_t* data = seq.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    if (!rows.empty() && !rows[size_t(b)]) continue;
    const auto flags = greens_.greens(data + b * L + (L - h));
    for (int64_t v = 0; v < V; ++v)
      if (flags[size_t(v)]) out[b * V + v] = float(delta_);
  }
  return bias;
}

torch::Tensor WatermarkSampler::positionBias(const torch::Tensor& inputs, const std::vector<uint8_t>& rows) const {
  auto seq = inputs.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t B = seq.size(0), L = seq.size(1), V = greens_.vocabSize(), h = greens_.params().context;
  auto bias = torch::zeros({B, L, V}, torch::kFloat);
  auto* out = bias.data_ptr<float>();
  const int64_t* data = seq.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    if (!rows.empty() && !rows[size_t(b)]) continue;
    for (int64_t t = h - 1; t < L; ++t) {
      const auto flags = greens_.greens(data + b * L + (t - h + 1));
      float* row = out + (b * L + t) * V;
      for (int64_t v = 0; v < V; ++v)
        if (flags[size_t(v)]) row[v] = float(delta_);
    }
  }
  return bias;
}

std::vector<uint8_t> watermarkedRows(int64_t first, int64_t count, double fraction) {
  std::vector<uint8_t> rows(size_t(std::max<int64_t>(0, count)), 0);
  for (int64_t i = 0; i < count; ++i) {
    const double r = double(first + i);
    rows[size_t(i)] = std::floor((r + 1.0) * fraction) > std::floor(r * fraction);
  }
  return rows;
}

} // namespace distillery
