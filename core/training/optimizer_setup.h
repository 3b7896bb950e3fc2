#pragma once
// The optimiser of a training loop and its learning-rate schedule, the same
// for image and language-model runs (optim.name, optim.lr, optim.schedule).
#include "core/config/optim_config.h"

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace distillery {

// Adam or SGD (with momentum) over params, with o's learning rate and weight
// decay; their step updates all parameters together (multi_tensor_optimizer.h).
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::vector<torch::Tensor>& params, const OptimConfig& o);

// Sets the learning rate of every parameter group.
void setLearningRate(torch::optim::Optimizer& optimizer, const OptimConfig& o, double lr);

// The rate the schedule gives at `step` of total_steps: o.lr throughout, or
// for "cosine" half a cosine from o.lr at step 0 towards 0 at the last step.
double scheduledLearningRate(const OptimConfig& o, int64_t step, int64_t total_steps);

} // namespace distillery
