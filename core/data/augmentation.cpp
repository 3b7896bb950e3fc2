#include "core/data/augmentation.h"

#include "core/base/splitmix64.h"

#include <ATen/CPUGeneratorImpl.h>

namespace distillery {

namespace {
// Well-spread generator seeds from (seed, step) pairs.
uint64_t mix(uint64_t z) { return splitMix64(z); }
} // namespace

BatchAugmenter::BatchAugmenter(const AugmentConfig& config, std::vector<double> padding_fill, uint64_t seed)
    : config_(config), fill_(std::move(padding_fill)), seed_(seed) {}

torch::Tensor BatchAugmenter::apply(const torch::Tensor& x, int64_t step) {
  // Its own stream, apart from the batch order's, so turning augmentation on
  // leaves the batches unchanged.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(mix(mix(seed_ ^ 0xa06e17a7e5ull) + uint64_t(step)));
  const int64_t b = x.size(0);
  torch::Tensor out = x;
  if (config_.random_crop_padding > 0) {
    const int64_t p = config_.random_crop_padding;
    auto dy = torch::randint(0, 2 * p + 1, {b}, gen, torch::kLong).to(x.device());
    auto dx = torch::randint(0, 2 * p + 1, {b}, gen, torch::kLong).to(x.device());
    out = cropPadded(out, p, fill_, dy, dx);
  }
  if (config_.horizontal_flip) {
    auto flip = torch::randint(0, 2, {b}, gen, torch::kLong).to(x.device());
    out = flipWhere(out, flip);
  }
  return out;
}

torch::Tensor flipWhere(const torch::Tensor& x, const torch::Tensor& flip) {
  auto mask = flip.to(x.device()).ne(0).view({-1, 1, 1, 1});
  return torch::where(mask, x.flip({3}), x);
}

torch::Tensor cropPadded(const torch::Tensor& x, int64_t padding, const std::vector<double>& fill,
                         const torch::Tensor& dy, const torch::Tensor& dx) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t hp = h + 2 * padding, wp = w + 2 * padding;
  // The padded batch: every channel filled with its border value, the image in the middle.
  auto fill_values = torch::tensor(fill, torch::kFloat64).to(x.options()).view({1, c, 1, 1});
  auto padded = fill_values.expand({b, c, hp, wp}).clone();
  padded.narrow(2, padding, h).narrow(3, padding, w).copy_(x);
  // Two gathers pick each sample's rows, then its columns.
  auto ar_h = torch::arange(h, dy.options().device(x.device()));
  auto ar_w = torch::arange(w, dx.options().device(x.device()));
  auto rows = (dy.to(x.device()).view({b, 1}) + ar_h.view({1, h})).view({b, 1, h, 1}).expand({b, c, h, wp});
  auto band = padded.gather(2, rows);
  auto cols = (dx.to(x.device()).view({b, 1}) + ar_w.view({1, w})).view({b, 1, 1, w}).expand({b, c, h, w});
  return band.gather(3, cols);
}

} // namespace distillery
