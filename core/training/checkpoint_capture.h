#pragma once
// Taking a training checkpoint from a loop's modules and optimiser, and
// putting one back: both training loops (image and language-model) use these.
#include "core/store/checkpoint.h"
#include "core/store/cost_counters.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

// Parameters then buffers, in module order, of each module in turn (a model,
// then a method's own modules such as feature adapters): a checkpoint's weights.
std::vector<torch::Tensor> weightsOf(const std::vector<torch::nn::Module*>& modules);
// The reverse; throws DataError("checkpoint", ...) naming `what` when the
// count or a shape differs.
void copyWeights(const std::vector<torch::nn::Module*>& modules, const std::vector<torch::Tensor>& weights,
                 const std::string& what);

// A checkpoint at the loop's position `cost` (wall_s seconds in, at learning
// rate lr, of total_steps) holding the weights of `modules` (weightsOf), the
// optimiser's state and the best weights kept so far (none when empty). The
// loop adds its model-selection figures.
TrainingCheckpoint captureCheckpoint(const CostCounters& cost, double wall_s, double lr, int64_t total_steps,
                                     const std::vector<torch::nn::Module*>& modules, torch::optim::Optimizer& optimizer,
                                     const std::string& optimizer_name, const std::vector<torch::Tensor>& best_state);
// The reverse: checks that the checkpoint comes from a run of total_steps
// steps with this optimiser, then loads the weights of `modules`, the
// optimiser's state and the best weights (onto `device`; left empty when the
// checkpoint has none). Throws DataError("checkpoint", ...) on a mismatch.
void restoreCheckpoint(const TrainingCheckpoint& c, int64_t total_steps, const std::vector<torch::nn::Module*>& modules,
                       torch::optim::Optimizer& optimizer, const std::string& optimizer_name, torch::Device device,
                       std::vector<torch::Tensor>& best_state);

} // namespace distillery
