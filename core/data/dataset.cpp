#include "core/data/dataset.h"

#include "core/data/cifar_reader.h"
#include "core/base/content_hash.h"
#include "core/data/csv_table_reader.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"
#include "core/data/image_folder_reader.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>

namespace distillery {

namespace {

// ---- IDX (MNIST, Fashion-MNIST and their kin) -----------------------------------------

// Fashion-MNIST and MNIST ship the same four file names, gzipped or raw.
std::string findSplitFile(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const char* ext : {".gz", ""}) {
    std::string candidate = dir + "/" + stem + ext;
    std::error_code ec;
    const fs::file_status status = fs::status(candidate, ec);
    if (!ec && fs::exists(status)) return candidate;
    // Only "does not exist" means missing; EACCES on the folder is another story.
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw DataError(dir, "cannot look inside: " + ec.message() + " (check the folder's permissions)");
  }
  throw DataError(dir + "/" + stem + "[.gz]", "file not found (expected the IDX files of the dataset here)");
}

RawSplit readIdxSplit(const std::string& dir, const std::string& prefix, ContentHash& hash) {
  const std::string image_file = findSplitFile(dir, prefix + "-images-idx3-ubyte");
  const std::string label_file = findSplitFile(dir, prefix + "-labels-idx1-ubyte");
  auto image_bytes = readMaybeGzipped(image_file);
  auto label_bytes = readMaybeGzipped(label_file);
  hash.add(image_bytes);
  hash.add(label_bytes);
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
  split.x = torch::from_blob(images.data.data(), shape, torch::kUInt8).clone();
  split.y = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
  return split;
}

RawDataset readIdxDataset(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw DataError(dir, "dataset directory not found (data.path)");
  if (!fs::is_directory(dir, ec)) throw DataError(dir, "expected a directory holding the IDX files (data.path)");
  RawDataset d;
  ContentHash hash;
  d.train = readIdxSplit(dir, "train", hash);
  d.test = readIdxSplit(dir, "t10k", hash);
  if (d.train.x.sizes().slice(1) != d.test.x.sizes().slice(1))
    throw DataError(dir, "train and test images have different shapes");
  d.num_classes = 10;
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  d.content_hash = hash.text();
  return d;
}

// ---- splitting ------------------------------------------------------------------------

RawSplit take(const RawSplit& s, const torch::Tensor& idx) {
  return {s.x.index_select(0, idx), s.y.index_select(0, idx)};
}

RawSplit prefix(const RawSplit& s, int64_t n) { return {s.x.slice(0, 0, n), s.y.slice(0, 0, n)}; }

// A fixed shuffle for image folders and CSV files, which list samples grouped or
// sorted by class: limits then take a mix of classes, and a carved-out test split
// is the same for every run.
constexpr uint64_t kFixedSplitSeed = 0xd15711e7ull;

RawDataset readRaw(const DataConfig& config) {
  if (config.dataset == "cifar10") return readCifar10(config.path);
  if (config.dataset == "cifar100") return readCifar100(config.path, config.labels == "coarse");
  if (config.dataset == "image-folder") return readImageFolder(config.path, config.image_size, config.channels);
  if (config.dataset == "csv") {
    CsvFormat format;
    format.separator = config.separator == "auto" ? char(0) : config.separator.at(0);
    format.header = config.header;
    return readCsvDataset(config.path, {config.label_column, config.label_index}, format);
  }
  return readIdxDataset(config.path); // fashion-mnist, mnist, idx
}

} // namespace

std::vector<double> Dataset::paddingFill() const {
  std::vector<double> fill;
  for (size_t c = 0; c < normalisation.mean.size(); ++c) fill.push_back(-normalisation.mean[c] / normalisation.std[c]);
  return fill;
}

