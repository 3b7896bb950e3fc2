#include "core/config/run_config.h"

#include "core/config/config_reader.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"
#include "core/config/zoo_name.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace distillery {

namespace {

OptimConfig readOptim(const nlohmann::json& json, const std::string& path) {
  ConfigReader r(json, path);
  OptimConfig o;
  o.name = r.oneOf("name", o.name, {"adam", "sgd"});
  o.lr = r.number("lr", o.lr, 1e-9, 10.0);
  o.momentum = r.number("momentum", o.momentum, 0.0, 0.999999);
  o.weight_decay = r.number("weight_decay", o.weight_decay, 0.0, 1.0);
  o.schedule = r.oneOf("schedule", o.schedule, {"constant", "cosine"});
  r.finish();
  return o;
}

nlohmann::json optimJson(const OptimConfig& o) {
  nlohmann::json j = {{"name", o.name}, {"lr", o.lr}, {"weight_decay", o.weight_decay}, {"schedule", o.schedule}};
  if (o.name == "sgd") j["momentum"] = o.momentum;
  return j;
}

void readModelInto(ConfigReader& r, ModelSpec& spec) {
  if (r.has("torchscript")) {
    if (r.has("zoo"))
      throw ConfigError(r.field("zoo"), "give either \"zoo\" or \"torchscript\", not both");
    spec.zoo = "torchscript";
    spec.torchscript = r.string("torchscript", "");
    if (spec.torchscript.empty())
      throw ConfigError(r.field("torchscript"), "expected the path of a TorchScript file (.pt)");
    return;
  }
  spec.zoo = r.string("zoo", "");
  const ZooArch arch = parseZooName(spec.zoo, r.field("zoo"));
  if (arch.family == ZooArch::Family::Mlp) {
    spec.hidden = r.intList("hidden", {128}, 1, 1 << 16);
  } else if (arch.family == ZooArch::Family::Cnn) {
    spec.channels = r.intList("channels", {32, 64}, 1, 4096);
    if (spec.channels.empty()) throw ConfigError(r.field("channels"), "expected at least one conv block");
    spec.fc = int(r.integer("fc", 256, 1, 1 << 16));
  } else if (arch.family == ZooArch::Family::MobileNetV2) {
    spec.width = r.number("width", ModelSpec{}.width, 0.1, 4.0);
  }
  // The other families take no fields beyond their name.
}

// ---- data (DataConfig) ---------------------------------------------------------------

// Channels known from the config alone; 0 when only the files can tell (idx, csv).
int64_t configuredChannels(const DataConfig& d) {
  if (d.dataset == "fashion-mnist" || d.dataset == "mnist") return 1;
  if (d.dataset == "cifar10" || d.dataset == "cifar100") return 3;
  if (d.dataset == "image-folder") return d.channels;
  return 0;
}

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

// csv: separator, header, and the label column by name or by index.
void readCsvKeys(ConfigReader& r, const nlohmann::json& json, DataConfig& d) {
  d.separator = r.string("separator", d.separator);
  if (d.separator == "tab") d.separator = "\t";
  if (!(d.separator == "," || d.separator == ";" || d.separator == "\t" || d.separator == "|" || d.separator == "auto"))
    throw ConfigError("data.separator", "unknown separator \"" + d.separator +
                                            "\"; allowed: \",\", \";\", \"\\t\" (or \"tab\"), \"|\", \"auto\"");
  d.header = r.boolean("header", d.header);
  const std::string required = "required for dataset \"csv\": the column holding the class, by name (\"species\") or "
                               "by 0-based index (0: the first column, -1: the last)";
  if (!r.has("label_column")) throw ConfigError("data.label_column", required);
  const nlohmann::json& label = json.at("label_column");
  if (label.is_number_integer()) {
    d.label_index = r.integer("label_column", 0, -(int64_t(1) << 20), int64_t(1) << 20);
    d.label_column.clear();
  } else if (label.is_string()) {
    d.label_column = r.string("label_column", "");
    if (d.label_column.empty()) throw ConfigError("data.label_column", required);
    if (!d.header)
      throw ConfigError("data.label_column", "a file without a header row (data.header false) has no column names: "
                                             "give the label column's 0-based index, e.g. 0 or -1 for the last");
  } else {
    throw ConfigError("data.label_column", "expected a column name or a 0-based column index, got " + jsonTypeName(label));
  }
}

DataConfig readData(const nlohmann::json& json) {
  ConfigReader r(json, "data");
  DataConfig d = defaultDataConfig(r.oneOf(
      "dataset", DataConfig{}.dataset, {"fashion-mnist", "mnist", "idx", "cifar10", "cifar100", "image-folder", "csv"}));
  const bool generic = d.dataset == "image-folder" || d.dataset == "csv";
  auto onlyFor = [&](const char* key, bool allowed, const char* which) {
    if (r.has(key) && !allowed)
      throw ConfigError(r.field(key), std::string("only used with ") + which + "; data.dataset is \"" + d.dataset + "\"");
  };
  onlyFor("labels", d.dataset == "cifar100", "dataset \"cifar100\"");
  onlyFor("image_size", d.dataset == "image-folder", "dataset \"image-folder\"");
  onlyFor("channels", d.dataset == "image-folder", "dataset \"image-folder\"");
  onlyFor("label_column", d.dataset == "csv", "dataset \"csv\"");
  onlyFor("separator", d.dataset == "csv", "dataset \"csv\"");
  onlyFor("header", d.dataset == "csv", "dataset \"csv\"");
  onlyFor("test_fraction", generic, "datasets \"image-folder\" and \"csv\"");
  if (d.dataset == "csv" && r.has("augment"))
    throw ConfigError("data.augment", "image augmentations do not apply to dataset \"csv\"");

  d.path = r.string("path", d.path);
  if (d.path.empty()) {
    std::string what = "expected a directory holding the IDX files";
    if (d.dataset == "cifar10") what = "required: the folder holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin";
    if (d.dataset == "cifar100") what = "required: the folder holding train.bin and test.bin";
    if (d.dataset == "image-folder")
      what = "required: a folder with one subfolder per class, or with train/ (and optional val/, test/) holding them";
    if (d.dataset == "csv") what = "required: a CSV file, or a folder holding train.csv (and optional val.csv, test.csv)";
    throw ConfigError("data.path", what);
  }
  d.train_limit = r.integer("train_limit", d.train_limit, 0, int64_t(1) << 40);
  if (r.has("val_size") && r.has("val_fraction"))
    throw ConfigError("data.val_fraction", "give either val_size or val_fraction, not both");
  if (r.has("val_fraction")) d.val_fraction = r.number("val_fraction", 0.1, 0.0, 0.99);
  else if (r.has("val_size")) d.val_fraction.reset();
  d.val_size = r.integer("val_size", d.val_size, 0, int64_t(1) << 40);
  r.accept("val_fraction");
  d.test_limit = r.integer("test_limit", d.test_limit, 0, int64_t(1) << 40);
  if (generic) d.test_fraction = r.number("test_fraction", d.test_fraction, 0.001, 0.99);

  if (d.dataset == "cifar100") d.labels = r.oneOf("labels", d.labels, {"fine", "coarse"});
  if (d.dataset == "image-folder") {
    d.image_size = r.integer("image_size", d.image_size, 1, 4096);
    d.channels = r.integer("channels", d.channels, 1, 3);
    if (d.channels == 2) throw ConfigError("data.channels", "expected 1 (grey) or 3 (RGB)");
  }
  if (d.dataset == "csv") readCsvKeys(r, json, d);

  d.divide_by = r.number("divide_by", d.divide_by, 1e-12, 1e12);
  // mean/std: both numbers (lists) or both "train"; an omitted one keeps the dataset's default.
  auto isTrain = [](const nlohmann::json& v) { return v.is_string() && v.get<std::string>() == "train"; };
  const bool mean_train = r.has("mean") ? isTrain(json.at("mean")) : d.stats_from_train;
  const bool std_train = r.has("std") ? isTrain(json.at("std")) : d.stats_from_train;
  if (mean_train != std_train)
    throw ConfigError(r.has("std") && !r.has("mean") ? "data.mean" : "data.std",
                      "mean and std are either both \"train\" (computed on the training split) or both given");
  r.accept("mean");
  r.accept("std");
  d.stats_from_train = mean_train;
  if (d.stats_from_train) {
    d.mean.clear();
    d.std.clear();
  } else {
    const int64_t channels = configuredChannels(d);
    if (r.has("mean")) d.mean = readChannelValues(json.at("mean"), "data.mean", -1e6, channels);
    if (r.has("std")) d.std = readChannelValues(json.at("std"), "data.std", 1e-9, channels);
  }

  if (r.has("augment")) {
    ConfigReader a(r.object("augment"), "data.augment");
    d.augment.random_crop_padding = int(a.integer("random_crop_padding", 0, 0, 1024));
    d.augment.horizontal_flip = a.boolean("horizontal_flip", false);
    a.finish();
  }
  r.accept("augment");
  r.finish();
  return d;
}

nlohmann::json dataJson(const DataConfig& d) {
  nlohmann::json j = {{"dataset", d.dataset}, {"path", d.path}, {"train_limit", d.train_limit},
                      {"test_limit", d.test_limit}, {"divide_by", d.divide_by}};
  if (d.val_fraction) j["val_fraction"] = *d.val_fraction;
  else j["val_size"] = d.val_size;
  if (d.dataset == "image-folder" || d.dataset == "csv") j["test_fraction"] = d.test_fraction;
  j["mean"] = d.stats_from_train ? nlohmann::json("train") : channelValuesJson(d.mean);
  j["std"] = d.stats_from_train ? nlohmann::json("train") : channelValuesJson(d.std);
  if (d.augment.any())
    j["augment"] = {{"random_crop_padding", d.augment.random_crop_padding},
                    {"horizontal_flip", d.augment.horizontal_flip}};
  if (d.dataset == "cifar100") j["labels"] = d.labels;
  if (d.dataset == "image-folder") {
    j["image_size"] = d.image_size;
    j["channels"] = d.channels;
  }
  if (d.dataset == "csv") {
    j["label_column"] = d.label_index ? nlohmann::json(*d.label_index) : nlohmann::json(d.label_column);
    j["separator"] = d.separator;
    j["header"] = d.header;
  }
  return j;
}

TransferConfig readTransfer(const nlohmann::json& json) {
  ConfigReader r(json, "transfer");
  TransferConfig t;
  t.fraction = r.number("fraction", t.fraction, 1e-6, 1.0);
  t.hide_labels = r.boolean("hide_labels", t.hide_labels);
  if (r.has("data")) {
    try {
      t.data = readData(r.object("data"));
    } catch (const ConfigError& e) { // readData names fields "data.*"; these live under "transfer.data"
      const std::string what = std::string(e.what()).substr(e.field().size() + 2);
      throw ConfigError("transfer." + e.field(), what);
    }
    if (t.data->augment.any())
      throw ConfigError("transfer.data.augment", "augment the run's data (\"data.augment\") instead");
  }
  r.finish();
  return t;
}

nlohmann::json transferJson(const TransferConfig& t) {
  nlohmann::json j = {{"fraction", t.fraction}, {"hide_labels", t.hide_labels}};
  if (t.data) j["data"] = dataJson(*t.data);
  return j;
}

// ---- end of data ----------------------------------------------------------------------

TeacherSource readTeacher(const nlohmann::json& json) {
  ConfigReader r(json, "teacher");
  TeacherSource t;
  if (r.has("run")) {
    t.kind = TeacherSource::Kind::Run;
    t.run_id = r.integer("run", 0, 1, INT64_MAX);
    r.finish();
    return t;
  }
  if (r.has("torchscript")) {
    t.kind = TeacherSource::Kind::TorchScript;
    readModelInto(r, t.model);
    r.finish();
    return t;
  }
  if (!r.has("zoo"))
    throw ConfigError("teacher", "expected {\"run\": ID}, {\"torchscript\": \"PATH\"} or a zoo spec such as "
                                 "{\"zoo\": \"cnn\", \"train\": {\"epochs\": 1}}");
  t.kind = TeacherSource::Kind::Zoo;
  readModelInto(r, t.model);
  ConfigReader train(r.object("train"), "teacher.train");
  t.train_epochs = int(train.integer("epochs", 1, 1, 100000));
  t.train_batch_size = int(train.integer("batch_size", 128, 1, 1 << 20));
  t.train_optim = readOptim(train.object("optim"), "teacher.train.optim");
  train.finish();
  r.finish();
  return t;
}

MethodConfig readMethod(const nlohmann::json& json) {
  ConfigReader r(json, "method");
  MethodConfig m;
  std::string allowed;
  for (const auto& n : methodNamesForTask("distill")) allowed += (allowed.empty() ? "" : ", ") + n;
  m.name = r.string("name", m.name);
  const MethodInfo* info = findMethod(m.name);
  if (!info || !info->appliesTo("distill"))
    throw ConfigError("method.name", "unknown method \"" + m.name + "\"" +
                                         (info ? " for image runs (it is a language-model method: task \"lm\")" : "") +
                                         "; allowed: " + allowed);
  for (const auto& p : info->params) {
    if (p.isText()) {
      m.text_params[p.name] = r.string(p.name, p.default_text);
    } else if (!r.has(p.name)) {
      m.params[p.name] = p.default_value;
    } else if (p.type == "integer") {
      m.params[p.name] = double(r.integer(p.name, int64_t(p.default_value), int64_t(p.min), int64_t(p.max)));
    } else {
      m.params[p.name] = r.number(p.name, p.default_value, p.min, p.max);
    }
  }
  r.finish();
  return m;
}

} // namespace

