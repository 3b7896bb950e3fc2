#pragma once
// Weights, tensors and optimiser state as bytes, the form a training
// checkpoint (checkpoint.h) stores them in. Both training loops use these.
#include "core/store/checkpoint.h"

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

// Where a training loop stands when it writes a checkpoint.
struct CheckpointPosition {
  int64_t step = 0;
  double epoch = 0.0;
  double samples = 0.0; // tokens for language models
  double flops = 0.0;
  double teacher_queries = 0.0;
  double wall_s = 0.0;
  double lr = 0.0;
  int64_t total_steps = 0;
};

// A checkpoint at `at` holding the weights of `modules` (weightsOf), the
// optimiser's state and the best weights kept so far (none when empty). The
// loop adds its model-selection figures.
TrainingCheckpoint captureCheckpoint(const CheckpointPosition& at, const std::vector<torch::nn::Module*>& modules,
                                     torch::optim::Optimizer& optimizer, const std::string& optimizer_name,
                                     const std::vector<torch::Tensor>& best_state);
// The reverse: checks that the checkpoint comes from a run of total_steps
// steps with this optimiser, then loads the weights of `modules`, the
// optimiser's state and the best weights (onto `device`; left empty when the
// checkpoint has none). Throws DataError("checkpoint", ...) on a mismatch.
void restoreCheckpoint(const TrainingCheckpoint& c, int64_t total_steps, const std::vector<torch::nn::Module*>& modules,
                       torch::optim::Optimizer& optimizer, const std::string& optimizer_name, torch::Device device,
                       std::vector<torch::Tensor>& best_state);

} // namespace distillery
