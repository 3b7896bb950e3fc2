#pragma once
// The one JSON document that describes a run, shared by GUI and CLI and stored
// with the run. Parsing checks every field and names the one at fault.
#include "core/config/api_teacher_config.h" // ApiTeacherConfig, QueryConfig: teachers behind an HTTP API
#include "core/config/data_config.h"  // DataConfig: the "data" object
#include "core/config/distributed_config.h" // DistributedConfig: data-parallel ranks
#include "core/config/lm_config.h"    // task "lm": corpus, GPT teacher and student, steps
#include "core/config/model_spec.h"   // ModelSpec: student, model, zoo teacher
#include "core/config/optim_config.h" // OptimConfig

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

inline constexpr int kConfigVersion = 1;

// The transfer set: what the student is distilled on, when it is not simply
// the training split the teacher learned from.
struct TransferConfig {
  double fraction = 1.0;    // a seeded random fraction of the distillation inputs
  bool hide_labels = false; // the student never sees labels: the teacher's top-1 answers take their place
  // Another dataset's training images as inputs (same shape as data's); the
  // teacher labels them, so labels are hidden. Preprocessing follows "data".
  std::optional<DataConfig> data;
  bool labelsHidden() const { return hide_labels || data.has_value(); }
  bool isDefault() const { return fraction >= 1.0 && !labelsHidden(); }
};

// Where the teacher of a distill run comes from.
struct TeacherSource {
  // Run: a finished run's model; Zoo: trained first; TorchScript: a file, {"torchscript": "PATH"};
  // Api: a model behind an HTTP API, {"api": {...}}, seen only through its answers.
  enum class Kind { Run, Zoo, TorchScript, Api };
  Kind kind = Kind::Zoo;
  int64_t run_id = 0;     // Kind::Run
  ModelSpec model;        // Kind::Zoo; Kind::TorchScript: model.torchscript is the path
  int train_epochs = 1;   // Kind::Zoo: trained first, recorded as its own run
  OptimConfig train_optim;
  int train_batch_size = 128;
  ApiTeacherConfig api;   // Kind::Api
};

struct MethodConfig {
  std::string name = "kd";
  std::map<std::string, double> params; // validated against the method registry
  // Text parameters ("layer" in the schema, e.g. teacher_layer): layer names,
  // checked against the models when the run starts.
  std::map<std::string, std::string> text_params;
};

// Teacher outputs over the training set, computed once and kept on disk
// (core/methods/teacher_output_cache.h). Used only when the teacher's inputs are
// deterministic, i.e. without data augmentation.
struct TeacherCacheConfig {
  bool enabled = true;
  std::string dir; // empty: TeacherOutputCache::defaultDir()
  bool fp16 = false;
  int topk = 0;    // 0: every logit; k: the k largest, the rest spread evenly
};

struct RunConfig {
  int version = kConfigVersion;
  std::string name = "run";
  std::string task = "distill"; // "distill" | "train" | "lm" (language model: see lm below)
  DataConfig data;
  TeacherSource teacher; // distill only
  ModelSpec student;     // distill only
  ModelSpec model;       // train only
  MethodConfig method;   // distill only
  OptimConfig optim;
  int batch_size = 128;
  int epochs = 1;
  uint64_t seed = 0;
  std::string device = "auto"; // "auto" | "cpu" | "cuda" | "cuda:N"
  int evals_per_epoch = 4;     // validation passes per epoch, for the curves
  int log_every = 20;          // record the training loss every N steps
  int threads = 0;             // intra-op threads; 0: LibTorch's default
  bool select_best = true;     // end with the weights of the best validation pass
  // Also measure the test split at every validation pass: test_accuracy (and
  // test_agreement) curves and best_test_* in the summary, as papers that
  // report "best test accuracy" do. Costs one test pass per evaluation.
  bool track_test = false;
  // Training checkpoint (weights, optimiser state, position) every N steps,
  // overwriting the last; 0: at the end of every epoch (task "lm": after
  // every validation pass). A cancelled run also
  // keeps one at the step it stopped, so `resume` can continue it.
  int64_t checkpoint_every = 0;
  // ...and at the latest this many minutes after the last one (0: no time bound).
  double checkpoint_minutes = 10.0;
  TeacherCacheConfig teacher_cache; // distill only
  TransferConfig transfer;          // distill only
  QueryConfig queries;              // distill with an API teacher only: which inputs buy answers
  // "fp32" | "bf16": bf16 autocast of forward passes on CUDA (fp32 on CPU).
  std::string precision = "fp32";
  // false: store no curve points, only the summary and log (and skip observers' points).
  bool record_points = true;

  // Data-parallel training on world_size ranks (docs/distributed.md); written only when world_size > 1.
  DistributedConfig distributed;

  LmConfig lm;                 // task "lm" only: corpus, GPT teacher/student, steps (lm_config.h)

  bool isDistill() const { return task == "distill"; }
  bool isLm() const { return task == "lm"; }
  bool hasApiTeacher() const { return isDistill() && teacher.kind == TeacherSource::Kind::Api; }
  // The model this run trains: the student of a distill run, the model of a train run.
  const ModelSpec& trainedModel() const { return isDistill() ? student : model; }

  // Throws ConfigError naming the field, e.g. "method.temperature: expected a number > 0".
  static RunConfig fromJson(const nlohmann::json& json);
  static RunConfig fromJsonText(const std::string& text);
  // A config file; an unreadable file is a ConfigError naming the path.
  static RunConfig fromJsonFile(const std::string& path);
  nlohmann::json toJson() const;
  // "Same student, no teacher": the student trained on labels alone with the
  // same data, optimiser, epochs and seed; the baseline a distill run must beat.
  RunConfig baseline() const;
  // The embedded default: cnn teacher trained 1 epoch, mlp [128] student, KD T=4 alpha=0.9.
  static RunConfig defaultDistill();
};

// {"name", "lr", ...} as under "optim"; field names the object in errors.
OptimConfig optimConfigFromJson(const nlohmann::json& json, const std::string& field);
nlohmann::json toJson(const OptimConfig& optim);

} // namespace distillery