OptimConfig optimConfigFromJson(const nlohmann::json& json, const std::string& field) {
  return readOptim(json, field);
}

nlohmann::json toJson(const OptimConfig& optim) { return optimJson(optim); }

DataConfig defaultDataConfig(const std::string& dataset) {
  DataConfig d;
  d.dataset = dataset;
  // Each known dataset's usual normalisation, so imported teachers see their inputs.
  if (dataset == "mnist") {
    d.path = "/usr/share/datasets/mnist";
    d.mean = {0.1307};
    d.std = {0.3081};
  } else if (dataset == "cifar10") {
    d.path.clear();
    d.mean = {0.4914, 0.4822, 0.4465};
    d.std = {0.2470, 0.2435, 0.2616};
  } else if (dataset == "cifar100") {
    d.path.clear();
    d.mean = {0.5071, 0.4865, 0.4409};
    d.std = {0.2673, 0.2564, 0.2762};
  } else if (dataset == "image-folder" || dataset == "csv") {
    // No usual values exist for a user's own data: its training split provides them.
    d.path.clear();
    d.mean.clear();
    d.std.clear();
    d.stats_from_train = true;
    d.val_fraction = 0.1;
    if (dataset == "csv") d.divide_by = 1.0;
  }
  return d;
}

ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field) {
  ConfigReader r(json, field);
  ModelSpec spec;
  readModelInto(r, spec);
  r.finish();
  return spec;
}

