#pragma once
// A labelled image dataset held in contiguous tensors, split into train,
// validation and test.
#include "core/run_config.h"

#include <torch/torch.h>

#include <string>

namespace distillery {

struct InputShape {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t numel() const { return channels * height * width; }
};

struct TensorSplit {
  torch::Tensor x; // float [N, C, H, W], normalised
  torch::Tensor y; // int64 [N]
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

struct Dataset {
  std::string name;
  std::string path;
  InputShape shape;
  int64_t num_classes = 10;
  TensorSplit train, val, test;
  std::string content_hash; // of the raw files, recorded with the run
};

// Loads and splits according to config; the validation split is taken from
// the training set after a shuffle seeded by `seed`.
Dataset loadDataset(const DataConfig& config, uint64_t seed);

} // namespace distillery
