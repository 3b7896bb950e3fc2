#include "core/models/model_zoo.h"

#include "core/base/errors.h"
#include "core/models/scripted_classifier.h"

#include <algorithm>
#include <sstream>

namespace distillery {

MlpImpl::MlpImpl(const std::vector<int>& hidden, int64_t inputs, int64_t classes) {
  torch::nn::Sequential seq;
  int64_t in = inputs;
  for (int h : hidden) {
    seq->push_back(torch::nn::Linear(in, h));
    seq->push_back(torch::nn::ReLU());
    in = h;
  }
  seq->push_back(torch::nn::Linear(in, classes));
  layers_ = register_module("layers", seq);
}

torch::Tensor MlpImpl::forward(torch::Tensor x) { return layers_->forward(x.flatten(1)); }

std::vector<std::string> MlpImpl::layerNames() const {
  std::vector<std::string> names;
  appendSequentialNames(layers_, "layers", names);
  return names;
}

std::string MlpImpl::defaultFeatureLayer() const {
  // The activation feeding the last Linear; without hidden layers, the logits.
  const size_t n = layers_->size();
  return n >= 2 ? "layers." + std::to_string(n - 2) : "layers";
}

torch::Tensor MlpImpl::forwardTapped(torch::Tensor x, FeatureTaps& taps) {
  return forwardSequentialTapped(layers_, x.flatten(1), "layers", taps);
}

CnnImpl::CnnImpl(const std::vector<int>& channels, int fc, const InputShape& shape, int64_t classes) {
  torch::nn::Sequential features;
  int64_t c = shape.channels, h = shape.height, w = shape.width;
  for (int out : channels) {
    features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, 3).padding(1)));
    features->push_back(torch::nn::ReLU());
    features->push_back(torch::nn::MaxPool2d(2));
    c = out;
    h /= 2;
    w /= 2;
  }
  torch::nn::Sequential head;
  head->push_back(torch::nn::Flatten());
  head->push_back(torch::nn::Linear(c * h * w, fc));
  head->push_back(torch::nn::ReLU());
  head->push_back(torch::nn::Linear(fc, classes));
  features_ = register_module("features", features);
  head_ = register_module("head", head);
}

torch::Tensor CnnImpl::forward(torch::Tensor x) { return head_->forward(features_->forward(x)); }

std::vector<std::string> CnnImpl::layerNames() const {
  std::vector<std::string> names;
  appendSequentialNames(features_, "features", names);
  appendSequentialNames(head_, "head", names);
  return names;
}

std::string CnnImpl::defaultFeatureLayer() const { return "features"; }

torch::Tensor CnnImpl::forwardTapped(torch::Tensor x, FeatureTaps& taps) {
  return forwardSequentialTapped(head_, forwardSequentialTapped(features_, x, "features", taps), "head", taps);
}

// ---- MAC counting ----------------------------------------------------------------

namespace {
thread_local MacCounter* active_counter = nullptr;

std::string arrow(int64_t in, int64_t out) { return std::to_string(in) + "->" + std::to_string(out); }
} // namespace

MacCounter::MacCounter() : outer_(active_counter) { active_counter = this; }
MacCounter::~MacCounter() { active_counter = outer_; }

void MacCounter::addConv(const torch::nn::Conv2dImpl& conv, const torch::Tensor& out) {
  if (!active_counter) return;
  const auto& o = conv.options;
  const double per_output = double(o.in_channels() / o.groups()) * double((*o.kernel_size())[0]) *
                            double((*o.kernel_size())[1]);
  const double outputs = double(out.numel()) / double(std::max<int64_t>(1, out.size(0)));
  for (MacCounter* c = active_counter; c; c = c->outer_) c->macs_ += per_output * outputs;
}

void MacCounter::addLinear(const torch::nn::LinearImpl& linear) {
  if (!active_counter) return;
  const double macs = double(linear.options.in_features()) * double(linear.options.out_features());
  for (MacCounter* c = active_counter; c; c = c->outer_) c->macs_ += macs;
}

// ---- Blocks --------------------------------------------------------------------------

ConvBnImpl::ConvBnImpl(int64_t in, int64_t out, const ConvBnOptions& o) : relu_(o.relu) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, o.kernel)
                                                        .stride(o.stride)
                                                        .padding(o.kernel / 2)
                                                        .groups(o.groups)
                                                        .bias(o.bias)));
  if (o.bn) bn_ = register_module("bn", SyncableBatchNorm2d(out));
}

