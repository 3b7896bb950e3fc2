#pragma once
// A labelled dataset held in contiguous tensors, split into train, validation
// and test, with the preprocessing and augmentation that produced its inputs.
#include "core/data/preprocessing.h"
#include "core/config/data_config.h"
#include "core/data/skipped_files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

struct InputShape {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t numel() const { return channels * height * width; }
};

struct TensorSplit {
  torch::Tensor x; // float, normalised: [N, C, H, W] for images, [N, F] for csv tables
  torch::Tensor y; // int64 [N]
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

struct Dataset {
  std::string name; // data.dataset
  std::string path;
  InputShape shape; // csv tables: {1, 1, F}; their x is [N, F]
  int64_t num_classes = 10;
  std::vector<std::string> class_names; // index -> name
  TensorSplit train, val, test;
  std::string content_hash;    // of the raw files, recorded with the run
  Normalisation normalisation; // effective values, one per channel
  AugmentConfig augment;       // applied to training batches by the trainer
  std::vector<SkippedFile> skipped; // files in data.path that were not read, with the reason

  // Per channel, the normalised value of a zero (black) pixel: what crop padding fills in.
  std::vector<double> paddingFill() const;
  // The data facts a run records: format, path, hash, shape, classes, split
  // sizes, the effective preprocessing, the augmentation and (when there are
  // any) the skipped files.
  nlohmann::json summaryJson() const;
};

// Reads data.path with the reader of data.dataset (dataset_readers.h), then
// limits, splits and normalises according to config. Splits the files do not
// provide are drawn from the training set: validation by a shuffle seeded by
// `seed`; for formats without a test split of their own (DatasetFormat::
// own_test_split: image-folder, csv), the test split by a fixed seed, so every
// run on the same files is tested on the same samples.
Dataset loadDataset(const DataConfig& config, uint64_t seed);

} // namespace distillery
