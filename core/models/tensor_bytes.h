#pragma once
// Tensors and optimiser state as bytes, the form a training checkpoint
// (core/store/checkpoint.h) stores them in.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

std::string saveTensors(const std::vector<torch::Tensor>& tensors);
std::vector<torch::Tensor> loadTensors(const std::string& bytes);

std::string saveOptimizerState(torch::optim::Optimizer& optimizer);
// The state lands on `device`, where the optimiser's parameters live.
void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::string& bytes, torch::Device device);

} // namespace distillery