nlohmann::json toJson(const ModelSpec& spec) {
  if (spec.isTorchScript()) return {{"torchscript", spec.torchscript}};
  if (spec.zoo == "mlp") return {{"zoo", "mlp"}, {"hidden", spec.hidden}};
  if (spec.zoo == "cnn") return {{"zoo", spec.zoo}, {"channels", spec.channels}, {"fc", spec.fc}};
  if (spec.zoo == "mobilenetv2") return {{"zoo", spec.zoo}, {"width", spec.width}};
  return {{"zoo", spec.zoo}};
}

std::string describe(const ModelSpec& spec) {
  auto list = [](const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return "[" + s + "]";
  };
  if (spec.isTorchScript()) {
    const size_t slash = spec.torchscript.find_last_of('/');
    return "torchscript:" + (slash == std::string::npos ? spec.torchscript : spec.torchscript.substr(slash + 1));
  }
  if (spec.zoo == "mlp") return "mlp" + list(spec.hidden);
  if (spec.zoo == "cnn") return spec.zoo + list(spec.channels) + "fc" + std::to_string(spec.fc);
  if (spec.zoo == "mobilenetv2") {
    std::ostringstream w;
    w << spec.width;
    return spec.zoo + "[w" + w.str() + "]";
  }
  return spec.zoo;
}

