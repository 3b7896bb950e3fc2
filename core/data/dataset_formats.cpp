#include "core/data/dataset_formats.h"

#include "core/base/errors.h"

#include <algorithm>

namespace distillery {

namespace {

// ---- keys of one format each ----------------------------------------------------------

void readCifar100Keys(ConfigReader& r, const nlohmann::json&, DataConfig& d) {
  d.labels = r.oneOf("labels", d.labels, {"fine", "coarse"});
}
void writeCifar100Keys(const DataConfig& d, nlohmann::json& j) { j["labels"] = d.labels; }
void cifar100Shape(const DataConfig& d, DataProbe& p) { p.classes = d.labels == "coarse" ? 20 : 100; }

void readImageFolderKeys(ConfigReader& r, const nlohmann::json&, DataConfig& d) {
  d.image_size = r.integer("image_size", d.image_size, 1, 4096);
  d.channels = r.integer("channels", d.channels, 1, 3);
  if (d.channels == 2) throw ConfigError(r.field("channels"), "expected 1 (grey) or 3 (RGB)");
}
void writeImageFolderKeys(const DataConfig& d, nlohmann::json& j) {
  j["image_size"] = d.image_size;
  j["channels"] = d.channels;
}
void imageFolderShape(const DataConfig& d, DataProbe& p) {
  p.channels = d.channels;
  p.height = p.width = d.image_size;
}

// csv: separator, header, and the label column by name or by index.
void readCsvKeys(ConfigReader& r, const nlohmann::json& json, DataConfig& d) {
  d.separator = r.string("separator", d.separator);
  if (d.separator == "tab") d.separator = "\t";
  if (!(d.separator == "," || d.separator == ";" || d.separator == "\t" || d.separator == "|" || d.separator == "auto"))
    throw ConfigError(r.field("separator"), "unknown separator \"" + d.separator +
                                                "\"; allowed: \",\", \";\", \"\\t\" (or \"tab\"), \"|\", \"auto\"");
  d.header = r.boolean("header", d.header);
  const std::string field = r.field("label_column");
  const std::string required = "required for dataset \"" + d.dataset +
                               "\": the column holding the class, by name (\"species\") or "
                               "by 0-based index (0: the first column, -1: the last)";
  if (!r.has("label_column")) throw ConfigError(field, required);
  const nlohmann::json& label = json.at("label_column");
  if (label.is_number_integer()) {
    d.label_index = r.integer("label_column", 0, -(int64_t(1) << 20), int64_t(1) << 20);
    d.label_column.clear();
  } else if (label.is_string()) {
    d.label_column = r.string("label_column", "");
    if (d.label_column.empty()) throw ConfigError(field, required);
    if (!d.header)
      throw ConfigError(field, "a file without a header row (data.header false) has no column names: "
                               "give the label column's 0-based index, e.g. 0 or -1 for the last");
  } else {
    throw ConfigError(field, "expected a column name or a 0-based column index, got " + jsonTypeName(label));
  }
}
void writeCsvKeys(const DataConfig& d, nlohmann::json& j) {
  j["label_column"] = d.label_index ? nlohmann::json(*d.label_index) : nlohmann::json(d.label_column);
  j["separator"] = d.separator;
  j["header"] = d.header;
}

// ---- the table ------------------------------------------------------------------------

// MNIST and its kin: the four IDX files, 28x28 grey images of 10 classes.
DatasetFormat idxDigits(const std::string& name, const std::string& title, const std::string& path, double mean,
                        double std) {
  DatasetFormat f;
  f.name = name;
  f.summary = title + ": the four IDX files (train-/t10k-images/labels), gzipped or raw";
  f.path_hint = "expected a directory holding the IDX files";
  f.default_path = path;
  f.channels = 1;
  f.height = f.width = 28;
  f.classes = 10;
  f.mean = {mean};
  f.std = {std};
  f.probe_files = probeIdxFiles;
  return f;
}

std::vector<DatasetFormat> buildFormats() {
  std::vector<DatasetFormat> t;
  t.push_back(idxDigits("fashion-mnist", "Fashion-MNIST", "/usr/share/datasets/fashion-mnist", 0.2860, 0.3530));
  t.back().class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  t.push_back(idxDigits("mnist", "MNIST", "/usr/share/datasets/mnist", 0.1307, 0.3081));
  t.back().class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; // the digits themselves
  {
    // Any IDX files of that layout; the reader takes labels 0..9. The path and
    // statistics default to Fashion-MNIST's, as DataConfig's do.
    DatasetFormat f = idxDigits("idx", "IDX files", DataConfig{}.path, DataConfig{}.mean[0], DataConfig{}.std[0]);
    f.summary = "IDX files of another dataset (train-/t10k-images/labels, labels 0..9); shape from the header";
    f.channels = f.height = f.width = 0;
    t.push_back(f);
  }
  {
    DatasetFormat f;
    f.name = "cifar10";
    f.summary = "CIFAR-10, binary version: data_batch_1..5.bin and test_batch.bin";
    f.path_hint = "required: the folder holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin";
    f.channels = 3;
    f.height = f.width = 32;
    f.classes = 10;
    f.train_samples = 50000;
    f.mean = {0.4914, 0.4822, 0.4465};
    f.std = {0.2470, 0.2435, 0.2616};
    f.probe_files = probeCifar10Files;
    t.push_back(f);
  }
  {
    DatasetFormat f;
    f.name = "cifar100";
    f.summary = "CIFAR-100, binary version: train.bin and test.bin; fine (100) or coarse (20) labels";
    f.path_hint = "required: the folder holding train.bin and test.bin";
    f.channels = 3;
    f.height = f.width = 32;
    f.classes = 100;
    f.train_samples = 50000;
    f.mean = {0.5071, 0.4865, 0.4409};
    f.std = {0.2673, 0.2564, 0.2762};
    f.keys = {"labels"};
    f.read_keys = readCifar100Keys;
    f.write_keys = writeCifar100Keys;
    f.shape_from_keys = cifar100Shape;
    f.probe_files = probeCifar100Files;
    t.push_back(f);
  }
  {
    // No usual values exist for a user's own data: its training split provides them.
    DatasetFormat f;
    f.name = "image-folder";
    f.summary = "Images (PNG, JPEG) in one subfolder per class, or in train/ (and optional val/, test/)";
    f.path_hint = "required: a folder with one subfolder per class, or with train/ (and optional val/, test/) holding them";
    f.val_fraction = 0.1;
    f.own_test_split = false;
    f.keys = {"image_size", "channels"};
    f.read_keys = readImageFolderKeys;
    f.write_keys = writeImageFolderKeys;
    f.shape_from_keys = imageFolderShape;
    f.probe_files = probeImageFolderFiles;
    t.push_back(f);
  }
  {
    DatasetFormat f;
    f.name = "csv";
    f.summary = "A table of numeric features and a label column: one CSV file, or train.csv (and optional val.csv, test.csv)";
    f.path_hint = "required: a CSV file, or a folder holding train.csv (and optional val.csv, test.csv)";
    f.table = true;
    f.divide_by = 1.0;
    f.val_fraction = 0.1;
    f.own_test_split = false;
    f.keys = {"label_column", "separator", "header"};
    f.read_keys = readCsvKeys;
    f.write_keys = writeCsvKeys;
    f.probe_files = probeCsvFiles;
    t.push_back(f);
  }
  return t;
}

} // namespace

const std::vector<DatasetFormat>& datasetFormats() {
  static const std::vector<DatasetFormat> formats = buildFormats();
  return formats;
}

const DatasetFormat* findDatasetFormat(const std::string& name) {
  for (const DatasetFormat& f : datasetFormats())
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> datasetFormatNames() {
  std::vector<std::string> names;
  for (const DatasetFormat& f : datasetFormats()) names.push_back(f.name);
  return names;
}

std::vector<std::string> allowedDataKeys(const DatasetFormat& format) {
  std::vector<std::string> keys = {"dataset", "path", "train_limit", "val_size", "val_fraction",
                                   "test_limit", "divide_by", "mean", "std"};
  if (!format.own_test_split) keys.push_back("test_fraction");
  if (!format.table) keys.push_back("augment");
  keys.insert(keys.end(), format.keys.begin(), format.keys.end());
  return keys;
}

DataProbe shapeFromConfig(const DataConfig& config) {
  DataProbe p;
  const DatasetFormat* f = findDatasetFormat(config.dataset);
  if (!f) return p;
  p.channels = f->channels;
  p.height = f->height;
  p.width = f->width;
  p.classes = f->classes;
  p.train_samples = f->train_samples;
  if (f->shape_from_keys) f->shape_from_keys(config, p);
  return p;
}

} // namespace distillery
