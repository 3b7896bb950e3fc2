#pragma once
// A trained classifier as a TorchScript archive (torch.jit.save format). A
// TorchScript model (imported teacher or student) is saved as it is, with
// its trained weights. A zoo network is traced in eval mode (BatchNorm uses
// its running statistics) by LibTorch's tracer into a TorchScript module
// that mirrors the network's submodules, so its weights stay named
// parameters and buffers ("layer1.0.conv1.conv.weight") and the batch size
// stays free.
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"

#include <string>

namespace distillery {

// The model is moved to the CPU and left in eval mode.
std::string exportTorchScriptBytes(const Classifier& model, const InputShape& shape);

} // namespace distillery
