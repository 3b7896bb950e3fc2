#pragma once
// Weights, tensors and optimiser state as bytes, the form a training
// checkpoint (checkpoint.h) stores them in. Both training loops use these.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

std::string saveTensors(const std::vector<torch::Tensor>& tensors);
std::vector<torch::Tensor> loadTensors(const std::string& bytes);

std::string saveOptimizerState(torch::optim::Optimizer& optimizer);
// The state lands on `device`, where the optimiser's parameters live.
void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::string& bytes, torch::Device device);

// Parameters then buffers, in module order, of each module in turn (a model,
// then a method's own modules such as feature adapters): a checkpoint's weights.
std::vector<torch::Tensor> weightsOf(const std::vector<torch::nn::Module*>& modules);
// The reverse; throws DataError("checkpoint", ...) naming `what` when the
// count or a shape differs.
void copyWeights(const std::vector<torch::nn::Module*>& modules, const std::vector<torch::Tensor>& weights,
                 const std::string& what);

} // namespace distillery
