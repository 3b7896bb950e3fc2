#include "core/training/run_preflight.h"

#include "core/api/api_server_info.h"
#include "core/data/data_probe.h"
#include "core/base/errors.h"
#include "core/methods/feature_distiller.h"
#include "core/methods/method_registry.h"
#include "core/models/model_zoo.h"
#include "core/store/run_store.h"
#include "core/models/scripted_classifier.h"
#include "core/lm/text_corpus.h"
#include "core/lm/text_vocabulary.h"
#include "serve/api_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>

namespace distillery {

namespace {

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string runText(int64_t id) { return "run " + std::to_string(id); }

void checkName(const RunConfig& c) {
  if (blank(c.name))
    throw ConfigError("name", "is empty; give the run a name (it also names the teacher run trained on the way, "
                              "NAME-teacher)");
}

// ---- image runs ------------------------------------------------------------------------

// The data's files, and a validation split that leaves training samples.
DataProbe checkData(const DataConfig& data, const std::string& field) {
  DataProbe probe = probeData(data);
  if (!probe.problem.empty()) throw ConfigError(field + ".path", probe.problem);
  if (data.val_fraction || probe.has_val_split) return probe;
  int64_t n = probe.train_samples;
  if (data.train_limit > 0 && (n == 0 || data.train_limit < n)) n = data.train_limit;
  if (n > 0 && data.val_size >= n)
    throw ConfigError(field + ".val_size",
                      std::to_string(data.val_size) + " validation samples leave no training samples out of " +
                          std::to_string(n) + (data.train_limit > 0 && n == data.train_limit ? " (data.train_limit)" : "") +
                          "; lower " + field + ".val_size or raise " + field + ".train_limit");
  return probe;
}

void checkTorchScriptFile(const ModelSpec& spec, const std::string& field) {
  if (!spec.isTorchScript()) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec.torchscript, ec))
    throw ConfigError(field, spec.torchscript + ": file not found (expected a TorchScript .pt file)");
}

InputShape shapeOf(const DataProbe& probe) {
  InputShape s;
  s.channels = probe.channels;
  s.height = probe.height;
  s.width = probe.width;
  return s;
}

