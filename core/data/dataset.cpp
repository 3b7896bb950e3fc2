#include "core/data/dataset.h"

#include "core/base/errors.h"
#include "core/data/dataset_formats.h"
#include "core/data/dataset_readers.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace distillery {

namespace {

// ---- splitting ------------------------------------------------------------------------

RawSplit take(const RawSplit& s, const torch::Tensor& idx) {
  return {s.x.index_select(0, idx), s.y.index_select(0, idx)};
}

RawSplit prefix(const RawSplit& s, int64_t n) { return {s.x.slice(0, 0, n), s.y.slice(0, 0, n)}; }

// A fixed shuffle for the formats without a test split of their own (image
// folders, CSV files), which list samples grouped or sorted by class: limits
// then take a mix of classes, and a carved-out test split is the same for every run.
constexpr uint64_t kFixedSplitSeed = 0xd15711e7ull;

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
  const DatasetFormat* format = findDatasetFormat(config.dataset);
  const DatasetReader read = findDatasetReader(config.dataset);
  if (!format || !read) // a config from fromJson names a format with a reader (tst_data checks every entry)
    throw ConfigError("data.dataset", "no reader for dataset format \"" + config.dataset + "\"");
  RawDataset raw = read(config);
  const bool own_shuffle = !format->own_test_split;

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
  // The reader knows labels only; the format table names them where the format fixes them.
  if (format && int64_t(format->class_names.size()) == d.num_classes) d.class_names = format->class_names;
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
