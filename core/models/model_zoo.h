#pragma once
#include "core/data/dataset.h"
#include "core/models/feature_taps.h"
#include "core/models/model_info.h"
#include "core/models/syncable_batch_norm.h"
#include "core/config/run_config.h"

#include <torch/torch.h>

#include <mutex>

namespace distillery {

// Every zoo model is a classifier from images [N, C, H, W] to logits [N, classes].
class ClassifierImpl : public torch::nn::Module {
public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // Layers whose outputs forwardTapped can capture, in forward order, e.g.
  // "features", "layer2", "layer2.0" (core/models/feature_taps.h). Empty: none.
  virtual std::vector<std::string> layerNames() const { return {}; }
  // The layer feature methods read when the config names none: the last
  // feature stage before the classifier head ("" when the model has no layers).
  virtual std::string defaultFeatureLayer() const { return ""; }
  // forward(x), also storing the outputs of the layers taps asks for.
  virtual torch::Tensor forwardTapped(torch::Tensor x, FeatureTaps& taps) { return forward(x); }
};
using Classifier = std::shared_ptr<ClassifierImpl>;

class MlpImpl : public ClassifierImpl {
public:
  MlpImpl(const std::vector<int>& hidden, int64_t inputs, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;
  // "layers", "layers.0" (first Linear), "layers.1" (its ReLU), ...; default: the last hidden ReLU.
  std::vector<std::string> layerNames() const override;
  std::string defaultFeatureLayer() const override;
  torch::Tensor forwardTapped(torch::Tensor x, FeatureTaps& taps) override;

private:
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(Mlp);

// Conv 3x3 + ReLU + 2x2 max-pool per channel entry, then fc + ReLU + linear.
class CnnImpl : public ClassifierImpl {
public:
  CnnImpl(const std::vector<int>& channels, int fc, const InputShape& shape, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;
  // "features", "features.0", ..., "head", "head.0", ...; default: "features" (the last pooled map).
  std::vector<std::string> layerNames() const override;
  std::string defaultFeatureLayer() const override;
  torch::Tensor forwardTapped(torch::Tensor x, FeatureTaps& taps) override;

private:
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(Cnn);

// ---- Building blocks of the CIFAR benchmark networks -------------------------

// While one is alive, the convolutions and linear layers of the zoo blocks below
// that run on this thread add their multiply-accumulates per sample to it.
// describeModel uses it for exact FLOPs; outside it the blocks pay one check.
class MacCounter {
public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  double macs() const { return macs_; }
  // out is the layer's output [N, C, H, W] or [N, F]; counts per sample.
  static void addConv(const torch::nn::Conv2dImpl& conv, const torch::Tensor& out);
  static void addLinear(const torch::nn::LinearImpl& linear);

private:
  double macs_ = 0.0;
  MacCounter* outer_ = nullptr;
};

// Conv2d (padding kernel/2), optionally followed by BatchNorm and ReLU.
struct ConvBnOptions {
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t groups = 1;
  bool bias = false;
  bool bn = true;
  bool relu = true;
};
class ConvBnImpl : public torch::nn::Module {
public:
  ConvBnImpl(int64_t in, int64_t out, const ConvBnOptions& options);
  torch::Tensor forward(torch::Tensor x);

private:
  torch::nn::Conv2d conv_{nullptr};
  SyncableBatchNorm2d bn_{nullptr};
  bool relu_ = true;
};
TORCH_MODULE(ConvBn);

// Linear layer that reports to MacCounter.
class DenseImpl : public torch::nn::Module {
public:
  DenseImpl(int64_t in, int64_t out);
  torch::Tensor forward(torch::Tensor x);

private:
  torch::nn::Linear linear_{nullptr};
};
TORCH_MODULE(Dense);

// CIFAR ResNet basic block: conv3x3-BN-ReLU, conv3x3-BN, plus the input (through
// a 1x1 conv + BN where stride or width change), then ReLU.
class ResidualBlockImpl : public torch::nn::Module {
public:
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

private:
  ConvBn conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResidualBlock);

// Wide ResNet pre-activation block: BN-ReLU, conv3x3, BN-ReLU, conv3x3, plus the
// input (through a 1x1 conv of the activated input where width changes).
class WideBlockImpl : public torch::nn::Module {
public:
  WideBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

private:
  SyncableBatchNorm2d bn1_{nullptr};
  ConvBn conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(WideBlock);

// MobileNetV2 inverted residual: 1x1 expand (x t), 3x3 depthwise, 1x1 linear
// projection; adds the input when stride is 1 and the width is unchanged.
class InvertedResidualImpl : public torch::nn::Module {
public:
  InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expansion);
  torch::Tensor forward(torch::Tensor x);

private:
  torch::nn::Sequential body_{nullptr};
  bool residual_ = false;
};
TORCH_MODULE(InvertedResidual);

// ---- Zoo networks made of named top-level stages ------------------------------

struct ClassifierStage {
  std::string name;             // registered module name, e.g. "layer1"
  std::string kind;             // e.g. "3x BasicBlock 16->32 /2"
  torch::nn::Sequential body;
};

// A classifier whose forward runs its stages in order; describeModel reports per stage.
class StagedClassifierImpl : public ClassifierImpl {
public:
  torch::Tensor forward(torch::Tensor x) override;
  const std::vector<ClassifierStage>& stages() const { return stages_; }
  // Each stage ("conv1", "layer1", ...) and its blocks ("layer1.0", ...);
  // default: the stage before "pool".
  std::vector<std::string> layerNames() const override;
  std::string defaultFeatureLayer() const override;
  torch::Tensor forwardTapped(torch::Tensor x, FeatureTaps& taps) override;

protected:
  void addStage(const std::string& name, const std::string& kind, torch::nn::Sequential body);
  // Global average pool + flatten ("pool") and the linear classifier ("fc").
  void addHead(int64_t features, int64_t classes);
  // He-normal (fan_out) for convolutions, as the benchmark repos initialise them.
  void initConvolutions();

private:
  std::vector<ClassifierStage> stages_;
};

// CIFAR ResNet: 3x3 stem, three stages of n = (depth-2)/6 basic blocks (the 2nd
// and 3rd halve H and W), global average pool, linear. widths = {stem, s1, s2, s3}.
class CifarResNetImpl : public StagedClassifierImpl {
public:
  CifarResNetImpl(int depth, const std::vector<int64_t>& widths, const InputShape& shape, int64_t classes);
};
TORCH_MODULE(CifarResNet);

// Wide ResNet depth-widen: 3x3 stem of 16, three stages of n = (depth-4)/6
// pre-activation blocks of 16W, 32W, 64W, final BN-ReLU, pool, linear.
class WideResNetImpl : public StagedClassifierImpl {
public:
  WideResNetImpl(int depth, int widen, const InputShape& shape, int64_t classes);
};
TORCH_MODULE(WideResNet);

// VGG with BatchNorm: five conv groups, 2x2 max-pools after the first three
// (and after the fourth for inputs of 64 and more; a pool is skipped where the
// map is already below 2x2), adaptive average pool to 1x1, linear 512->classes.
class VggImpl : public StagedClassifierImpl {
public:
  VggImpl(int depth, const InputShape& shape, int64_t classes);
};
TORCH_MODULE(Vgg);

// MobileNetV2 (expansion 6) with a width multiplier: 3x3 stem /2, seven groups
// of inverted residuals, 1x1 conv to 1280 (scaled when width > 1), pool, linear.
class MobileNetV2Impl : public StagedClassifierImpl {
public:
  MobileNetV2Impl(double width, const InputShape& shape, int64_t classes);
};
TORCH_MODULE(MobileNetV2);

// Throws ConfigError("zoo", ...) for an unknown name (see parseZooName).
// Building draws initial weights from LibTorch's global generator. Whoever
// seeds it and builds, or builds and restores it, holds this lock, so runs on
// other threads and model cards in the GUI never interleave their draws.
std::mutex& modelInitMutex();

// A TorchScript spec is loaded from its file and checked on blank images of
// `shape` (DataError naming the file when it does not fit).
Classifier buildModel(const ModelSpec& spec, const InputShape& shape, int64_t classes);

// buildModel that leaves LibTorch's global generator where it was (under
// modelInitMutex), so describing a model or making its card never shifts a
// seeded run's stream on another thread.
Classifier buildModelKeepingRandomStream(const ModelSpec& spec, const InputShape& shape, int64_t classes);

int64_t countParameters(torch::nn::Module& module);

// Serialises parameters and buffers into bytes (torch::save format) and back.
std::string saveModelBytes(const Classifier& model);
void loadModelBytes(const Classifier& model, const std::string& bytes);

} // namespace distillery
