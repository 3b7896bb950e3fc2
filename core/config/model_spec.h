#pragma once
// A network as a config names it: a zoo architecture with its sizes, or a
// TorchScript file. Used for the student, the model of a train run and a zoo
// teacher; read and written here, built by core/models/model_zoo.h.
#include "core/config/config_reader.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace distillery {

struct ModelSpec {
  // "mlp" | "cnn" | a CIFAR benchmark network: "resnet20", "resnet32x4", "wrn_40_2",
  // "vgg13", "mobilenetv2", ... (the full list: parseZooName in core/config/zoo_name.h).
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

// Reads "zoo" and its family's fields, or "torchscript", from r into spec; the
// caller reads its own keys (a teacher's "train") and calls r.finish().
void readModelSpecInto(ConfigReader& r, ModelSpec& spec);
// The whole object; field names it in errors ("student", "model").
ModelSpec modelSpecFromJson(const nlohmann::json& json, const std::string& field);
nlohmann::json toJson(const ModelSpec& spec);
// Short human label, e.g. "mlp[128]", "cnn[32,64]fc256", "resnet20" or "mobilenetv2[w0.5]".
std::string describe(const ModelSpec& spec);

} // namespace distillery
