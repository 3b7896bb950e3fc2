#include "core/training/checkpoint_capture.h"

#include "core/base/errors.h"
#include "core/models/tensor_bytes.h"

namespace distillery {

TrainingCheckpoint captureCheckpoint(const CostCounters& cost, double wall_s, double lr, int64_t total_steps,
                                     const std::vector<torch::nn::Module*>& modules, torch::optim::Optimizer& optimizer,
                                     const std::string& optimizer_name, const std::vector<torch::Tensor>& best_state) {
  TrainingCheckpoint c;
  static_cast<CostCounters&>(c) = cost;
  c.teacher_passes_saved = 0.0; // not kept: a resumed run recounts it
  c.wall_s = wall_s;
  c.lr = lr;
  c.total_steps = total_steps;
  c.optimizer_name = optimizer_name;
  c.model_state = saveTensors(weightsOf(modules));
  c.optimizer_state = saveOptimizerState(optimizer);
  if (!best_state.empty()) c.best_state = saveTensors(best_state);
  return c;
}

void restoreCheckpoint(const TrainingCheckpoint& c, int64_t total_steps, const std::vector<torch::nn::Module*>& modules,
                       torch::optim::Optimizer& optimizer, const std::string& optimizer_name, torch::Device device,
                       std::vector<torch::Tensor>& best_state) {
  if (c.total_steps != total_steps)
    throw DataError("checkpoint", "was made for a run of " + std::to_string(c.total_steps) + " steps; this one has " +
                                      std::to_string(total_steps));
  if (c.optimizer_name != optimizer_name)
    throw DataError("checkpoint", "holds " + c.optimizer_name + " state; the run uses " + optimizer_name);
  copyWeights(modules, loadTensors(c.model_state), "its weights");
  loadOptimizerState(optimizer, c.optimizer_state, device);
  best_state.clear();
  if (!c.best_state.empty()) {
    best_state = loadTensors(c.best_state);
    for (auto& t : best_state) t = t.to(device);
  }
}

std::vector<torch::Tensor> weightsOf(const std::vector<torch::nn::Module*>& modules) {
  std::vector<torch::Tensor> out;
  for (auto* m : modules)
    for (const auto& t : m->parameters()) out.push_back(t.detach().clone());
  for (auto* m : modules)
    for (const auto& t : m->buffers()) out.push_back(t.detach().clone());
  return out;
}

void copyWeights(const std::vector<torch::nn::Module*>& modules, const std::vector<torch::Tensor>& weights,
                 const std::string& what) {
  std::vector<torch::Tensor> params, buffers;
  for (auto* m : modules)
    for (const auto& t : m->parameters()) params.push_back(t);
  for (auto* m : modules)
    for (const auto& t : m->buffers()) buffers.push_back(t);
  if (weights.size() != params.size() + buffers.size())
    throw DataError("checkpoint", what + " hold " + std::to_string(weights.size()) + " tensors; the model has " +
                                      std::to_string(params.size() + buffers.size()));
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto* list : {&params, &buffers})
    for (auto& t : *list) {
      if (!t.sizes().equals(weights[i].sizes()))
        throw DataError("checkpoint", what + " do not fit the model (tensor " + std::to_string(i) + ")");
      t.copy_(weights[i++]);
    }
}

} // namespace distillery