nlohmann::json Dataset::summaryJson() const {
  nlohmann::json j;
  j["dataset"] = name;
  j["path"] = path;
  j["hash"] = content_hash;
  j["input_shape"] = {shape.channels, shape.height, shape.width};
  j["num_classes"] = num_classes;
  j["class_names"] = class_names;
  j["sizes"] = {{"train", train.size()}, {"val", val.size()}, {"test", test.size()}};
  j["preprocessing"] = {{"divide_by", normalisation.divide_by}, {"mean", normalisation.mean}, {"std", normalisation.std}};
  if (augment.any())
    j["augment"] = {{"random_crop_padding", augment.random_crop_padding}, {"horizontal_flip", augment.horizontal_flip}};
  if (!skipped.empty()) j["skipped"] = skippedJson(skipped);
  return j;
}

Dataset loadDataset(const DataConfig& config, uint64_t seed) {
  RawDataset raw = readRaw(config);
  const bool own_shuffle = config.dataset == "image-folder" || config.dataset == "csv";

  RawSplit pool = raw.train;
  RawSplit test = raw.test;
  if (own_shuffle) {
    auto fixed = at::make_generator<at::CPUGeneratorImpl>(kFixedSplitSeed);
    const int64_t n = pool.size();
    pool = take(pool, torch::randperm(n, fixed, torch::kLong));
    if (!test.present()) {
      const int64_t n_test = std::max<int64_t>(1, std::llround(config.test_fraction * double(n)));
      if (n_test >= n)
        throw DataError(config.path, "holds only " + std::to_string(n) +
                                         " samples: too few to hold out a test split (data.test_fraction)");
      test = {pool.x.slice(0, n - n_test), pool.y.slice(0, n - n_test)};
      pool = prefix(pool, n - n_test);
    }
  }

  int64_t n = pool.size();
  if (config.train_limit > 0 && config.train_limit < n) n = config.train_limit;
  pool = prefix(pool, n);

  // Statistics for mean/std "train" come from this pool, before the seeded
  // validation split, so runs with other seeds (and a teacher trained with
  // another seed) see identically normalised inputs.
  const torch::Tensor stats_source = pool.x;

  RawSplit train, val;
  if (raw.val.present()) {
    train = pool;
    val = raw.val;
  } else {
    const int64_t n_val = config.val_fraction ? std::llround(*config.val_fraction * double(n)) : config.val_size;
    const std::string field = config.val_fraction ? "data.val_fraction" : "data.val_size";
    if (n_val >= n)
      throw ConfigError(field, std::to_string(n_val) + " validation samples leave no training samples out of " +
                                   std::to_string(n));
    // The validation split is a seeded random subset of the (limited) training set.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x5eed5eedull);
    auto perm = torch::randperm(n, gen, torch::kLong);
    train = take(pool, perm.slice(0, 0, n - n_val));
    val = take(pool, perm.slice(0, n - n_val, n));
  }
  int64_t nt = test.size();
  if (config.test_limit > 0 && config.test_limit < nt) nt = config.test_limit;
  test = prefix(test, nt);

  Dataset d;
  d.name = config.dataset;
  d.path = config.path;
  if (train.x.dim() == 2) {
    d.shape = {1, 1, train.x.size(1)};
  } else {
    d.shape = {train.x.size(1), train.x.size(2), train.x.size(3)};
  }
  const int64_t channels = train.x.size(1); // colour channels, or the table's features
  d.num_classes = raw.num_classes;
  d.class_names = raw.class_names;
  d.content_hash = raw.content_hash;
  d.skipped = raw.skipped;
  d.normalisation = resolveNormalisation(config, stats_source, channels);
  d.augment = config.augment;
  if (d.augment.any() && train.x.dim() != 4)
    throw ConfigError("data.augment", "image augmentations need image data, not a table");
  if (d.augment.random_crop_padding > std::min(d.shape.height, d.shape.width))
    throw ConfigError("data.augment.random_crop_padding",
                      std::to_string(d.augment.random_crop_padding) + " pixels is more than the images' size " +
                          std::to_string(d.shape.height) + "x" + std::to_string(d.shape.width));
  d.train = {normalise(train.x, d.normalisation).contiguous(), train.y.contiguous()};
  d.val = {normalise(val.x, d.normalisation).contiguous(), val.y.contiguous()};
  d.test = {normalise(test.x, d.normalisation).contiguous(), test.y.contiguous()};
  return d;
}

} // namespace distillery
