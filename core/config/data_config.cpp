#include "core/config/data_config.h"

#include "core/base/errors.h"
#include "core/config/config_reader.h"
#include "core/data/dataset_formats.h"

#include <algorithm>
#include <cmath>

namespace distillery {

namespace {

// mean/std: a number, or a list with one number per channel (per feature for csv).
std::vector<double> readChannelValues(const nlohmann::json& v, const std::string& field, double min,
                                      int64_t channels) {
  std::vector<double> out;
  if (v.is_number()) {
    out.push_back(v.get<double>());
  } else if (v.is_array() && !v.empty()) {
    for (const auto& e : v) {
      if (!e.is_number()) throw ConfigError(field, "expected numbers, got " + jsonTypeName(e) + " in the list");
      out.push_back(e.get<double>());
    }
  } else {
    throw ConfigError(field, "expected a number, a list with one number per channel, or \"train\"; got " +
                                 (v.is_array() ? std::string("an empty list") : jsonTypeName(v)));
  }
  for (double x : out)
    if (!std::isfinite(x) || x < min || x > 1e6)
      throw ConfigError(field, "value " + std::to_string(x) + " is out of range [" + std::to_string(min) + ", 1e6]");
  if (channels > 0 && out.size() != 1 && int64_t(out.size()) != channels)
    throw ConfigError(field, "has " + std::to_string(out.size()) + " values; dataset has " + std::to_string(channels) +
                                 " channel" + (channels == 1 ? "" : "s") + " (give 1 value or " +
                                 std::to_string(channels) + ")");
  return out;
}

nlohmann::json channelValuesJson(const std::vector<double>& v) {
  if (v.size() == 1) return v[0];
  return v;
}

// `dataset "cifar100"`, `datasets "image-folder" and "csv"`: the formats that
// read a key, for the message refusing it elsewhere.
std::string formatsText(const std::vector<std::string>& names) {
  std::string s = names.size() == 1 ? "dataset " : "datasets ";
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + ("\"" + names[i] + "\"");
  return s;
}

// A key of some formats but not of this one: refused by name, saying which formats read it.
void refuseOtherFormatsKeys(ConfigReader& r, const DatasetFormat& format) {
  std::vector<std::string> checked;
  auto refuse = [&](const std::string& key, const std::vector<std::string>& readers) {
    if (!r.has(key) || std::count(readers.begin(), readers.end(), format.name)) return;
    throw ConfigError(r.field(key), "only used with " + formatsText(readers) + "; data.dataset is \"" +
                                        format.name + "\"");
  };
  for (const DatasetFormat& other : datasetFormats())
    for (const std::string& key : other.keys) {
      if (std::count(checked.begin(), checked.end(), key)) continue;
      checked.push_back(key);
      std::vector<std::string> readers;
      for (const DatasetFormat& f : datasetFormats())
        if (std::count(f.keys.begin(), f.keys.end(), key)) readers.push_back(f.name);
      refuse(key, readers);
    }
  std::vector<std::string> holding_out;
  for (const DatasetFormat& f : datasetFormats())
    if (!f.own_test_split) holding_out.push_back(f.name);
  refuse("test_fraction", holding_out);
  if (format.table && r.has("augment"))
    throw ConfigError(r.field("augment"), "image augmentations do not apply to dataset \"" + format.name + "\"");
}

} // namespace

DataConfig defaultDataConfig(const std::string& dataset) {
  DataConfig d;
  d.dataset = dataset;
  const DatasetFormat* f = findDatasetFormat(dataset);
  if (!f) return d;
  // Each known dataset's usual normalisation, so imported teachers see their inputs.
  d.path = f->default_path;
  d.divide_by = f->divide_by;
  d.mean = f->mean;
  d.std = f->std;
  d.stats_from_train = f->mean.empty();
  d.val_fraction = f->val_fraction;
  return d;
}

DataConfig dataConfigFromJson(const nlohmann::json& json, const std::string& field) {
  ConfigReader r(json, field);
  const DatasetFormat* format = findDatasetFormat(r.oneOf("dataset", DataConfig{}.dataset, datasetFormatNames()));
  DataConfig d = defaultDataConfig(format->name);
  refuseOtherFormatsKeys(r, *format);

  d.path = r.string("path", d.path);
  if (d.path.empty()) throw ConfigError(r.field("path"), format->path_hint);
  d.train_limit = r.integer("train_limit", d.train_limit, 0, int64_t(1) << 40);
  if (r.has("val_size") && r.has("val_fraction"))
    throw ConfigError(r.field("val_fraction"), "give either val_size or val_fraction, not both");
  if (r.has("val_fraction")) d.val_fraction = r.number("val_fraction", 0.1, 0.0, 0.99);
  else if (r.has("val_size")) d.val_fraction.reset();
  d.val_size = r.integer("val_size", d.val_size, 0, int64_t(1) << 40);
  r.accept("val_fraction");
  d.test_limit = r.integer("test_limit", d.test_limit, 0, int64_t(1) << 40);
  if (!format->own_test_split) d.test_fraction = r.number("test_fraction", d.test_fraction, 0.001, 0.99);
  if (format->read_keys) format->read_keys(r, json, d);

  d.divide_by = r.number("divide_by", d.divide_by, 1e-12, 1e12);
  // mean/std: both numbers (lists) or both "train"; an omitted one keeps the dataset's default.
  auto isTrain = [](const nlohmann::json& v) { return v.is_string() && v.get<std::string>() == "train"; };
  const bool mean_train = r.has("mean") ? isTrain(json.at("mean")) : d.stats_from_train;
  const bool std_train = r.has("std") ? isTrain(json.at("std")) : d.stats_from_train;
  if (mean_train != std_train)
    throw ConfigError(r.field(r.has("std") && !r.has("mean") ? "mean" : "std"),
                      "mean and std are either both \"train\" (computed on the training split) or both given");
  r.accept("mean");
  r.accept("std");
  d.stats_from_train = mean_train;
  if (d.stats_from_train) {
    d.mean.clear();
    d.std.clear();
  } else {
    const int64_t channels = shapeFromConfig(d).channels; // 0 when only the files can tell (idx, csv)
    if (r.has("mean")) d.mean = readChannelValues(json.at("mean"), r.field("mean"), -1e6, channels);
    if (r.has("std")) d.std = readChannelValues(json.at("std"), r.field("std"), 1e-9, channels);
  }

  if (r.has("augment")) {
    ConfigReader a(r.object("augment"), r.field("augment"));
    d.augment.random_crop_padding = int(a.integer("random_crop_padding", 0, 0, 1024));
    d.augment.horizontal_flip = a.boolean("horizontal_flip", false);
    a.finish();
  }
  if (!format->table) r.accept("augment"); // tables were refused it above; an unknown key's message omits it
  r.finish();
  return d;
}

nlohmann::json toJson(const DataConfig& d) {
  nlohmann::json j = {{"dataset", d.dataset}, {"path", d.path}, {"train_limit", d.train_limit},
                      {"test_limit", d.test_limit}, {"divide_by", d.divide_by}};
  if (d.val_fraction) j["val_fraction"] = *d.val_fraction;
  else j["val_size"] = d.val_size;
  const DatasetFormat* format = findDatasetFormat(d.dataset);
  if (format && !format->own_test_split) j["test_fraction"] = d.test_fraction;
  j["mean"] = d.stats_from_train ? nlohmann::json("train") : channelValuesJson(d.mean);
  j["std"] = d.stats_from_train ? nlohmann::json("train") : channelValuesJson(d.std);
  if (d.augment.any())
    j["augment"] = {{"random_crop_padding", d.augment.random_crop_padding},
                    {"horizontal_flip", d.augment.horizontal_flip}};
  if (format && format->write_keys) format->write_keys(d, j);
  return j;
}

} // namespace distillery
