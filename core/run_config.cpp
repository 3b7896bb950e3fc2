#include "core/run_config.h"

#include "core/config_reader.h"
#include "core/errors.h"
#include "core/method_registry.h"
#include "core/model_info.h"

#include <cmath>
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

DataConfig readData(const nlohmann::json& json) {
  ConfigReader r(json, "data");
  DataConfig d;
  d.dataset = r.oneOf("dataset", d.dataset, {"fashion-mnist", "mnist", "idx"});
  if (d.dataset == "mnist") {
    d.path = "/usr/share/datasets/mnist";
    d.mean = 0.1307;
    d.std = 0.3081;
  }
  d.path = r.string("path", d.path);
  if (d.path.empty()) throw ConfigError("data.path", "expected a directory holding the IDX files");
  d.train_limit = r.integer("train_limit", d.train_limit, 0, int64_t(1) << 40);
  d.val_size = r.integer("val_size", d.val_size, 0, int64_t(1) << 40);
  d.test_limit = r.integer("test_limit", d.test_limit, 0, int64_t(1) << 40);
  d.mean = r.number("mean", d.mean, -1e6, 1e6);
  d.std = r.number("std", d.std, 1e-9, 1e6);
  r.finish();
  return d;
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
  if (!r.has("zoo"))
    throw ConfigError("teacher", "expected {\"run\": ID} or a zoo spec such as "
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
  for (const auto& n : methodNames()) allowed += (allowed.empty() ? "" : ", ") + n;
  m.name = r.string("name", m.name);
  const MethodInfo* info = findMethod(m.name);
  if (!info) throw ConfigError("method.name", "unknown method \"" + m.name + "\"; allowed: " + allowed);
  for (const auto& p : info->params) {
    if (!r.has(p.name)) {
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

ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field) {
  ConfigReader r(json, field);
  ModelSpec spec;
  readModelInto(r, spec);
  r.finish();
  return spec;
}

nlohmann::json toJson(const ModelSpec& spec) {
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
  c.task = r.oneOf("task", c.task, {"distill", "train"});
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
  r.finish();
  return c;
}

RunConfig RunConfig::fromJsonText(const std::string& text) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError("config", std::string("not valid JSON (") + e.what() + ")");
  }
  return fromJson(json);
}

nlohmann::json RunConfig::toJson() const {
  nlohmann::json data = {{"dataset", this->data.dataset}, {"path", this->data.path},
                         {"train_limit", this->data.train_limit}, {"val_size", this->data.val_size},
                         {"test_limit", this->data.test_limit}, {"mean", this->data.mean},
                         {"std", this->data.std}};
  nlohmann::json j = {{"version", version}, {"name", name}, {"task", task}, {"data", data}};
  if (isDistill()) {
    if (teacher.kind == TeacherSource::Kind::Run) {
      j["teacher"] = {{"run", teacher.run_id}};
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
