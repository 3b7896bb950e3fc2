#include "core/model_info.h"

#include "core/errors.h"

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

} // namespace

ModelInfo describeModel(const ModelSpec& spec, int64_t channels, int64_t height, int64_t width,
                        int64_t num_classes) {
  ModelInfo info;
  if (spec.zoo == "mlp") {
    int64_t in = channels * height * width;
    for (size_t i = 0; i < spec.hidden.size(); ++i) {
      addLinear(info, "fc" + std::to_string(i + 1), in, spec.hidden[i]);
      in = spec.hidden[i];
    }
    addLinear(info, "out", in, num_classes);
  } else if (spec.zoo == "cnn") {
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
    throw ConfigError("zoo", "unknown model \"" + spec.zoo + "\"; allowed: mlp, cnn");
  }
  for (const auto& l : info.layers) {
    info.params += l.params;
    info.flops_per_sample += l.flops;
  }
  return info;
}

} // namespace distillery
