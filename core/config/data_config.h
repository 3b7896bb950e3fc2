#pragma once
// The "data" object of a run config: which dataset format, where its files
// are, the splits and the preprocessing. The formats themselves (names, shapes,
// default normalisation, the keys each one reads) are the table of
// core/data/dataset_formats.h; parsing here follows that table.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

// Random image augmentations, drawn per training batch from the run's seed;
// validation and test data are never augmented.
struct AugmentConfig {
  int random_crop_padding = 0;  // pad by this many pixels, then crop back at a random offset
  bool horizontal_flip = false; // mirror left-right with probability 1/2
  bool any() const { return random_crop_padding > 0 || horizontal_flip; }
};

struct DataConfig {
  // A name of datasetFormats() (core/data/dataset_formats.h). Known datasets, with
  // default path, channels and normalisation: "fashion-mnist" | "mnist" (IDX files) |
  // "cifar10" | "cifar100" (binary distribution); generic formats: "idx" |
  // "image-folder" (one subfolder per class) | "csv".
  std::string dataset = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  int64_t train_limit = 0; // 0: all training samples
  int64_t val_size = 5000;
  // When set, the validation split is this fraction of the training set instead of val_size
  // (the default for image-folder and csv).
  std::optional<double> val_fraction;
  double test_fraction = 0.2; // formats whose files may lack a test split: held out with a fixed seed
  int64_t test_limit = 0;     // 0: all test samples
  // Preprocessing: x = (raw / divide_by - mean[c]) / std[c], per channel c (per feature for csv).
  double divide_by = 255.0;
  std::vector<double> mean{0.2860}; // one value for every channel, or one per channel
  std::vector<double> std{0.3530};
  bool stats_from_train = false;    // "mean"/"std": "train": computed on the training samples
  AugmentConfig augment;            // images only
  // Keys of one format each (DatasetFormat::keys):
  std::string labels = "fine";      // cifar100: "fine" (100 classes) | "coarse" (20)
  int64_t image_size = 32;          // image-folder: every image is resized to this square size
  int64_t channels = 3;             // image-folder: 1 (grey) | 3 (RGB)
  std::string label_column;         // csv: the column holding the class, by name...
  std::optional<int64_t> label_index; // ...or by 0-based index (negative: from the end); then label_column is ""
  std::string separator = ",";      // csv: "," | ";" | "\t" | "|" | "auto" (sniffed from the first row)
  bool header = true;               // csv: false: no header row, label_column must be an index

  // Training inputs are random (per batch), so teacher outputs on them cannot be cached.
  bool hasAugmentation() const { return augment.any(); }
};

// The defaults dataConfigFromJson starts from for data.dataset (path,
// normalisation, validation split, from the format's table entry); a view that
// switches the dataset starts from these too, since a config's stored mean/std
// otherwise stay those of the old dataset. An unknown name gives DataConfig{}
// with that name.
DataConfig defaultDataConfig(const std::string& dataset);

// Reads a "data" object; field names it in errors ("data", "transfer.data"),
// e.g. "data.labels: only used with dataset \"cifar100\"".
DataConfig dataConfigFromJson(const nlohmann::json& json, const std::string& field = "data");
nlohmann::json toJson(const DataConfig& data);

} // namespace distillery
