#pragma once
// What a format reader hands to loadDataset: the files' samples before any
// limit, split or normalisation, with their class names and content hash.
#include "core/data/skipped_files.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

struct RawSplit {
  torch::Tensor x; // uint8 [N, C, H, W] for images, float [N, F] for tables; undefined: no such split
  torch::Tensor y; // int64 [N]
  bool present() const { return x.defined(); }
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

struct RawDataset {
  RawSplit train;
  RawSplit val;  // only when the files hold a validation split of their own
  RawSplit test; // absent for a single image folder or CSV file: carved from train
  int64_t num_classes = 0;
  std::vector<std::string> class_names; // index -> name
  std::string content_hash;             // of the raw files, see content_hash.h
  std::vector<SkippedFile> skipped;     // files seen but not read (image folders)
};

} // namespace distillery
