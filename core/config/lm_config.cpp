#include "core/config/lm_config.h"

#include "core/config/config_reader.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"
#include "core/config/run_config.h"

#include <cmath>

namespace distillery {

namespace {

TextCorpusConfig readCorpus(const nlohmann::json& json) {
  ConfigReader r(json, "corpus");
  TextCorpusConfig c;
  c.path = r.string("path", c.path);
  if (c.path.empty()) throw ConfigError("corpus.path", "expected a UTF-8 text file or a folder of them");
  c.tokenizer = r.oneOf("tokenizer", c.tokenizer, {"char", "byte"});
  c.val_fraction = r.number("val_fraction", c.val_fraction, 0.0, 0.5);
  c.max_bytes = r.integer("max_bytes", c.max_bytes, 0, int64_t(1) << 40);
  r.finish();
  return c;
}

nlohmann::json corpusJson(const TextCorpusConfig& c) {
  return {{"path", c.path}, {"tokenizer", c.tokenizer}, {"val_fraction", c.val_fraction}, {"max_bytes", c.max_bytes}};
}

LmWatermarkConfig readWatermark(const nlohmann::json& json) {
  ConfigReader r(json, "teacher.watermark");
  LmWatermarkConfig w;
  w.enabled = true;
  if (!r.has("key"))
    throw ConfigError("teacher.watermark.key", "required: the secret integer that seeds the green lists, e.g. 42");
  w.params.key = uint64_t(r.integer("key", 0, 0, INT64_MAX));
  w.params.gamma = r.number("gamma", w.params.gamma, 0.0, 1.0);
  if (!(w.params.gamma > 0.0 && w.params.gamma < 1.0))
    throw ConfigError("teacher.watermark.gamma", "expected a green share strictly between 0 and 1, e.g. 0.25");
  w.params.context = int(r.integer("context", w.params.context, 1, 64));
  w.delta = r.number("delta", w.delta, 0.0, 100.0);
  w.fraction = r.number("fraction", w.fraction, 0.0, 1.0);
  r.finish();
  return w;
}

nlohmann::json watermarkJson(const LmWatermarkConfig& w) {
  return {{"key", w.params.key}, {"gamma", w.params.gamma}, {"context", w.params.context},
          {"delta", w.delta}, {"fraction", w.fraction}};
}

LmTeacherSource readTeacher(const nlohmann::json& json) {
  ConfigReader r(json, "teacher");
  LmTeacherSource t;
  if (r.has("watermark")) t.watermark = readWatermark(r.object("watermark"));
  if (r.has("run")) {
    t.kind = LmTeacherSource::Kind::Run;
    t.run_id = r.integer("run", 0, 1, INT64_MAX);
    r.finish();
    return t;
  }
  if (!r.has("zoo"))
    throw ConfigError("teacher", "expected {\"run\": ID} (a finished language-model run) or a GPT to train first, "
                                 "e.g. {\"zoo\": \"gpt\", \"layers\": 4, ..., \"train\": {\"steps\": 1000}}");
  t.kind = LmTeacherSource::Kind::Zoo;
  nlohmann::json spec = json;
  spec.erase("train");
  spec.erase("watermark");
  t.model = gptSpecFromJson(spec, "teacher");
  r.accept("zoo");
  for (const char* key : {"layers", "heads", "embed", "context", "dropout", "tie_weights"}) r.accept(key);
  ConfigReader train(r.object("train"), "teacher.train");
  t.train_steps = train.integer("steps", t.train_steps, 1, int64_t(1) << 40);
  t.train_batch_size = int(train.integer("batch_size", t.train_batch_size, 1, 1 << 20));
  t.train_optim = optimConfigFromJson(train.object("optim"), "teacher.train.optim");
  train.finish();
  r.finish();
  return t;
}

nlohmann::json teacherJson(const LmTeacherSource& t) {
  nlohmann::json j;
  if (t.kind == LmTeacherSource::Kind::Run) {
    j = {{"run", t.run_id}};
  } else {
    j = toJson(t.model);
    j["train"] = {{"steps", t.train_steps}, {"batch_size", t.train_batch_size}, {"optim", toJson(t.train_optim)}};
  }
  if (t.watermark.enabled) j["watermark"] = watermarkJson(t.watermark);
  return j;
}

MethodConfig readMethod(const nlohmann::json& json) {
  ConfigReader r(json, "method");
  MethodConfig m;
  m.name = r.string("name", "forward_kl");
  const MethodInfo* info = findMethod(m.name);
  if (!info || !info->appliesTo("lm")) {
    std::string allowed;
    for (const auto& n : methodNamesForTask("lm")) allowed += (allowed.empty() ? "" : ", ") + n;
    throw ConfigError("method.name", "unknown method \"" + m.name + "\"" +
                                         (info ? " for language models (it is an image-classification method)" : "") +
                                         "; allowed: " + allowed);
  }
  for (const auto& p : info->params) {
    if (!r.has(p.name)) m.params[p.name] = p.default_value;
    else if (p.type == "integer")
      m.params[p.name] = double(r.integer(p.name, int64_t(p.default_value), int64_t(p.min), int64_t(p.max)));
    else m.params[p.name] = r.number(p.name, p.default_value, p.min, p.max);
  }
  r.finish();
  return m;
}

nlohmann::json methodJson(const MethodConfig& m) {
  nlohmann::json j = {{"name", m.name}};
  const MethodInfo* info = findMethod(m.name);
  for (const auto& [k, v] : m.params) {
    const MethodParam* p = info ? info->param(k) : nullptr;
    if (p && p->type == "integer") j[k] = int64_t(std::llround(v));
    else j[k] = v;
  }
  return j;
}

} // namespace

RunConfig lmRunConfigFromJson(const nlohmann::json& json) {
  ConfigReader r(json, "");
  RunConfig c;
  c.version = int(r.integer("version", kConfigVersion, 1, kConfigVersion));
  c.name = r.string("name", "lm");
  c.task = r.oneOf("task", "lm", {"lm"});
  // Image-run fields that mean nothing here: say where the equivalent lives.
  const std::pair<const char*, const char*> moved[] = {
      {"data", "the text goes under \"corpus\" ({\"path\": ..., \"tokenizer\": \"char\" | \"byte\"})"},
      {"model", "the GPT to train goes under \"student\" (with method \"none\" to train it alone)"},
      {"epochs", "task \"lm\" counts optimiser steps: use \"steps\""},
      {"evals_per_epoch", "task \"lm\" validates every \"eval_every\" steps"}};
  for (const auto& [key, hint] : moved)
    if (r.has(key)) throw ConfigError(key, std::string("not used by task \"lm\"; ") + hint);

  c.lm.corpus = readCorpus(r.object("corpus"));
  c.method = readMethod(r.object("method"));
  const MethodInfo* method = findMethod(c.method.name);
  if (r.has("teacher")) c.lm.teacher = readTeacher(r.object("teacher"));
  else if (method->needs_teacher)
    throw ConfigError("teacher", "required for method \"" + c.method.name + "\": {\"run\": ID} or a GPT spec to train first");
  // Only where the teacher's distribution is sampled does a watermark reach the student.
  if (c.lm.teacher.watermark.enabled && c.method.name != "seq_kd" && c.method.name != "on_policy")
    throw ConfigError("teacher.watermark", "method \"" + c.method.name +
                                               "\" samples no teacher text; a watermark applies to seq_kd and on_policy");
  if (!r.has("student"))
    throw ConfigError("student", "required: the GPT this run trains, e.g. {\"zoo\": \"gpt\", \"layers\": 2, "
                                 "\"heads\": 2, \"embed\": 64, \"context\": 64}");
  c.lm.student = gptSpecFromJson(r.object("student"), "student");
  // The teacher scores every position the student reads (the trainer checks a
  // stored teacher's context too; run_preflight.h before the run is created).
  if (c.lm.teacher.kind == LmTeacherSource::Kind::Zoo && c.lm.teacher.model.context < c.lm.student.context)
    throw ConfigError("student.context", "is " + std::to_string(c.lm.student.context) + ", longer than the teacher's " +
                                             std::to_string(c.lm.teacher.model.context) +
                                             " (teacher.context): a teacher must score every position the student reads");
  const auto prompt = c.method.params.find("prompt_tokens");
  if (prompt != c.method.params.end() && prompt->second >= c.lm.student.context)
    throw ConfigError("method.prompt_tokens", "is " + std::to_string(int64_t(prompt->second)) +
                                                  "; it must be below the student's context (" +
                                                  std::to_string(c.lm.student.context) + ") to leave tokens to generate");
  c.lm.steps = r.integer("steps", c.lm.steps, 1, int64_t(1) << 40);
  c.lm.eval_every = r.integer("eval_every", c.lm.eval_every, 1, int64_t(1) << 40);
  c.lm.eval_tokens = r.integer("eval_tokens", c.lm.eval_tokens, 0, int64_t(1) << 40);
  c.optim = optimConfigFromJson(r.object("optim"), "optim");
  c.batch_size = int(r.integer("batch_size", 32, 1, 1 << 20));
  c.seed = uint64_t(r.integer("seed", 0, 0, INT64_MAX));
  c.device = r.string("device", c.device);
  if (!(c.device == "auto" || c.device == "cpu" || c.device == "cuda" || c.device.rfind("cuda:", 0) == 0))
    throw ConfigError("device", "unknown device \"" + c.device + "\"; allowed: auto, cpu, cuda, cuda:N");
  c.log_every = int(r.integer("log_every", c.log_every, 1, 1 << 20));
  c.threads = int(r.integer("threads", c.threads, 0, 1024));
  c.select_best = r.boolean("select_best", c.select_best);
  // 0: a checkpoint after every validation pass, the language-model "epoch end".
  c.checkpoint_every = r.integer("checkpoint_every", c.checkpoint_every, 0, int64_t(1) << 40);
  c.checkpoint_minutes = r.number("checkpoint_minutes", c.checkpoint_minutes, 0.0, 1e6);
  if (r.has("distributed")) c.distributed = distributedConfigFromJson(r.object("distributed"));
  r.finish();
  return c;
}

nlohmann::json lmRunConfigJson(const RunConfig& c) {
  nlohmann::json j = {{"version", c.version}, {"name", c.name}, {"task", "lm"}, {"corpus", corpusJson(c.lm.corpus)}};
  if (c.lm.teacher.kind != LmTeacherSource::Kind::None) j["teacher"] = teacherJson(c.lm.teacher);
  j["student"] = toJson(c.lm.student);
  j["method"] = methodJson(c.method);
  j["steps"] = c.lm.steps;
  j["eval_every"] = c.lm.eval_every;
  j["eval_tokens"] = c.lm.eval_tokens;
  j["optim"] = toJson(c.optim);
  j["batch_size"] = c.batch_size;
  j["seed"] = c.seed;
  j["device"] = c.device;
  j["log_every"] = c.log_every;
  j["threads"] = c.threads;
  j["select_best"] = c.select_best;
  j["checkpoint_every"] = c.checkpoint_every;
  j["checkpoint_minutes"] = c.checkpoint_minutes;
  if (c.distributed.enabled()) j["distributed"] = toJson(c.distributed);
  return j;
}

RunConfig defaultLmConfig() {
  // One intra-op thread: LibTorch's OpenMP threads on top of OpenBLAS's own
  // oversubscribe two cores, and these models' small matrices then run several
  // times slower with two threads than with one (measured on the CI machine).
  return lmRunConfigFromJson(nlohmann::json::parse(R"({
    "name": "char-lm-forward_kl", "task": "lm",
    "corpus": {"path": "/usr/share/games/fortunes", "tokenizer": "char", "val_fraction": 0.1},
    "teacher": {"zoo": "gpt", "layers": 4, "heads": 4, "embed": 160, "context": 64, "dropout": 0.0,
                "train": {"steps": 1000, "batch_size": 32,
                          "optim": {"name": "adam", "lr": 0.002, "schedule": "cosine"}}},
    "student": {"zoo": "gpt", "layers": 2, "heads": 2, "embed": 64, "context": 64},
    "method": {"name": "forward_kl", "temperature": 1.0, "alpha": 1.0},
    "steps": 600, "batch_size": 32, "optim": {"name": "adam", "lr": 0.003, "schedule": "cosine"},
    "eval_every": 100, "eval_tokens": 16384, "seed": 0, "device": "auto", "threads": 1 })"));
}

} // namespace distillery