torch::Tensor ConvBnImpl::forward(torch::Tensor x) {
  x = conv_->forward(x);
  MacCounter::addConv(*conv_, x);
  if (bn_) x = bn_->forward(x);
  if (relu_) x = torch::relu(x);
  return x;
}

DenseImpl::DenseImpl(int64_t in, int64_t out) { linear_ = register_module("linear", torch::nn::Linear(in, out)); }

torch::Tensor DenseImpl::forward(torch::Tensor x) {
  MacCounter::addLinear(*linear_);
  return linear_->forward(x);
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride) {
  conv1_ = register_module("conv1", ConvBn(in, out, ConvBnOptions{3, stride}));
  ConvBnOptions second;
  second.relu = false;
  conv2_ = register_module("conv2", ConvBn(out, out, second));
  if (stride != 1 || in != out) {
    ConvBnOptions projection;
    projection.kernel = 1;
    projection.stride = stride;
    projection.relu = false;
    shortcut_ = register_module("shortcut", ConvBn(in, out, projection));
  }
}

torch::Tensor ResidualBlockImpl::forward(torch::Tensor x) {
  torch::Tensor skip = shortcut_ ? shortcut_->forward(x) : x;
  return torch::relu(conv2_->forward(conv1_->forward(x)) + skip);
}

WideBlockImpl::WideBlockImpl(int64_t in, int64_t out, int64_t stride) {
  bn1_ = register_module("bn1", SyncableBatchNorm2d(in));
  conv1_ = register_module("conv1", ConvBn(in, out, ConvBnOptions{3, stride})); // conv, BN, ReLU
  ConvBnOptions plain;
  plain.bn = false;
  plain.relu = false;
  conv2_ = register_module("conv2", ConvBn(out, out, plain));
  if (in != out) {
    plain.kernel = 1;
    plain.stride = stride;
    shortcut_ = register_module("shortcut", ConvBn(in, out, plain));
  }
}

torch::Tensor WideBlockImpl::forward(torch::Tensor x) {
  torch::Tensor activated = torch::relu(bn1_->forward(x));
  torch::Tensor skip = shortcut_ ? shortcut_->forward(activated) : x;
  return conv2_->forward(conv1_->forward(activated)) + skip;
}

InvertedResidualImpl::InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expansion)
    : residual_(stride == 1 && in == out) {
  const int64_t hidden = in * expansion;
  torch::nn::Sequential body;
  body->push_back(ConvBn(in, hidden, ConvBnOptions{1, 1}));
  body->push_back(ConvBn(hidden, hidden, ConvBnOptions{3, stride, hidden}));
  ConvBnOptions project{1, 1};
  project.relu = false;
  body->push_back(ConvBn(hidden, out, project));
  body_ = register_module("body", body);
}

torch::Tensor InvertedResidualImpl::forward(torch::Tensor x) {
  torch::Tensor y = body_->forward(x);
  return residual_ ? y + x : y;
}

// ---- Staged networks ------------------------------------------------------------------

torch::Tensor StagedClassifierImpl::forward(torch::Tensor x) {
  for (auto& stage : stages_) x = stage.body->forward(x);
  return x;
}

std::vector<std::string> StagedClassifierImpl::layerNames() const {
  std::vector<std::string> names;
  for (const auto& stage : stages_) appendSequentialNames(stage.body, stage.name, names);
  return names;
}

std::string StagedClassifierImpl::defaultFeatureLayer() const {
  std::string last;
  for (const auto& stage : stages_) {
    if (stage.name == "pool") break;
    last = stage.name;
  }
  return last;
}

torch::Tensor StagedClassifierImpl::forwardTapped(torch::Tensor x, FeatureTaps& taps) {
  for (auto& stage : stages_) x = forwardSequentialTapped(stage.body, x, stage.name, taps);
  return x;
}

void StagedClassifierImpl::addStage(const std::string& name, const std::string& kind, torch::nn::Sequential body) {
  stages_.push_back({name, kind, register_module(name, body)});
}

