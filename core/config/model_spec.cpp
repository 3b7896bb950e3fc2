#include "core/config/model_spec.h"

#include "core/base/errors.h"
#include "core/config/zoo_name.h"

#include <sstream>

namespace distillery {

void readModelSpecInto(ConfigReader& r, ModelSpec& spec) {
  if (r.has("torchscript")) {
    if (r.has("zoo"))
      throw ConfigError(r.field("zoo"), "give either \"zoo\" or \"torchscript\", not both");
    spec.zoo = "torchscript";
    spec.torchscript = r.string("torchscript", "");
    if (spec.torchscript.empty())
      throw ConfigError(r.field("torchscript"), "expected the path of a TorchScript file (.pt)");
    return;
  }
  spec.zoo = r.string("zoo", "");
  const ZooArch arch = parseZooName(spec.zoo, r.field("zoo"));
  if (arch.family == ZooArch::Family::Mlp) {
    spec.hidden = r.intList("hidden", {128}, 1, 1 << 16);
  } else if (arch.family == ZooArch::Family::Cnn) {
    spec.channels = r.intList("channels", {32, 64}, 1, 4096);
    if (spec.channels.empty()) throw ConfigError(r.field("channels"), "expected at least one conv block");
    spec.fc = int(r.integer("fc", 256, 1, 1 << 16));
  } else if (arch.family == ZooArch::Family::MobileNetV2) {
    spec.width = r.number("width", ModelSpec{}.width, 0.1, 4.0);
  }
  // The other families take no fields beyond their name.
}

ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field) {
  ConfigReader r(json, field);
  ModelSpec spec;
  readModelSpecInto(r, spec);
  r.finish();
  return spec;
}

nlohmann::json toJson(const ModelSpec& spec) {
  if (spec.isTorchScript()) return {{"torchscript", spec.torchscript}};
  if (spec.zoo == "mlp") return {{"zoo", "mlp"}, {"hidden", spec.hidden}};
  if (spec.zoo == "cnn") return {{"zoo", spec.zoo}, {"channels", spec.channels}, {"fc", spec.fc}};
  if (spec.zoo == "mobilenetv2") return {{"zoo", spec.zoo}, {"width", spec.width}};
  return {{"zoo", spec.zoo}};
}

std::string describe(const ModelSpec& spec) {
  auto list = [](const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return "[" + s + "]";
  };
  if (spec.isTorchScript()) {
    const size_t slash = spec.torchscript.find_last_of('/');
    return "torchscript:" + (slash == std::string::npos ? spec.torchscript : spec.torchscript.substr(slash + 1));
  }
  if (spec.zoo == "mlp") return "mlp" + list(spec.hidden);
  if (spec.zoo == "cnn") return spec.zoo + list(spec.channels) + "fc" + std::to_string(spec.fc);
  if (spec.zoo == "mobilenetv2") {
    std::ostringstream w;
    w << spec.width;
    return spec.zoo + "[w" + w.str() + "]";
  }
  return spec.zoo;
}

} // namespace distillery