RunConfig RunConfig::fromJson(const nlohmann::json& json) {
  ConfigReader r(json, "");
  RunConfig c;
  c.version = int(r.integer("version", kConfigVersion, 1, kConfigVersion));
  c.name = r.string("name", c.name);
  c.task = r.oneOf("task", c.task, {"distill", "train", "lm"});
  if (c.isLm()) return lmRunConfigFromJson(json); // language models: core/config/lm_config.cpp
  c.data = readData(r.object("data"));
  if (c.isDistill()) {
    if (r.has("model"))
      throw ConfigError("model", "not used by task \"distill\"; put the student under \"student\"");
    if (!r.has("teacher")) throw ConfigError("teacher", "required for task \"distill\"");
    if (!r.has("student")) throw ConfigError("student", "required for task \"distill\"");
    c.teacher = readTeacher(r.object("teacher"));
    c.student = modelSpecFromJson(r.object("student"), "student");
    c.method = readMethod(r.object("method"));
  } else {
    for (const char* key : {"teacher", "student", "method"})
      if (r.has(key))
        throw ConfigError(key, "not used by task \"train\"; the model to train goes under \"model\"");
    if (!r.has("model")) throw ConfigError("model", "required for task \"train\"");
    c.model = modelSpecFromJson(r.object("model"), "model");
  }
  c.optim = readOptim(r.object("optim"), "optim");
  c.batch_size = int(r.integer("batch_size", c.batch_size, 1, 1 << 20));
  c.epochs = int(r.integer("epochs", c.epochs, 1, 100000));
  c.seed = uint64_t(r.integer("seed", 0, 0, INT64_MAX));
  c.device = r.string("device", c.device);
  if (!(c.device == "auto" || c.device == "cpu" || c.device == "cuda" || c.device.rfind("cuda:", 0) == 0))
    throw ConfigError("device", "unknown device \"" + c.device + "\"; allowed: auto, cpu, cuda, cuda:N");
  c.evals_per_epoch = int(r.integer("evals_per_epoch", c.evals_per_epoch, 1, 1000));
  c.log_every = int(r.integer("log_every", c.log_every, 1, 1 << 20));
  c.threads = int(r.integer("threads", c.threads, 0, 1024));
  c.select_best = r.boolean("select_best", c.select_best);
  c.track_test = r.boolean("track_test", c.track_test);
  c.checkpoint_every = r.integer("checkpoint_every", c.checkpoint_every, 0, int64_t(1) << 40);
  c.checkpoint_minutes = r.number("checkpoint_minutes", c.checkpoint_minutes, 0.0, 1e6);
  c.precision = r.oneOf("precision", c.precision, {"fp32", "bf16"});
  c.record_points = r.boolean("record_points", c.record_points);
  if (r.has("transfer")) {
    c.transfer = readTransfer(r.object("transfer"));
    if (!c.isDistill() && c.transfer.labelsHidden())
      throw ConfigError(c.transfer.data ? "transfer.data" : "transfer.hide_labels",
                        "task \"train\" learns from labels; only transfer.fraction applies to it");
    const MethodInfo* m = findMethod(c.method.name);
    if (c.transfer.labelsHidden() && m && !m->needs_teacher)
      throw ConfigError("transfer.hide_labels", "method \"" + c.method.name +
                                                    "\" learns from labels alone; with labels hidden it has nothing to learn from");
  }
  if (r.has("teacher_cache")) {
    if (!c.isDistill()) throw ConfigError("teacher_cache", "used only by task \"distill\"");
    ConfigReader tc(r.object("teacher_cache"), "teacher_cache");
    c.teacher_cache.enabled = tc.boolean("enabled", c.teacher_cache.enabled);
    c.teacher_cache.dir = tc.string("dir", c.teacher_cache.dir);
    c.teacher_cache.fp16 = tc.boolean("fp16", c.teacher_cache.fp16);
    c.teacher_cache.topk = int(tc.integer("topk", c.teacher_cache.topk, 0, 1 << 20));
    tc.finish();
  }
  r.finish();
  return c;
}