void StagedClassifierImpl::addHead(int64_t features, int64_t classes) {
  torch::nn::Sequential pool;
  pool->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  pool->push_back(torch::nn::Flatten());
  addStage("pool", "global average pool", pool);
  torch::nn::Sequential fc;
  fc->push_back(Dense(features, classes));
  addStage("fc", "Linear " + arrow(features, classes), fc);
}

void StagedClassifierImpl::initConvolutions() {
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    }
  }
}

namespace {

std::string stride2(int64_t stride) { return stride == 2 ? " /2" : ""; }

} // namespace

CifarResNetImpl::CifarResNetImpl(int depth, const std::vector<int64_t>& widths, const InputShape& shape,
                                 int64_t classes) {
  const int n = (depth - 2) / 6;
  torch::nn::Sequential stem;
  stem->push_back(ConvBn(shape.channels, widths[0], ConvBnOptions{}));
  addStage("conv1", "Conv3x3 " + arrow(shape.channels, widths[0]) + " + BN + ReLU", stem);
  int64_t in = widths[0];
  for (int s = 1; s <= 3; ++s) {
    const int64_t out = widths[size_t(s)];
    const int64_t stride = s == 1 ? 1 : 2;
    torch::nn::Sequential layer;
    for (int b = 0; b < n; ++b) layer->push_back(ResidualBlock(b == 0 ? in : out, out, b == 0 ? stride : 1));
    addStage("layer" + std::to_string(s),
             std::to_string(n) + "x BasicBlock " + arrow(in, out) + stride2(stride), layer);
    in = out;
  }
  addHead(in, classes);
  initConvolutions();
}

WideResNetImpl::WideResNetImpl(int depth, int widen, const InputShape& shape, int64_t classes) {
  const int n = (depth - 4) / 6;
  const int64_t widths[4] = {16, 16 * int64_t(widen), 32 * int64_t(widen), 64 * int64_t(widen)};
  ConvBnOptions plain;
  plain.bn = false;
  plain.relu = false;
  torch::nn::Sequential stem;
  stem->push_back(ConvBn(shape.channels, widths[0], plain));
  addStage("conv1", "Conv3x3 " + arrow(shape.channels, widths[0]), stem);
  int64_t in = widths[0];
  for (int s = 1; s <= 3; ++s) {
    const int64_t out = widths[s];
    const int64_t stride = s == 1 ? 1 : 2;
    torch::nn::Sequential block;
    for (int b = 0; b < n; ++b) block->push_back(WideBlock(b == 0 ? in : out, out, b == 0 ? stride : 1));
    addStage("block" + std::to_string(s),
             std::to_string(n) + "x pre-act WideBlock " + arrow(in, out) + stride2(stride), block);
    in = out;
  }
  torch::nn::Sequential final_act;
  final_act->push_back(SyncableBatchNorm2d(in));
  final_act->push_back(torch::nn::ReLU());
  addStage("bn", "BN + ReLU", final_act);
  addHead(in, classes);
  initConvolutions();
}

VggImpl::VggImpl(int depth, const InputShape& shape, int64_t classes) {
  // Conv widths of the five groups, as in the CIFAR VGG configurations.
  std::vector<std::vector<int64_t>> groups;
  switch (depth) {
  case 8: groups = {{64}, {128}, {256}, {512}, {512}}; break;
  case 11: groups = {{64}, {128}, {256, 256}, {512, 512}, {512, 512}}; break;
  default: groups = {{64, 64}, {128, 128}, {256, 256}, {512, 512}, {512, 512}}; break; // 13
  }
  ConvBnOptions with_bias;
  with_bias.bias = true;
  int64_t in = shape.channels, h = shape.height, w = shape.width;
  for (size_t g = 0; g < groups.size(); ++g) {
    torch::nn::Sequential block;
    const int64_t first_in = in;
    for (int64_t out : groups[g]) {
      block->push_back(ConvBn(in, out, with_bias));
      in = out;
    }
    addStage("block" + std::to_string(g),
             std::to_string(groups[g].size()) + "x Conv3x3+BN+ReLU " + arrow(first_in, in), block);
    // Max-pools after groups 0-2 always (while the map is at least 2x2), after
    // group 3 only for large inputs, so the last group sees about 4x4.
    const bool pool = g < 3 ? std::min(h, w) >= 2 : (g == 3 && std::min(h, w) >= 8);
    if (pool) {
      torch::nn::Sequential p;
      p->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
      addStage("pool" + std::to_string(g), "MaxPool 2x2", p);
      h /= 2;
      w /= 2;
    }
  }
  addHead(in, classes);
  initConvolutions();
}

