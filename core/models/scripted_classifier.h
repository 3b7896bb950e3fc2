#pragma once
// A TorchScript module (made by torch.jit.trace or torch.jit.script in Python,
// or exported by Distillery) behind the zoo's Classifier interface, so the
// trainer, every distillation method and the evaluation treat it like any
// zoo network. The script's parameters and buffers are registered as this
// module's own (the same tensors, not copies): the optimiser trains them,
// to(device) moves them, and saving the script afterwards saves the trained
// weights.
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

namespace distillery {

class ScriptedClassifierImpl : public ClassifierImpl {
public:
  // origin names the module in error messages: a file path or "the model of run 7".
  ScriptedClassifierImpl(torch::jit::Module module, std::string origin);

  torch::Tensor forward(torch::Tensor x) override;
  // Submodules that the script's forward calls directly, as dotted paths
  // ("features", "layer3", "fc"): their outputs can be tapped. Modules called
  // only from inside another module's forward (e.g. "layer3.0") cannot.
  // Default feature layer: the last one called before the final one.
  std::vector<std::string> layerNames() const override { return layers_; }
  std::string defaultFeatureLayer() const override;
  // Runs a copy of forward's graph that also returns the tapped calls'
  // outputs (a method added to the script's class once per set of layers).
  torch::Tensor forwardTapped(torch::Tensor x, FeatureTaps& taps) override;
  // Switches the script too (BatchNorm, dropout in scripted modules).
  void train(bool on = true) override;

  torch::jit::Module& script() { return module_; }
  const std::string& origin() const { return origin_; }
  // The TorchScript archive (torch.jit.save format) with the current weights, on the CPU.
  std::string saveBytes();

private:
  // The method name that returns (logits, outputs of `layers`...), added on first use.
  std::string tappedMethod(const std::vector<std::string>& layers);

  torch::jit::Module module_;
  std::string origin_;
  std::vector<std::string> layers_;
};
TORCH_MODULE(ScriptedClassifier);

// Reads a TorchScript file; throws DataError(path, ...) when the file is
// missing, truncated, not TorchScript (e.g. a torch.save'd state_dict) or
// written by a PyTorch newer than this LibTorch can read.
ScriptedClassifier loadScriptedFile(const std::string& path);
// The same from bytes (a stored artifact); `origin` names them in errors.
ScriptedClassifier loadScriptedBytes(const std::string& bytes, const std::string& origin);

// Runs one batch `probe` [N, C, H, W] through the model in eval mode without
// autograd and checks the output is [N, classes] logits. Throws
// DataError(origin, ...) saying what was expected and what came out, or
// why the input was rejected. The model's training mode is restored.
void probeClassifier(const Classifier& model, const torch::Tensor& probe, int64_t classes,
                     const std::string& origin);

// loadScriptedFile + probeClassifier: a TorchScript model checked against a
// dataset's input (`probe`, a batch of its images) and class count.
ScriptedClassifier loadCheckedTorchScript(const std::string& path, const torch::Tensor& probe, int64_t classes);

// BatchNorm layers whose mode the graph fixes. torch.jit.trace records each
// aten::batch_norm with the mode the model was in as a constant, where a
// scripted BatchNorm reads self.training; a traced one ignores train()/eval().
struct FixedBatchNorm {
  std::vector<std::string> train_mode; // always the batch's own statistics (outputs depend on the batch)
  std::vector<std::string> eval_mode;  // always the running statistics (training never updates them)
};
// The layers of forward (and what it calls) by submodule path ("block.bn1";
// "forward" for a call in the top module's own code).
FixedBatchNorm findFixedBatchNorm(const torch::jit::Module& module);

// "" when `model` (from `origin`, a file) can take its part; else what is
// wrong and the remedy. trains: the run trains it (student, model); else it
// only teaches, where BatchNorm fixed in eval mode is what is wanted.
std::string fixedBatchNormProblem(const torch::jit::Module& model, bool trains);

// Parameters, FLOPs per sample (counted from the operators one forward of a
// blank image dispatches, see op_mac_counter.h) and the top-level submodules
// as layers (name, class, parameters).
ModelInfo describeScripted(ScriptedClassifierImpl& model, const InputShape& shape);

// The first `n` training images of a dataset (fewer if it has fewer), for a probe.
torch::Tensor probeBatch(const Dataset& data, int64_t n = 8);

} // namespace distillery
