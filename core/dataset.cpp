#include "core/dataset.h"

#include "core/errors.h"
#include "core/idx_reader.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <filesystem>

namespace distillery {

namespace {

// Fashion-MNIST and MNIST ship the same four file names, gzipped or raw.
std::string findSplitFile(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const char* ext : {".gz", ""}) {
    std::string candidate = dir + "/" + stem + ext;
    std::error_code ec;
    if (fs::exists(candidate, ec)) return candidate;
  }
  throw DataError(dir + "/" + stem + "[.gz]", "file not found (expected the IDX files of the dataset here)");
}

uint64_t fnv1a(uint64_t h, const std::vector<uint8_t>& bytes) {
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

struct RawSplit {
  torch::Tensor x, y;
};

RawSplit readSplit(const std::string& dir, const std::string& prefix, uint64_t& hash) {
  const std::string image_file = findSplitFile(dir, prefix + "-images-idx3-ubyte");
  const std::string label_file = findSplitFile(dir, prefix + "-labels-idx1-ubyte");
  auto image_bytes = readMaybeGzipped(image_file);
  auto label_bytes = readMaybeGzipped(label_file);
  hash = fnv1a(fnv1a(hash, image_bytes), label_bytes);
  IdxArray images = parseIdx(image_bytes, image_file);
  IdxArray labels = parseIdx(label_bytes, label_file);
  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw DataError(image_file, "expected images of shape [N, H, W] or [N, C, H, W], got " +
                                    std::to_string(images.dims.size()) + " dimensions");
  if (labels.dims.size() != 1)
    throw DataError(label_file, "expected labels of shape [N], got " + std::to_string(labels.dims.size()) +
                                    " dimensions");
  if (images.dims[0] != labels.dims[0])
    throw DataError(label_file, "holds " + std::to_string(labels.dims[0]) + " labels but " + image_file +
                                    " holds " + std::to_string(images.dims[0]) + " images");
  for (uint8_t label : labels.data)
    if (label > 9)
      throw DataError(label_file, "label " + std::to_string(label) + " is outside the 10 classes 0..9");
  std::vector<int64_t> shape = images.dims;
  if (shape.size() == 3) shape.insert(shape.begin() + 1, 1);
  RawSplit split;
  split.x = torch::from_blob(images.data.data(), shape, torch::kUInt8).to(torch::kFloat32);
  split.y = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
  return split;
}

} // namespace

Dataset loadDataset(const DataConfig& config, uint64_t seed) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(config.path, ec))
    throw DataError(config.path, "dataset directory not found (data.path)");
  if (!fs::is_directory(config.path, ec))
    throw DataError(config.path, "expected a directory holding the IDX files (data.path)");

  uint64_t hash = 1469598103934665603ull;
  RawSplit train = readSplit(config.path, "train", hash);
  RawSplit test = readSplit(config.path, "t10k", hash);
  if (train.x.sizes().slice(1) != test.x.sizes().slice(1))
    throw DataError(config.path, "train and test images have different shapes");

  auto normalise = [&](torch::Tensor x) { return ((x / 255.0) - config.mean) / config.std; };

  Dataset d;
  d.name = config.dataset;
  d.path = config.path;
  d.shape = {train.x.size(1), train.x.size(2), train.x.size(3)};
  d.num_classes = 10;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  d.content_hash = std::string("fnv1a64:") + hex;

  int64_t n = train.y.size(0);
  if (config.train_limit > 0 && config.train_limit < n) n = config.train_limit;
  if (config.val_size >= n)
    throw ConfigError("data.val_size", std::to_string(config.val_size) + " leaves no training samples out of " +
                                           std::to_string(n));
  auto x = normalise(train.x.slice(0, 0, n));
  auto y = train.y.slice(0, 0, n);
  // The validation split is a seeded random subset of the (limited) training set.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x5eed5eedull);
  auto perm = torch::randperm(n, gen, torch::kLong);
  auto train_idx = perm.slice(0, 0, n - config.val_size);
  auto val_idx = perm.slice(0, n - config.val_size, n);
  d.train = {x.index_select(0, train_idx).contiguous(), y.index_select(0, train_idx).contiguous()};
  d.val = {x.index_select(0, val_idx).contiguous(), y.index_select(0, val_idx).contiguous()};
  int64_t nt = test.y.size(0);
  if (config.test_limit > 0 && config.test_limit < nt) nt = config.test_limit;
  d.test = {normalise(test.x.slice(0, 0, nt)).contiguous(), test.y.slice(0, 0, nt).contiguous()};
  return d;
}

} // namespace distillery
