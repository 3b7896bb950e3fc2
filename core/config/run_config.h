#pragma once
// The one JSON document that describes a run, shared by GUI and CLI and stored
// with the run. Parsing checks every field and names the one at fault.
#include "core/config/lm_config.h"    // task "lm": corpus, GPT teacher and student, steps
#include "core/config/optim_config.h" // OptimConfig

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

inline constexpr int kConfigVersion = 1;

struct ModelSpec {
  // "mlp" | "cnn" | a CIFAR benchmark network: "resnet20", "resnet32x4", "wrn_40_2",
  // "vgg13", "mobilenetv2", ... (the full list: parseZooName in core/models/model_info.h).
  std::string zoo = "mlp";
  std::vector<int> hidden{128};  // mlp: hidden layer widths
  std::vector<int> channels{32, 64}; // cnn: conv channels, each block halves H and W
  int fc = 256;                  // cnn: width of the fully connected layer
  // mobilenetv2: width multiplier. The default 0.5 is RepDistiller's "mobile_half",
  // the MobileNetV2 of the CIFAR-100 KD tables; 1.0 is the full-width network.
  double width = 0.5;
  // A TorchScript file (torch.jit.trace or torch.jit.script) instead of a zoo
  // network: {"torchscript": "PATH"}. Then zoo is "torchscript" and the fields above are unused.
  std::string torchscript;
  bool isTorchScript() const { return !torchscript.empty(); }
};

// Random image augmentations, drawn per training batch from the run's seed;
// validation and test data are never augmented.
struct AugmentConfig {
  int random_crop_padding = 0;  // pad by this many pixels, then crop back at a random offset
  bool horizontal_flip = false; // mirror left-right with probability 1/2
  bool any() const { return random_crop_padding > 0 || horizontal_flip; }
};

struct DataConfig {
  // Known datasets, with default path, channels and normalisation:
  //   "fashion-mnist" | "mnist" (IDX files) | "cifar10" | "cifar100" (binary distribution);
  // generic formats: "idx" | "image-folder" (one subfolder per class) | "csv".
  std::string dataset = "fashion-mnist";
  std::string path = "/usr/share/datasets/fashion-mnist";
  int64_t train_limit = 0; // 0: all training samples
  int64_t val_size = 5000;
  // When set, the validation split is this fraction of the training set instead of val_size
  // (the default for image-folder and csv).
  std::optional<double> val_fraction;
  double test_fraction = 0.2; // image-folder/csv without a test split: held out with a fixed seed
  int64_t test_limit = 0;     // 0: all test samples
  // Preprocessing: x = (raw / divide_by - mean[c]) / std[c], per channel c (per feature for csv).
  double divide_by = 255.0;
  std::vector<double> mean{0.2860}; // one value for every channel, or one per channel
  std::vector<double> std{0.3530};
  bool stats_from_train = false;    // "mean"/"std": "train": computed on the training samples
  AugmentConfig augment;            // images only
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

// The defaults fromJson starts from for data.dataset (path, normalisation,
// validation split); a view that switches the dataset starts from these too,
// since a config's stored mean/std otherwise stay those of the old dataset.
DataConfig defaultDataConfig(const std::string& dataset);

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
  // Run: a finished run's model; Zoo: trained first; TorchScript: a file, {"torchscript": "PATH"}.
  enum class Kind { Run, Zoo, TorchScript };
  Kind kind = Kind::Zoo;
  int64_t run_id = 0;     // Kind::Run
  ModelSpec model;        // Kind::Zoo; Kind::TorchScript: model.torchscript is the path
  int train_epochs = 1;   // Kind::Zoo: trained first, recorded as its own run
  OptimConfig train_optim;
  int train_batch_size = 128;
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
  // "fp32" | "bf16": bf16 autocast of forward passes on CUDA (fp32 on CPU).
  std::string precision = "fp32";
  // false: store no curve points, only the summary and log (and skip observers' points).
  bool record_points = true;

  LmConfig lm;                 // task "lm" only: corpus, GPT teacher/student, steps (lm_config.h)

  bool isDistill() const { return task == "distill"; }
  bool isLm() const { return task == "lm"; }
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

nlohmann::json toJson(const ModelSpec& spec);
// {"name", "lr", ...} as under "optim"; field names the object in errors.
OptimConfig optimConfigFromJson(const nlohmann::json& json, const std::string& field);
nlohmann::json toJson(const OptimConfig& optim);
ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field);
// Short human label, e.g. "mlp[128]", "cnn[32,64]fc256", "resnet20" or "mobilenetv2[w0.5]".
std::string describe(const ModelSpec& spec);

} // namespace distillery
