#pragma once
// The dataset formats, one table entry each: everything about a format that
// needs no LibTorch. Config parsing (core/config/data_config.h), the data probe
// (data_probe.h), loadDataset (dataset.h) and the New Run dialog read this
// table instead of matching format names. Each entry's reader, which needs
// LibTorch, is in the table of dataset_readers.h under the same name.
#include "core/config/config_reader.h"
#include "core/config/data_config.h"
#include "core/data/data_probe.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct DatasetFormat {
  std::string name;        // data.dataset
  std::string summary;     // one line on what the files are (the dialog's tooltip)
  std::string path_hint;   // what data.path must hold: the error when it is empty, the dialog's path tooltip
  std::string default_path; // "" : data.path is required

  // Rows of numeric features [N, F] instead of images [N, C, H, W]: no image augmentations.
  bool table = false;
  // What every dataset of the format has; 0 where the files or the format's keys tell.
  int64_t channels = 0, height = 0, width = 0, classes = 0, train_samples = 0;
  // The classes' names where the format fixes them (label i is class_names[i]);
  // empty where the files tell them or there are none (then the label index).
  std::vector<std::string> class_names;

  // Default preprocessing, x = (raw / divide_by - mean[c]) / std[c]. An empty
  // mean: no usual values exist, statistics of the training split are used ("train").
  double divide_by = 255.0;
  std::vector<double> mean, std;
  // Default validation split as a fraction of the training set; unset: data.val_size.
  std::optional<double> val_fraction;

  // The files always hold a test split. When false (files grouped by class,
  // perhaps without a test split) loadDataset shuffles them with a fixed seed and
  // holds out data.test_fraction as the test split when the files have none.
  bool own_test_split = true;

  // Keys under "data" that this format reads besides the common ones, read by
  // read_keys and written by write_keys. Another format's key is refused by name.
  std::vector<std::string> keys;
  void (*read_keys)(ConfigReader& r, const nlohmann::json& data, DataConfig& config) = nullptr;
  void (*write_keys)(const DataConfig& config, nlohmann::json& data) = nullptr;
  // What the keys tell of the samples (an image folder's size, cifar100's label set).
  void (*shape_from_keys)(const DataConfig& config, DataProbe& probe) = nullptr;
  // A cheap look at the files (data_probe.h): problem, and what the files tell of shape and size.
  void (*probe_files)(const DataConfig& config, DataProbe& probe) = nullptr;
};

// Every format, in the order the dialog lists them; names are unique.
const std::vector<DatasetFormat>& datasetFormats();
const DatasetFormat* findDatasetFormat(const std::string& name);
std::vector<std::string> datasetFormatNames();

// Every key "data" accepts with this format: the common ones, test_fraction
// when the format holds out a test split, augment for images, and its own keys.
std::vector<std::string> allowedDataKeys(const DatasetFormat& format);

// What the config alone tells of the samples: the format's fixed shape, refined
// by its keys. Zero where only the files can tell.
DataProbe shapeFromConfig(const DataConfig& config);

} // namespace distillery
