#pragma once
// Scaling and per-channel normalisation, as the config describes them:
// x = (raw / divide_by - mean[c]) / std[c]. Channel c is dimension 1 of the
// tensor: the colour channel of [N, C, H, W] images, the feature of [N, F] tables.
#include "core/config/run_config.h"

#include <torch/torch.h>

#include <vector>

namespace distillery {

struct Normalisation {
  double divide_by = 255.0;
  std::vector<double> mean; // one per channel
  std::vector<double> std;  // one per channel, > 0
};

// The effective values for data with `channels` channels: the config's values
// expanded to one per channel, or (mean/std "train") the statistics of
// train_raw (the training pool, validation included). A list whose length is
// neither 1 nor `channels` is a ConfigError.
Normalisation resolveNormalisation(const DataConfig& config, const torch::Tensor& train_raw, int64_t channels);

// Float copy of raw (any dtype) scaled and normalised per channel.
torch::Tensor normalise(const torch::Tensor& raw, const Normalisation& n);

} // namespace distillery