// The model a spec describes, for its layer names and a probe; null when the
// data's shape is unknown or the zoo cannot build it for this shape (the
// engine then reports it when the run starts). trains: the run trains it
// (a TorchScript file with BatchNorm fixed by tracing is refused then, and as
// a teacher when traced in train mode).
Classifier loadForCheck(const ModelSpec& spec, const DataProbe& probe, const std::string& field, bool trains) {
  if (spec.isTorchScript()) {
    try {
      ScriptedClassifier scripted = probe.shapeKnown() && probe.classes > 0
                                        ? loadCheckedTorchScript(spec.torchscript,
                                                                 torch::zeros({8, probe.channels, probe.height, probe.width}),
                                                                 probe.classes)
                                        : loadScriptedFile(spec.torchscript);
      const std::string batch_norm = fixedBatchNormProblem(scripted->script(), trains);
      if (!batch_norm.empty()) throw ConfigError(field, spec.torchscript + ": " + batch_norm);
      return scripted.ptr();
    } catch (const DataError& e) {
      throw ConfigError(field, e.what());
    }
  }
  if (!probe.shapeKnown()) return nullptr;
  try {
    // Building draws initial weights from LibTorch's global generator, which
    // runs seed under this lock: taking it keeps their initialisation intact.
    std::lock_guard<std::mutex> lock(modelInitMutex());
    return buildModel(spec, shapeOf(probe), std::max<int64_t>(2, probe.classes));
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The teacher's model spec when it comes from a stored run (whose config says what it holds).
std::optional<ModelSpec> storedTeacherSpec(RunStore& store, int64_t id) {
  auto record = store.run(id);
  if (!record) return std::nullopt;
  try {
    const RunConfig tc = RunConfig::fromJsonText(record->config_json);
    if (tc.isLm()) return std::nullopt;
    return tc.trainedModel();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// What an API run needs on this side: its key in the environment, the other
// dataset it queries, and a reference run (evaluation only) that fits the data.
void checkApiTeacherQuick(const RunConfig& c, RunStore* store, const DataProbe& probe) {
  const std::string& env = c.teacher.api.key_env;
  const char* key = std::getenv(env.c_str());
  if (!key || !*key) // as ApiTeacher reads it
    throw ConfigError("teacher.api.key_env", "the environment variable " + env +
                                                 " is not set; it must hold the API key (export " + env +
                                                 "=KEY before starting)");
  // A budget larger than the inputs its strategy can send would fail at start, every time.
  auto pool = [](const DataConfig& d, const DataProbe& p, bool holds_out_val) -> int64_t {
    if (p.train_samples <= 0) return -1; // unknown until read
    int64_t n = d.train_limit > 0 ? std::min(d.train_limit, p.train_samples) : p.train_samples;
    if (holds_out_val && !p.has_val_split)
      n -= d.val_fraction ? int64_t(double(n) * *d.val_fraction) : std::min(n, d.val_size);
    return n;
  };
  int64_t inputs = -1;
  std::string source;
  if (c.queries.data) {
    const DataProbe other = checkData(*c.queries.data, "queries.data");
    inputs = pool(*c.queries.data, other, false);
    source = c.queries.data->path;
  } else if (c.queries.strategy != "noise") {
    inputs = pool(c.data, probe, true);
    source = "the training split of " + c.data.path;
  }
  if (inputs >= 0 && c.teacher.api.max_queries > inputs)
    throw ConfigError("teacher.api.max_queries", std::to_string(c.teacher.api.max_queries) + " queries, but strategy \"" +
                                                     c.queries.strategy + "\" has only " + std::to_string(inputs) +
                                                     " inputs to send (" + source + ")");
  const int64_t reference = c.teacher.api.reference_run;
  if (reference <= 0 || !store) return;
  auto record = store->run(reference);
  if (!record) throw ConfigError("teacher.api.reference_run", runText(reference) + " does not exist in the store");
  const std::string why = teacherRunMismatch(*record, c, probe);
  if (!why.empty()) throw ConfigError("teacher.api.reference_run", runText(reference) + " " + why);
}

// Asks the API about itself (GET /v1/info with the run's key), once, without
// retries and with a short timeout so a preflight never hangs: the key must be
// set and accepted, the server reachable, its output mode enough for the method,
// its input shape and classes those of the data. The engine asks again at start.
void checkApiTeacherServer(const RunConfig& c, const DataProbe& probe) {
  const ApiTeacherConfig& api = c.teacher.api;
  const char* key = std::getenv(api.key_env.c_str()); // set: checkApiTeacherQuick ran first
  if (!key) return;
  ApiServerInfo info;
  try {
    ApiClientOptions options;
    options.retries = 0;
    options.timeout_s = std::min(api.timeout_s, 5.0);
    ApiClient client(api.url, key, options);
    info = ApiServerInfo::fromJson(client.info(), api.url);
  } catch (const ApiError& e) {
    throw ConfigError("teacher.api.url", e.what());
  }
  const std::string mismatch = apiMethodMismatch(c.method.name, info.output_mode);
  if (!mismatch.empty()) throw ConfigError("method.name", mismatch);
  const std::string differs =
      info.mismatchWith(probe.shapeKnown() ? std::vector<int64_t>{probe.channels, probe.height, probe.width}
                                           : std::vector<int64_t>{},
                        probe.classes);
  if (!differs.empty())
    throw ConfigError("teacher.api.url", "teacher API " + api.url + " " + differs + "; this run's data (" +
                                             c.data.path + ") has " + probe.describe());
}

void checkImageRun(const RunConfig& c, RunStore* store, PreflightDepth depth) {
  const DataProbe probe = checkData(c.data, "data");
  if (c.transfer.data) checkData(*c.transfer.data, "transfer.data");
  const std::string model_field = c.isDistill() ? "student" : "model";
  checkTorchScriptFile(c.trainedModel(), model_field + ".torchscript");
  if (!c.isDistill()) {
    if (depth == PreflightDepth::Full && c.model.isTorchScript()) loadForCheck(c.model, probe, "model.torchscript", true);
    return;
  }

  if (c.hasApiTeacher()) {
    checkApiTeacherQuick(c, store, probe);
    if (depth == PreflightDepth::Full) checkApiTeacherServer(c, probe);
    if (depth != PreflightDepth::Full || !c.student.isTorchScript()) return;
    loadForCheck(c.student, probe, "student.torchscript", true);
    return;
  }
  if (c.teacher.kind == TeacherSource::Kind::TorchScript) checkTorchScriptFile(c.teacher.model, "teacher.torchscript");
  if (c.teacher.kind == TeacherSource::Kind::Run && store) {
    auto record = store->run(c.teacher.run_id);
    if (!record) throw ConfigError("teacher.run", runText(c.teacher.run_id) + " does not exist in the store");
    const std::string why = teacherRunMismatch(*record, c, probe);
    if (!why.empty()) throw ConfigError("teacher.run", runText(c.teacher.run_id) + " " + why);
  }
  if (depth != PreflightDepth::Full) return;

  const MethodInfo* method = findMethod(c.method.name);
  const bool layers = method && method->needs_features;
  Classifier student = layers || c.student.isTorchScript() ? loadForCheck(c.student, probe, "student.torchscript", true) : nullptr;
  Classifier teacher;
  if (c.teacher.kind == TeacherSource::Kind::TorchScript) {
    teacher = loadForCheck(c.teacher.model, probe, "teacher.torchscript", false);
  } else if (layers) {
    std::optional<ModelSpec> spec = c.teacher.kind == TeacherSource::Kind::Zoo ? std::optional<ModelSpec>(c.teacher.model)
                                    : store ? storedTeacherSpec(*store, c.teacher.run_id)
                                            : std::nullopt;
    // A stored TorchScript teacher lives in the store, not in its file: the engine checks it.
    if (spec && !spec->isTorchScript()) teacher = loadForCheck(*spec, probe, "teacher", false);
  }
  if (!layers) return;
  auto layer = [&](const char* key) {
    auto it = c.method.text_params.find(key);
    return it == c.method.text_params.end() ? std::string() : it->second;
  };
  if (teacher) resolveFeatureLayer(*teacher, layer("teacher_layer"), "method.teacher_layer");
  if (student) resolveFeatureLayer(*student, layer("student_layer"), "method.student_layer");
}

// ---- language-model runs -----------------------------------------------------------------

void checkLmRun(const RunConfig& c, RunStore* store, PreflightDepth depth) {
  std::error_code ec;
  if (!std::filesystem::exists(c.lm.corpus.path, ec))
    throw ConfigError("corpus.path", c.lm.corpus.path + ": not found (expected a UTF-8 text file or a folder of them)");
  if (c.lm.teacher.kind != LmTeacherSource::Kind::Run || !store) return;
  const int64_t id = c.lm.teacher.run_id;
  auto record = store->run(id);
  if (!record) throw ConfigError("teacher.run", runText(id) + " does not exist in the store");
  const std::string why = teacherRunMismatch(*record, c, DataProbe{});
  if (!why.empty()) throw ConfigError("teacher.run", runText(id) + " " + why);
  if (depth != PreflightDepth::Full || c.lm.corpus.tokenizer != "char") return;
  // A char vocabulary is the corpus's characters: the teacher's must be this corpus's.
  auto vocab_bytes = store->loadArtifact(id, "vocab.json");
  if (!vocab_bytes) throw ConfigError("teacher.run", runText(id) + " has no saved vocabulary");
  const TextVocabulary teacher_vocab =
      TextVocabulary::fromJson(nlohmann::json::parse(*vocab_bytes, nullptr, false), runText(id) + " vocab.json");
  TextCorpus corpus;
  try {
    corpus = loadTextCorpus(c.lm.corpus);
  } catch (const DataError& e) {
    throw ConfigError("corpus.path", e.what());
  }
  const std::string mismatch = vocabularyMismatch(teacher_vocab, corpus.vocab);
  if (!mismatch.empty()) throw ConfigError("teacher.run", runText(id) + ": " + mismatch);
}

std::string lmTeacherMismatch(const RunRecord& teacher, const RunConfig& c) {
  if (teacher.task != "lm")
    return "is an image run (task \"" + teacher.task + "\"); a language-model teacher comes from a task \"lm\" run";
  RunConfig tc;
  try {
    tc = RunConfig::fromJsonText(teacher.config_json);
  } catch (const std::exception& e) {
    return std::string("has a config this version cannot read (") + e.what() + ")";
  }
  if (tc.lm.student.context < c.lm.student.context)
    return "holds " + describe(tc.lm.student) + ", whose context " + std::to_string(tc.lm.student.context) +
           " is shorter than the student's " + std::to_string(c.lm.student.context) +
           " (student.context): a teacher must score every position the student reads";
  if (tc.lm.corpus.tokenizer != c.lm.corpus.tokenizer)
    return "speaks " + tc.lm.corpus.tokenizer + " tokens; this run's corpus.tokenizer is \"" + c.lm.corpus.tokenizer +
           "\" (use \"" + tc.lm.corpus.tokenizer + "\")";
  return "";
}

std::string imageTeacherMismatch(const RunRecord& teacher, const DataProbe& data) {
  if (teacher.task == "lm")
    return "is a language-model run (task \"lm\"); an image teacher comes from a task \"distill\" or \"train\" run";
  const nlohmann::json& s = teacher.summary;
  const auto shape = s.find("input_shape");
  const auto classes = s.find("num_classes");
  std::string differs;
  if (shape != s.end() && shape->is_array() && shape->size() == 3 && data.shapeKnown()) {
    const std::vector<int64_t> dims = shape->get<std::vector<int64_t>>();
    if (dims != std::vector<int64_t>{data.channels, data.height, data.width})
      differs = "takes " + std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                " inputs";
  }
  if (classes != s.end() && classes->is_number_integer() && data.classes > 0 && classes->get<int64_t>() != data.classes)
    differs += (differs.empty() ? "" : " and ") + std::string("tells ") + std::to_string(classes->get<int64_t>()) +
               " classes apart";
  if (differs.empty()) return "";
  const std::string model = s.value("model", std::string("its model"));
  return "holds " + model + ", which " + differs + "; this data has " + data.describe();
}

} // namespace

std::string teacherRunMismatch(const RunRecord& teacher, const RunConfig& config, const DataProbe& data) {
  if (teacher.status != RunStatus::Finished)
    return "is " + toString(teacher.status) + "; only a finished run can teach";
  return config.isLm() ? lmTeacherMismatch(teacher, config) : imageTeacherMismatch(teacher, data);
}

void preflightRun(const RunConfig& config, RunStore* store, PreflightDepth depth) {
  checkName(config);
  if (config.isLm()) checkLmRun(config, store, depth);
  else checkImageRun(config, store, depth);
}

} // namespace distillery