RunConfig RunConfig::fromJsonText(const std::string& text) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range for a number like 1e400
    throw ConfigError("config", std::string("not valid JSON (") + e.what() + ")");
  }
  return fromJson(json);
}

RunConfig RunConfig::fromJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, std::string("cannot read the config file (") + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return fromJsonText(text.str());
}

nlohmann::json RunConfig::toJson() const {
  if (isLm()) return lmRunConfigJson(*this);
  nlohmann::json j = {{"version", version}, {"name", name}, {"task", task}, {"data", dataJson(this->data)}};
  if (isDistill()) {
    if (teacher.kind == TeacherSource::Kind::Run) {
      j["teacher"] = {{"run", teacher.run_id}};
    } else if (teacher.kind == TeacherSource::Kind::TorchScript) {
      j["teacher"] = distillery::toJson(teacher.model);
    } else {
      nlohmann::json t = distillery::toJson(teacher.model);
      t["train"] = {{"epochs", teacher.train_epochs}, {"batch_size", teacher.train_batch_size},
                    {"optim", optimJson(teacher.train_optim)}};
      j["teacher"] = t;
    }
    j["student"] = distillery::toJson(student);
    nlohmann::json m = {{"name", method.name}};
    for (const auto& [k, v] : method.params) {
      const MethodInfo* info = findMethod(method.name);
      const MethodParam* p = info ? info->param(k) : nullptr;
      if (p && p->type == "integer") m[k] = int64_t(std::llround(v));
      else m[k] = v;
    }
    for (const auto& [k, v] : method.text_params) m[k] = v;
    j["method"] = m;
  } else {
    j["model"] = distillery::toJson(model);
  }
  j["optim"] = optimJson(optim);
  j["batch_size"] = batch_size;
  j["epochs"] = epochs;
  j["seed"] = seed;
  j["device"] = device;
  j["evals_per_epoch"] = evals_per_epoch;
  j["log_every"] = log_every;
  j["threads"] = threads;
  j["select_best"] = select_best;
  j["track_test"] = track_test;
  j["checkpoint_every"] = checkpoint_every;
  j["checkpoint_minutes"] = checkpoint_minutes;
  j["precision"] = precision;
  j["record_points"] = record_points;
  if (isDistill()) {
    nlohmann::json tc = {{"enabled", teacher_cache.enabled}, {"fp16", teacher_cache.fp16}, {"topk", teacher_cache.topk}};
    if (!teacher_cache.dir.empty()) tc["dir"] = teacher_cache.dir;
    j["teacher_cache"] = tc;
  }
  if (!transfer.isDefault()) j["transfer"] = transferJson(transfer);
  return j;
}

