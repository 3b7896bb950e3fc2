#pragma once
// Size and cost of a zoo model, computable without touching LibTorch types,
// so widgets can show it wherever a model is picked.
#include "core/config/run_config.h"
#include "core/config/zoo_name.h" // ZooArch, parseZooName, zooModelNames

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
