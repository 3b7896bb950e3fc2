#include "core/training/optimizer_setup.h"

#include "core/training/multi_tensor_optimizer.h"

#include <algorithm>
#include <cmath>

namespace distillery {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::vector<torch::Tensor>& params, const OptimConfig& o) {
  if (o.name == "sgd")
    return std::make_unique<MultiTensorSgd>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  return std::make_unique<MultiTensorAdam>(params, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
}

void setLearningRate(torch::optim::Optimizer& optimizer, const OptimConfig& o, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (o.name == "sgd") static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    else static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

double scheduledLearningRate(const OptimConfig& o, int64_t step, int64_t total_steps) {
  if (o.schedule != "cosine") return o.lr;
  return 0.5 * o.lr * (1.0 + std::cos(M_PI * double(step) / double(std::max<int64_t>(1, total_steps))));
}

} // namespace distillery
