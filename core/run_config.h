#pragma once
// The one JSON document that describes a run, shared by GUI and CLI and stored
// with the run. Parsing checks every field and names the one at fault.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery {

inline constexpr int kConfigVersion = 1;

struct ModelSpec {
  // "mlp" | "cnn" | a CIFAR benchmark network: "resnet20", "resnet32x4", "wrn_40_2",
  // "vgg13", "mobilenetv2", ... (the full list: parseZooName in core/model_info.h).
  std::string zoo = "mlp";
  std::vector<int> hidden{128};  // mlp: hidden layer widths
  std::vector<int> channels{32, 64}; // cnn: conv channels, each block halves H and W
  int fc = 256;                  // cnn: width of the fully connected layer
  // mobilenetv2: width multiplier. The default 0.5 is RepDistiller's "mobile_half",
  // the MobileNetV2 of the CIFAR-100 KD tables; 1.0 is the full-width network.
  double width = 0.5;
};

struct OptimConfig {
  std::string name = "adam"; // "adam" | "sgd"
  double lr = 1e-3;
  double momentum = 0.9;     // sgd only
  double weight_decay = 0.0;
  std::string schedule = "constant"; // "constant" | "cosine" (decays to 0 over the run's steps)
};

struct DataConfig {
  std::string dataset = "fashion-mnist"; // "fashion-mnist" | "mnist" | "idx"
  std::string path = "/usr/share/datasets/fashion-mnist";
  int64_t train_limit = 0; // 0: all training samples
  int64_t val_size = 5000;
  int64_t test_limit = 0;  // 0: all test samples
  double mean = 0.2860;    // normalisation applied after scaling to [0, 1]
  double std = 0.3530;
};

// Where the teacher of a distill run comes from.
struct TeacherSource {
  enum class Kind { Run, Zoo };
  Kind kind = Kind::Zoo;
  int64_t run_id = 0;     // Kind::Run
  ModelSpec model;        // Kind::Zoo
  int train_epochs = 1;   // Kind::Zoo: trained first, recorded as its own run
  OptimConfig train_optim;
  int train_batch_size = 128;
};

struct MethodConfig {
  std::string name = "kd";
  std::map<std::string, double> params; // validated against the method registry
};

struct RunConfig {
  int version = kConfigVersion;
  std::string name = "run";
  std::string task = "distill"; // "distill" | "train"
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

  bool isDistill() const { return task == "distill"; }
  // The model this run trains: the student of a distill run, the model of a train run.
  const ModelSpec& trainedModel() const { return isDistill() ? student : model; }

  // Throws ConfigError naming the field, e.g. "method.temperature: expected a number > 0".
  static RunConfig fromJson(const nlohmann::json& json);
  static RunConfig fromJsonText(const std::string& text);
  nlohmann::json toJson() const;
  // "Same student, no teacher": the student trained on labels alone with the
  // same data, optimiser, epochs and seed; the baseline a distill run must beat.
  RunConfig baseline() const;
  // The embedded default: cnn teacher trained 1 epoch, mlp [128] student, KD T=4 alpha=0.9.
  static RunConfig defaultDistill();
};

nlohmann::json toJson(const ModelSpec& spec);
ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field);
// Short human label, e.g. "mlp[128]", "cnn[32,64]fc256", "resnet20" or "mobilenetv2[w0.5]".
std::string describe(const ModelSpec& spec);

} // namespace distillery
