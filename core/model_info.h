#pragma once
// Size and cost of a zoo model, computable without touching LibTorch types,
// so widgets can show it wherever a model is picked.
#include "core/run_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct LayerSummary {
  std::string name;   // e.g. "conv1"
  std::string kind;   // e.g. "Conv2d 1->32 k3"
  std::string output; // e.g. "32x14x14"
  int64_t params = 0;
  double flops = 0.0;
};

struct ModelInfo {
  int64_t params = 0;
  double flops_per_sample = 0.0; // forward pass; one multiply-add counts as 2 FLOPs
  std::vector<LayerSummary> layers;
};

// A zoo name taken apart. Besides the small "mlp" and "cnn", the zoo holds the
// CIFAR networks of the knowledge-distillation benchmarks (RepDistiller, mdistiller):
//   resnetD     CIFAR ResNet, BasicBlocks, D = 6n+2 (resnet8 ... resnet110), widths 16/16/32/64
//   resnetDx4   the same with widths 32/64/128/256 (resnet8x4, resnet32x4)
//   wrn_D_W     pre-activation wide ResNet, D = 6n+4, widen factor W, widths 16/16W/32W/64W
//   vggD        VGG with BatchNorm, D = 8, 11 or 13
//   mobilenetv2 MobileNetV2 with expansion 6; ModelSpec::width is its width multiplier
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

// channels/height/width/classes describe the dataset the model will see.
// Throws ConfigError for a spec that cannot be built on that shape.
// mlp and cnn are described analytically. The other families are built once on
// the CPU (leaving LibTorch's global random generator where it was) and run on
// one zero image: params are counted from the built module, FLOPs are exact
// 2*MACs of every convolution and linear layer (BatchNorm, ReLU, pooling and
// residual additions are not counted), and the layers are the top-level stages.
// A TorchScript spec is loaded from its file and checked on a blank image;
// FLOPs are counted from the convolutions and matrix products its forward
// dispatches, and the layers are its top-level submodules (params only).
// Results are cached per spec and shape (and the file's size and time).
ModelInfo describeModel(const ModelSpec& spec, int64_t channels, int64_t height, int64_t width,
                        int64_t num_classes);

} // namespace distillery
