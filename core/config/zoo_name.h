#pragma once
// Zoo model names taken apart ("resnet32x4" -> ResNet, depth 32, widen 4),
// without LibTorch, so config parsing needs none.
//
// Besides the small "mlp" and "cnn", the zoo holds the CIFAR networks of the
// knowledge-distillation benchmarks (RepDistiller, mdistiller):
//   resnetD     CIFAR ResNet, BasicBlocks, D = 6n+2 (resnet8 ... resnet110), widths 16/16/32/64
//   resnetDx4   the same with widths 32/64/128/256 (resnet8x4, resnet32x4)
//   wrn_D_W     pre-activation wide ResNet, D = 6n+4, widen factor W, widths 16/16W/32W/64W
//   vggD        VGG with BatchNorm, D = 8, 11 or 13
//   mobilenetv2 MobileNetV2 with expansion 6; ModelSpec::width is its width multiplier
#include <string>
#include <vector>

namespace distillery {

struct ZooArch {
  enum class Family { Mlp, Cnn, ResNet, WideResNet, Vgg, MobileNetV2 };
  Family family = Family::Mlp;
  int depth = 0; // resnet, wrn, vgg
  int widen = 1; // wrn: widen factor; resnet: 4 for the "x4" variants, else 1
};

// Throws ConfigError(field, ...) for a name outside the zoo, saying why and listing the families.
ZooArch parseZooName(const std::string& zoo, const std::string& field = "zoo");
// The names a model picker offers, in a sensible order (every one parses).
const std::vector<std::string>& zooModelNames();

} // namespace distillery