MobileNetV2Impl::MobileNetV2Impl(double width, const InputShape& shape, int64_t classes) {
  if (!(width > 0.0)) throw ConfigError("width", "expected a width multiplier > 0");
  auto scaled = [width](int64_t c) { return std::max<int64_t>(1, int64_t(double(c) * width)); };
  // expansion t, channels c, blocks n, first stride s
  const int64_t settings[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 1},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  int64_t in = scaled(32);
  torch::nn::Sequential stem;
  stem->push_back(ConvBn(shape.channels, in, ConvBnOptions{3, 2}));
  addStage("conv1", "Conv3x3 " + arrow(shape.channels, in) + " /2 + BN + ReLU", stem);
  for (int g = 0; g < 7; ++g) {
    const int64_t t = settings[g][0], out = scaled(settings[g][1]), n = settings[g][2], s = settings[g][3];
    torch::nn::Sequential group;
    const int64_t first_in = in;
    for (int64_t b = 0; b < n; ++b) {
      group->push_back(InvertedResidual(in, out, b == 0 ? s : 1, t));
      in = out;
    }
    addStage("blocks" + std::to_string(g),
             std::to_string(n) + "x InvertedResidual t" + std::to_string(t) + " " + arrow(first_in, out) +
                 stride2(s),
             group);
  }
  const int64_t last = width > 1.0 ? scaled(1280) : 1280;
  torch::nn::Sequential head_conv;
  head_conv->push_back(ConvBn(in, last, ConvBnOptions{1, 1}));
  addStage("conv2", "Conv1x1 " + arrow(in, last) + " + BN + ReLU", head_conv);
  addHead(last, classes);
  initConvolutions();
}

// ---- Factory ----------------------------------------------------------------------------

std::mutex& modelInitMutex() {
  static std::mutex mutex;
  return mutex;
}

Classifier buildModelKeepingRandomStream(const ModelSpec& spec, const InputShape& shape, int64_t classes) {
  std::lock_guard<std::mutex> init_lock(modelInitMutex());
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  torch::Tensor saved;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    saved = generator.get_state();
  }
  auto restore = [&] {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(saved);
  };
  try {
    Classifier model = buildModel(spec, shape, classes);
    restore();
    return model;
  } catch (...) {
    restore();
    throw;
  }
}

Classifier buildModel(const ModelSpec& spec, const InputShape& shape, int64_t classes) {
  if (spec.isTorchScript()) // loaded, not built: checked on two blank images of the shape
    return loadCheckedTorchScript(spec.torchscript, torch::zeros({2, shape.channels, shape.height, shape.width}),
                                  classes)
        .ptr();
  const ZooArch arch = parseZooName(spec.zoo);
  switch (arch.family) {
  case ZooArch::Family::Mlp:
  case ZooArch::Family::Cnn:
    // Validates the spec against the input shape with the same rules the model card uses.
    describeModel(spec, shape.channels, shape.height, shape.width, classes);
    if (arch.family == ZooArch::Family::Mlp) return Mlp(spec.hidden, shape.numel(), classes).ptr();
    return Cnn(spec.channels, spec.fc, shape, classes).ptr();
  case ZooArch::Family::ResNet: {
    std::vector<int64_t> widths = arch.widen == 4 ? std::vector<int64_t>{32, 64, 128, 256}
                                                  : std::vector<int64_t>{16, 16, 32, 64};
    return CifarResNet(arch.depth, widths, shape, classes).ptr();
  }
  case ZooArch::Family::WideResNet: return WideResNet(arch.depth, arch.widen, shape, classes).ptr();
  case ZooArch::Family::Vgg: return Vgg(arch.depth, shape, classes).ptr();
  case ZooArch::Family::MobileNetV2: return MobileNetV2(spec.width, shape, classes).ptr();
  }
  throw ConfigError("zoo", "unknown model \"" + spec.zoo + "\"");
}

int64_t countParameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

std::string saveModelBytes(const Classifier& model) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void loadModelBytes(const Classifier& model, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in);
  model->load(archive);
}

} // namespace distillery
