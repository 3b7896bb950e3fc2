#include "core/models/model_info.h"

#include "core/base/errors.h"
#include "core/models/model_zoo.h"
#include "core/models/scripted_classifier.h"

#include <filesystem>

#include <cctype>
#include <map>
#include <mutex>
#include <sstream>

namespace distillery {

namespace {

std::string shapeText(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

void addLinear(ModelInfo& info, const std::string& name, int64_t in, int64_t out) {
  LayerSummary l;
  l.name = name;
  l.kind = "Linear " + std::to_string(in) + "->" + std::to_string(out);
  l.output = std::to_string(out);
  l.params = in * out + out;
  l.flops = 2.0 * double(in) * double(out);
  info.layers.push_back(l);
}

std::string stageShape(const torch::Tensor& t) {
  std::string s;
  for (int64_t d = 1; d < t.dim(); ++d) s += (d > 1 ? "x" : "") + std::to_string(t.size(d));
  return s;
}

ModelInfo describeStaged(const ModelSpec& spec, int64_t channels, int64_t height, int64_t width,
                         int64_t num_classes) {
  ModelInfo info;
  torch::NoGradGuard no_grad;
  // Building must not shift a seeded run's random stream.
  Classifier model = buildModelKeepingRandomStream(spec, InputShape{channels, height, width}, num_classes);
  auto* staged = dynamic_cast<StagedClassifierImpl*>(model.get());
  if (!staged) throw ConfigError("zoo", "\"" + spec.zoo + "\" has no stage layout");
  model->eval();
  torch::Tensor x = torch::zeros({1, channels, height, width});
  for (const auto& stage : staged->stages()) {
    LayerSummary l;
    l.name = stage.name;
    l.kind = stage.kind;
    torch::nn::Sequential body = stage.body;
    MacCounter counter;
    x = body->forward(x);
    l.flops = 2.0 * counter.macs();
    l.params = countParameters(*body);
    l.output = stageShape(x);
    info.layers.push_back(l);
  }
  info.params = countParameters(*model);
  for (const auto& l : info.layers) info.flops_per_sample += l.flops;
  return info;
}

ModelInfo describeTorchScript(const std::string& path, int64_t channels, int64_t height, int64_t width,
                              int64_t num_classes) {
  static std::mutex cache_mutex;
  static std::map<std::string, ModelInfo> cache;
  std::error_code ec;
  std::ostringstream key;
  key << path << '|' << std::filesystem::file_size(path, ec) << '|'
      << std::filesystem::last_write_time(path, ec).time_since_epoch().count() << '|' << channels << 'x' << height
      << 'x' << width << '|' << num_classes;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cache.find(key.str());
    if (it != cache.end()) return it->second;
  }
  ScriptedClassifier model = loadCheckedTorchScript(path, torch::zeros({2, channels, height, width}), num_classes);
  const ModelInfo info = describeScripted(*model, InputShape{channels, height, width});
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (cache.size() > 64) cache.clear();
  cache[key.str()] = info;
  return info;
}

} // namespace

ModelInfo describeModel(const ModelSpec& spec, int64_t channels, int64_t height, int64_t width,
                        int64_t num_classes) {
  if (spec.isTorchScript()) return describeTorchScript(spec.torchscript, channels, height, width, num_classes);
  ModelInfo info;
  const ZooArch arch = parseZooName(spec.zoo);
  if (arch.family == ZooArch::Family::Mlp) {
    int64_t in = channels * height * width;
    for (size_t i = 0; i < spec.hidden.size(); ++i) {
      addLinear(info, "fc" + std::to_string(i + 1), in, spec.hidden[i]);
      in = spec.hidden[i];
    }
    addLinear(info, "out", in, num_classes);
  } else if (arch.family == ZooArch::Family::Cnn) {
    int64_t c = channels, h = height, w = width;
    for (size_t i = 0; i < spec.channels.size(); ++i) {
      const int64_t out = spec.channels[i];
      LayerSummary l;
      l.name = "conv" + std::to_string(i + 1);
      l.kind = "Conv2d " + std::to_string(c) + "->" + std::to_string(out) + " k3 + ReLU + MaxPool2";
      l.params = c * out * 9 + out;
      l.flops = 2.0 * double(c * 9) * double(out) * double(h * w);
      h /= 2;
      w /= 2;
      if (h < 1 || w < 1)
        throw ConfigError("cnn.channels", std::to_string(spec.channels.size()) +
                                              " conv blocks halve a " + std::to_string(height) + "x" +
                                              std::to_string(width) + " input to nothing; use fewer blocks");
      l.output = shapeText(out, h, w);
      info.layers.push_back(l);
      c = out;
    }
    addLinear(info, "fc", c * h * w, spec.fc);
    addLinear(info, "out", spec.fc, num_classes);
  } else {
    if (channels < 1 || height < 1 || width < 1 || num_classes < 1)
      throw ConfigError("zoo", "\"" + spec.zoo + "\" needs a non-empty input and at least one class");
    // Building and running a network costs up to a few hundred milliseconds; model
    // pickers ask again on every edit, so keep the answers.
    static std::mutex cache_mutex;
    static std::map<std::string, ModelInfo> cache;
    std::ostringstream key;
    key << spec.zoo << '|' << (arch.family == ZooArch::Family::MobileNetV2 ? spec.width : 0.0) << '|'
        << channels << 'x' << height << 'x' << width << '|' << num_classes;
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      auto it = cache.find(key.str());
      if (it != cache.end()) return it->second;
    }
    info = describeStaged(spec, channels, height, width, num_classes);
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache.size() > 256) cache.clear();
    cache[key.str()] = info;
    return info;
  }
  for (const auto& l : info.layers) {
    info.params += l.params;
    info.flops_per_sample += l.flops;
  }
  return info;
}

} // namespace distillery
