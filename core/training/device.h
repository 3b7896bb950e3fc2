#pragma once
#include <torch/torch.h>

#include <string>

namespace distillery {

// "auto" picks CUDA when this LibTorch build has it and a GPU is present,
// else the CPU. Throws ConfigError (field "device") for an unusable choice.
torch::Device resolveDevice(const std::string& setting);

// The hardware behind device (core/training/device_name.h).
std::string deviceHardwareName(torch::Device device);

} // namespace distillery
