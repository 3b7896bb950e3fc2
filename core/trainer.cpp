#include "core/trainer.h"

#include "core/classification_metrics.h"
#include "core/distill_losses.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <memory>

namespace distillery {

namespace F = torch::nn::functional;

torch::Tensor predictLogits(const Classifier& model, const torch::Tensor& x, torch::Device device,
                            int64_t chunk) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += chunk)
    parts.push_back(model->forward(x.slice(0, i, std::min(i + chunk, x.size(0))).to(device)).to(torch::kCPU));
  model->train(was_training);
  if (parts.empty()) return torch::empty({0, 0});
  return torch::cat(parts);
}

namespace {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const Classifier& model, const OptimConfig& o) {
  if (o.name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        model->parameters(),
        torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::Adam>(model->parameters(),
                                              torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
}

void setLearningRate(torch::optim::Optimizer& optimizer, const OptimConfig& o, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (o.name == "sgd") static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    else static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

} // namespace

Trainer::Trainer(const Dataset& data, torch::Device device, RunRecorder& recorder, const StopToken& stop,
                 ProgressFn progress)
    : data_(data), device_(device), recorder_(recorder), stop_(stop), progress_(std::move(progress)) {}

int64_t trainingSteps(int64_t samples, const TrainerSettings& s) {
  return int64_t(s.epochs) * ((samples + s.batch_size - 1) / s.batch_size);
}

void Trainer::record(const std::string& metric, double value) {
  MetricPoint p;
  p.metric = metric;
  p.step = cost_.step;
  p.epoch = cost_.epoch;
  p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  p.samples = cost_.samples;
  p.flops = cost_.flops;
  p.teacher_queries = cost_.teacher_queries;
  p.value = value;
  recorder_.add(std::move(p));
}

Trainer::Evaluation Trainer::evaluate(const Classifier& model, const TensorSplit& split,
                                      const torch::Tensor& teacher_logits) {
  Evaluation e;
  if (split.size() == 0) return e;
  auto logits = predictLogits(model, split.x, device_);
  e.loss = F::cross_entropy(logits, split.y).item<double>();
  e.accuracy = accuracy(logits, split.y);
  if (teacher_logits.defined()) {
    e.agreement = agreement(logits, teacher_logits);
    e.kl = teacherStudentKl(logits, teacher_logits);
  }
  return e;
}

TrainerResult Trainer::train(const Classifier& model, double model_flops, const TeacherOutputs* teacher,
                             const TrainerSettings& s) {
  start_ = std::chrono::steady_clock::now();
  cost_ = {};
  TrainerResult result;
  model->to(device_);
  model->train();
  auto optimizer = makeOptimizer(model, s.optim);

  const int64_t n = data_.train.size();
  const int64_t steps_per_epoch = (n + s.batch_size - 1) / s.batch_size;
  const int64_t total = trainingSteps(n, s);
  const int64_t eval_interval = std::max<int64_t>(1, steps_per_epoch / std::max(1, s.evals_per_epoch));
  const bool uses_teacher = teacher && teacher->model;
  if (uses_teacher) teacher->model->eval();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(s.seed);

  double window_loss = 0, window_soft = 0, window_hard = 0;
  int window_steps = 0;
  double window_samples = 0;
  auto window_start = std::chrono::steady_clock::now();

  std::vector<torch::Tensor> best_state;
  auto snapshot = [&]() {
    torch::NoGradGuard no_grad;
    best_state.clear();
    for (const auto& t : model->parameters()) best_state.push_back(t.detach().clone());
    for (const auto& t : model->buffers()) best_state.push_back(t.detach().clone());
  };
  auto runEvaluation = [&]() {
    if (data_.val.size() == 0) return; // no held-out data: nothing to measure or select on
    Evaluation e = evaluate(model, data_.val, uses_teacher ? teacher->val_logits : torch::Tensor());
    record("val_loss", e.loss);
    record("val_accuracy", e.accuracy);
    if (e.accuracy > result.best_val_accuracy || best_state.empty()) {
      result.best_val_accuracy = e.accuracy;
      result.selected_step = cost_.step;
      if (s.select_best) snapshot();
    }
    result.final_val_accuracy = e.accuracy;
    if (e.agreement >= 0) {
      record("val_agreement", e.agreement);
      record("val_kl", e.kl);
      result.final_val_agreement = e.agreement;
      result.final_val_kl = e.kl;
    }
    recorder_.flush(true);
  };

  double lr = s.optim.lr;
  for (int epoch = 0; epoch < s.epochs; ++epoch) {
    auto perm = torch::randperm(n, gen, torch::kLong);
    for (int64_t b = 0; b < steps_per_epoch; ++b) {
      if (stop_.stopRequested()) {
        result.cancelled = true;
        break;
      }
      auto idx = perm.slice(0, b * s.batch_size, std::min(n, (b + 1) * s.batch_size));
      auto x = data_.train.x.index_select(0, idx).to(device_, /*non_blocking=*/true);
      auto y = data_.train.y.index_select(0, idx).to(device_, /*non_blocking=*/true);
      const double batch = double(idx.size(0));

      torch::Tensor teacher_logits;
      if (uses_teacher) {
        torch::NoGradGuard no_grad;
        teacher_logits = teacher->model->forward(x);
        cost_.teacher_queries += batch;
        cost_.flops += teacher->flops_per_sample * batch;
      }
      LossParts loss = methodLoss(s.method, s.method_params, model->forward(x), teacher_logits, y,
                                  LossContext{cost_.epoch});
      if (s.optim.schedule == "cosine") { // half a cosine from lr at step 0 to 0 at the last step
        lr = 0.5 * s.optim.lr * (1.0 + std::cos(M_PI * double(cost_.step) / double(std::max<int64_t>(1, total))));
        setLearningRate(*optimizer, s.optim, lr);
      }
      optimizer->zero_grad();
      loss.total.backward();
      optimizer->step();

      ++cost_.step;
      cost_.samples += batch;
      cost_.flops += 3.0 * model_flops * batch; // forward + backward ~ 3x forward
      cost_.epoch = epoch + double(b + 1) / double(steps_per_epoch);

      const double loss_value = loss.total.item<double>();
      window_loss += loss_value;
      if (loss.soft.defined()) window_soft += loss.soft.item<double>();
      if (loss.hard.defined()) window_hard += loss.hard.item<double>();
      ++window_steps;
      window_samples += batch;
      if (!std::isfinite(loss_value)) {
        record("train_loss", loss_value);
        recorder_.flush(true);
        throw DivergedError("diverged: the training loss became " + std::string(std::isnan(loss_value) ? "NaN" : "Inf") +
                            " at step " + std::to_string(cost_.step) +
                            "; try a lower learning rate (optim.lr) or a lower temperature");
      }
      if (window_steps >= s.log_every) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        record("train_loss", window_loss / window_steps);
        if (loss.soft.defined()) record("train_soft_loss", window_soft / window_steps);
        if (loss.hard.defined()) record("train_hard_loss", window_hard / window_steps);
        if (secs > 0) record("samples_per_s", window_samples / secs);
        record("lr", lr);
        window_loss = window_soft = window_hard = window_samples = 0;
        window_steps = 0;
        window_start = std::chrono::steady_clock::now();
        recorder_.flush(false);
      }
      // Mid-epoch passes for the curves; none just before the epoch-end pass.
      if ((b + 1) % eval_interval == 0 && steps_per_epoch - (b + 1) >= eval_interval / 2) runEvaluation();
      if (progress_) progress_(cost_.step, total, cost_.epoch);
    }
    if (result.cancelled) break;
    runEvaluation();
  }
  if (s.select_best && !best_state.empty() && !result.cancelled && result.selected_step != cost_.step) {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& t : model->parameters()) t.copy_(best_state[i++]);
    for (auto& t : model->buffers()) t.copy_(best_state[i++]);
    recorder_.log("info", "kept the weights of step " + std::to_string(result.selected_step) +
                              " (best validation accuracy " + std::to_string(result.best_val_accuracy) + ")");
  } else {
    result.selected_step = cost_.step;
  }
  result.cost = cost_;
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  recorder_.flush(true);
  return result;
}

} // namespace distillery
