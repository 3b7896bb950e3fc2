#include "core/config/zoo_name.h"

#include "core/base/errors.h"

#include <cctype>

namespace distillery {

namespace {

const char* kAllowedModels =
    "mlp, cnn, resnetD with D = 6n+2 (resnet8, resnet14, resnet20, resnet32, resnet44, resnet56, resnet110), "
    "resnet8x4, resnet32x4 (any resnetDx4), wrn_D_W with D = 6n+4 and widen factor W (wrn_16_1, wrn_16_2, "
    "wrn_40_1, wrn_40_2), vgg8, vgg11, vgg13, mobilenetv2";

// Digits only, no sign, no leading zero, at most 4 of them; -1 otherwise.
int parseSmallNumber(const std::string& text) {
  if (text.empty() || text.size() > 4 || (text.size() > 1 && text[0] == '0')) return -1;
  for (char ch : text)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return -1;
  return std::stoi(text);
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

ZooArch parseZooName(const std::string& zoo, const std::string& field) {
  ZooArch a;
  auto fail = [&](const std::string& why) -> ZooArch {
    throw ConfigError(field, (why.empty() ? "" : why + "; ") + "unknown model \"" + zoo +
                                 "\"; allowed: " + kAllowedModels);
  };
  if (zoo == "mlp") {
    a.family = ZooArch::Family::Mlp;
  } else if (zoo == "cnn") {
    a.family = ZooArch::Family::Cnn;
  } else if (zoo == "mobilenetv2") {
    a.family = ZooArch::Family::MobileNetV2;
  } else if (startsWith(zoo, "resnet")) {
    std::string rest = zoo.substr(6);
    a.family = ZooArch::Family::ResNet;
    if (rest.size() > 2 && rest.compare(rest.size() - 2, 2, "x4") == 0) {
      a.widen = 4;
      rest.resize(rest.size() - 2);
    }
    a.depth = parseSmallNumber(rest);
    if (a.depth < 0) return fail("");
    if (a.depth < 8 || (a.depth - 2) % 6 != 0 || a.depth > 1202)
      return fail("a CIFAR ResNet's depth must be 6n+2 between 8 and 1202, not " + std::to_string(a.depth));
  } else if (startsWith(zoo, "wrn_")) {
    const std::string rest = zoo.substr(4);
    const size_t sep = rest.find('_');
    if (sep == std::string::npos) return fail("");
    a.family = ZooArch::Family::WideResNet;
    a.depth = parseSmallNumber(rest.substr(0, sep));
    a.widen = parseSmallNumber(rest.substr(sep + 1));
    if (a.depth < 0 || a.widen < 0) return fail("");
    if (a.depth < 10 || (a.depth - 4) % 6 != 0 || a.depth > 1000)
      return fail("a wide ResNet's depth must be 6n+4 between 10 and 1000, not " + std::to_string(a.depth));
    if (a.widen < 1 || a.widen > 16)
      return fail("a wide ResNet's widen factor must be 1 to 16, not " + std::to_string(a.widen));
  } else if (startsWith(zoo, "vgg")) {
    a.family = ZooArch::Family::Vgg;
    a.depth = parseSmallNumber(zoo.substr(3));
    if (!(a.depth == 8 || a.depth == 11 || a.depth == 13))
      return fail("VGG comes in depths 8, 11 and 13");
  } else {
    return fail("");
  }
  return a;
}

const std::vector<std::string>& zooModelNames() {
  static const std::vector<std::string> names{
      "mlp",      "cnn",      "resnet8",  "resnet14", "resnet20",  "resnet32", "resnet44",
      "resnet56", "resnet110", "resnet8x4", "resnet32x4", "wrn_16_1", "wrn_16_2", "wrn_40_1",
      "wrn_40_2", "vgg8",     "vgg11",    "vgg13",    "mobilenetv2"};
  return names;
}

} // namespace distillery
