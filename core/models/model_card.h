#pragma once
// The model card shown wherever a model is picked or shown: layer summary,
// parameters, FLOPs per sample, size on disk, measured latency at batch 1
// and 128 on a device, and compression and speed-up against a teacher.
// Torch-free header: the GUI and the CLI use it without LibTorch types.
#include "core/models/model_info.h"
#include "core/config/run_config.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace distillery {

struct CardInput {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t classes = 10;
};

struct CardOptions {
  std::string device = "cpu"; // as in RunConfig::device ("auto", "cpu", "cuda:N")
  bool measure_latency = true;
  int repeats = 7;            // timed forwards per batch size (after two warm-up ones)
  // Set from another thread to abandon a measurement early (latencies then stay unmeasured).
  const std::atomic<bool>* cancel = nullptr;
};

struct ModelCard {
  std::string label; // describe(spec), e.g. "resnet20" or "torchscript:teacher.pt"
  ModelInfo info;    // layers, parameters, FLOPs per sample
  int64_t size_bytes = 0; // the saved model: the zoo network's weights archive, or the TorchScript file
  std::string device;     // where the latency was measured
  // Median wall time of one forward pass (eval mode, no autograd), in
  // milliseconds; < 0 when not measured.
  double latency_ms_batch1 = -1.0;
  double latency_ms_batch128 = -1.0;
  // Against a teacher: its value divided by this model's (0 when unknown).
  bool has_teacher = false;
  std::string teacher_label;
  double compression = 0.0;      // parameters
  double flops_ratio = 0.0;      // FLOPs per sample
  double speedup_batch1 = 0.0;   // latency at batch 1
  double speedup_batch128 = 0.0; // latency at batch 128
};

// Builds (or loads) the model with random weights for `input` and measures it.
// Throws ConfigError / DataError for a model that cannot be built on that input.
ModelCard makeModelCard(const ModelSpec& spec, const CardInput& input, const CardOptions& options);

// Fills the comparison fields of `card` against `teacher`.
void compareWithTeacher(ModelCard& card, const ModelCard& teacher);

nlohmann::json toJson(const ModelCard& card);
// Several lines of text: the figures, then one line per layer.
std::string formatModelCard(const ModelCard& card);

// A model named on a command line: a TorchScript file (an existing path or a
// name ending in .pt/.pth), a spec in JSON ({"zoo": "mlp", "hidden": [64]}), or a
// zoo name ("resnet20"). Throws ConfigError(field, ...).
ModelSpec parseModelArgument(const std::string& text, const std::string& field);

} // namespace distillery
