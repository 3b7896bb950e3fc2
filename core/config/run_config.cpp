#include "core/config/run_config.h"

#include "core/config/config_reader.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"

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

TransferConfig readTransfer(const nlohmann::json& json) {
  ConfigReader r(json, "transfer");
  TransferConfig t;
  t.fraction = r.number("fraction", t.fraction, 1e-6, 1.0);
  t.hide_labels = r.boolean("hide_labels", t.hide_labels);
  if (r.has("data")) {
    t.data = dataConfigFromJson(r.object("data"), "transfer.data");
    if (t.data->augment.any())
      throw ConfigError("transfer.data.augment", "augment the run's data (\"data.augment\") instead");
  }
  r.finish();
  return t;
}

nlohmann::json transferJson(const TransferConfig& t) {
  nlohmann::json j = {{"fraction", t.fraction}, {"hide_labels", t.hide_labels}};
  if (t.data) j["data"] = distillery::toJson(*t.data);
  return j;
}

TeacherSource readTeacher(const nlohmann::json& json) {
  ConfigReader r(json, "teacher");
  TeacherSource t;
  if (r.has("run")) {
    t.kind = TeacherSource::Kind::Run;
    t.run_id = r.integer("run", 0, 1, INT64_MAX);
    r.finish();
    return t;
  }
  if (r.has("api")) {
    t.kind = TeacherSource::Kind::Api;
    t.api = apiTeacherConfigFromJson(r.object("api"));
    r.finish();
    return t;
  }
  if (r.has("torchscript")) {
    t.kind = TeacherSource::Kind::TorchScript;
    readModelSpecInto(r, t.model);
    r.finish();
    return t;
  }
  if (!r.has("zoo"))
    throw ConfigError("teacher", "expected {\"run\": ID}, {\"torchscript\": \"PATH\"}, {\"api\": {\"url\": ...}} or a zoo spec such as "
                                 "{\"zoo\": \"cnn\", \"train\": {\"epochs\": 1}}");
  t.kind = TeacherSource::Kind::Zoo;
  readModelSpecInto(r, t.model);
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

RunConfig RunConfig::fromJson(const nlohmann::json& json) {
  ConfigReader r(json, "");
  RunConfig c;
  c.version = int(r.integer("version", kConfigVersion, 1, kConfigVersion));
  c.name = r.string("name", c.name);
  c.task = r.oneOf("task", c.task, {"distill", "train", "lm"});
  if (c.isLm()) return lmRunConfigFromJson(json); // language models: core/config/lm_config.cpp
  c.data = dataConfigFromJson(r.object("data"));
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
  if (r.has("distributed")) {
    c.distributed = distributedConfigFromJson(r.object("distributed"));
    // Every rank would buy an API teacher's answers.
    if (c.distributed.enabled() && c.hasApiTeacher())
      throw ConfigError("distributed.world_size", "runs with an API teacher are not data-parallel (each rank would buy "
                                                  "the answers); use 1");
  }
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
  if (c.hasApiTeacher()) {
    // The run sees only what the API returns: no labels, no features, no raw logits.
    const std::string mismatch = apiMethodMismatch(c.method.name, "probs");
    if (!mismatch.empty()) throw ConfigError("method.name", mismatch);
    if (r.has("transfer"))
      throw ConfigError("transfer", "with an API teacher the inputs are chosen by \"queries\" (strategy \"transfer\" "
                                    "sends another dataset's images)");
    if (c.data.augment.any())
      throw ConfigError("data.augment", "an API teacher answered the inputs as sent; augmented inputs would need "
                                        "answers nobody bought");
    if (r.has("select_best") && c.select_best)
      throw ConfigError("select_best", "an API student never sees labelled data to select on; leave it out or false");
    c.select_best = false;
    if (r.has("queries")) c.queries = queryConfigFromJson(r.object("queries"));
    if (c.queries.strategy == "active" && c.queries.rounds > c.epochs)
      throw ConfigError("queries.rounds", "at most one purchase round per epoch: " + std::to_string(c.queries.rounds) +
                                              " rounds need epochs >= " + std::to_string(c.queries.rounds));
  } else if (r.has("queries")) {
    throw ConfigError("queries", "used only with an API teacher ({\"teacher\": {\"api\": {...}}})");
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
    throw ConfigError("config", "not valid JSON (" + jsonErrorText(e) + ")");
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
  nlohmann::json j = {{"version", version}, {"name", name}, {"task", task}, {"data", distillery::toJson(this->data)}};
  if (isDistill()) {
    if (teacher.kind == TeacherSource::Kind::Run) {
      j["teacher"] = {{"run", teacher.run_id}};
    } else if (teacher.kind == TeacherSource::Kind::Api) {
      j["teacher"] = {{"api", distillery::toJson(teacher.api)}};
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
  if (distributed.enabled()) j["distributed"] = distillery::toJson(distributed);
  if (isDistill()) {
    nlohmann::json tc = {{"enabled", teacher_cache.enabled}, {"fp16", teacher_cache.fp16}, {"topk", teacher_cache.topk}};
    if (!teacher_cache.dir.empty()) tc["dir"] = teacher_cache.dir;
    j["teacher_cache"] = tc;
  }
  if (!transfer.isDefault()) j["transfer"] = transferJson(transfer);
  if (hasApiTeacher()) j["queries"] = distillery::toJson(queries);
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
    b.queries = QueryConfig{};
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
