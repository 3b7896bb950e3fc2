#pragma once
// Random crop with padding and horizontal flip on a whole training batch at
// once: the random draws are per sample, the work is a few tensor ops.
#include "core/config/run_config.h"

#include <torch/torch.h>

#include <vector>

namespace distillery {

class BatchAugmenter {
public:
  // padding_fill: per channel, the value a zero pixel has after normalisation,
  // so padding looks like the black border torchvision's RandomCrop adds.
  BatchAugmenter(const AugmentConfig& config, std::vector<double> padding_fill, uint64_t seed);

  // x: [B, C, H, W] on any device; returns a new batch of the same shape. The
  // draws depend only on the seed and the step, so a resumed run augments its
  // remaining batches exactly as an uninterrupted one would.
  torch::Tensor apply(const torch::Tensor& x, int64_t step);

private:
  AugmentConfig config_;
  std::vector<double> fill_;
  uint64_t seed_;
};

// The deterministic parts, for tests and for apply():
// rows flip[b] != 0 are mirrored left-right.
torch::Tensor flipWhere(const torch::Tensor& x, const torch::Tensor& flip);
// Pads each side by `padding` with fill[c], then takes the H x W window whose
// top-left corner is (dy[b], dx[b]) in the padded image; dy, dx in [0, 2 * padding].
torch::Tensor cropPadded(const torch::Tensor& x, int64_t padding, const std::vector<double>& fill,
                         const torch::Tensor& dy, const torch::Tensor& dx);

} // namespace distillery