RunConfig RunConfig::baseline() const {
  RunConfig b = *this;
  if (isDistill()) {
    b.task = "train";
    b.model = student;
    b.name = name + "-baseline";
    b.method = MethodConfig{};
    b.teacher = TeacherSource{};
    // The baseline sees as many training samples, with their labels.
    b.transfer = TransferConfig{};
    b.transfer.fraction = transfer.fraction;
  }
  return b;
}

RunConfig RunConfig::defaultDistill() {
  return fromJson(nlohmann::json::parse(R"({
    "name": "kd-mlp128", "task": "distill",
    "data": {"dataset": "fashion-mnist", "path": "/usr/share/datasets/fashion-mnist",
             "train_limit": 60000, "val_size": 5000},
    "teacher": {"zoo": "cnn", "channels": [32, 64], "fc": 256,
                "train": {"epochs": 1, "batch_size": 64,
                          "optim": {"name": "adam", "lr": 0.002, "schedule": "cosine"}}},
    "student": {"zoo": "mlp", "hidden": [128]},
    "method": {"name": "kd", "temperature": 4.0, "alpha": 0.9},
    "optim": {"name": "adam", "lr": 0.001},
    "batch_size": 128, "epochs": 1, "seed": 0, "device": "auto" })"));
}

} // namespace distillery
