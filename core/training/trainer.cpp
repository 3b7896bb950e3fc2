#include "core/training/trainer.h"

#include "core/data/augmentation.h"
#include "core/training/classification_metrics.h"
#include "core/methods/method_losses.h"
#include "core/base/errors.h"
#include "core/methods/feature_distiller.h"
#include "core/methods/method_registry.h"
#include "core/models/tensor_bytes.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include <cmath>
#include <memory>
#include <optional>

namespace distillery {

namespace {

// Scoped CUDA autocast to bf16; restores the previous state on exit.
class Bf16Autocast {
public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  }
  ~Bf16Autocast() {
    if (!on_) return;
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
    at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

private:
  bool on_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

} // namespace


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

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::vector<torch::Tensor>& params,
                                                       const OptimConfig& o) {
  if (o.name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
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

  const int64_t n = data_.train.size();
  const int64_t steps_per_epoch = (n + s.batch_size - 1) / s.batch_size;
  const int64_t total = trainingSteps(n, s);
  const int64_t eval_interval = std::max<int64_t>(1, steps_per_epoch / std::max(1, s.evals_per_epoch));
  const bool uses_teacher = teacher && teacher->model;
  if (uses_teacher) teacher->model->eval();
  // ---- feature methods: both models tapped at a named layer, an extra module
  // (adapter, heads, memory banks) trained alongside the student
  const MethodInfo* method_info = findMethod(s.method);
  const bool reads_features = uses_teacher && method_info && method_info->needs_features;
  FeatureDistiller distiller{nullptr};
  if (method_info && method_info->needs_features && !uses_teacher)
    throw ConfigError("method.name", "method \"" + s.method + "\" needs a teacher");
  if (reads_features) {
    auto text = [&](const char* key) {
      auto it = s.method_text_params.find(key);
      return it == s.method_text_params.end() ? std::string() : it->second;
    };
    FeatureLayers layers;
    layers.teacher = resolveFeatureLayer(*teacher->model, text("teacher_layer"), "method.teacher_layer");
    layers.student = resolveFeatureLayer(*model, text("student_layer"), "method.student_layer");
    // Shapes from two training samples, in eval mode and without autograd.
    torch::Tensor probe_s, probe_t;
    {
      torch::NoGradGuard no_grad;
      auto x = data_.train.x.slice(0, 0, std::min<int64_t>(2, n)).to(device_);
      FeatureTaps ts({layers.teacher}), ss({layers.student});
      teacher->model->forwardTapped(x, ts);
      model->eval();
      model->forwardTapped(x, ss);
      model->train();
      probe_t = ts.get(layers.teacher).to(torch::kFloat);
      probe_s = ss.get(layers.student).to(torch::kFloat);
    }
    distiller = FeatureDistiller(s.method, s.method_params, probe_s, probe_t, layers, n, s.seed + 7);
    distiller->to(device_);
    distiller->train();
    result.teacher_layer = layers.teacher;
    result.student_layer = layers.student;
    result.extra_params = countParameters(*distiller);
    recorder_.log("info", "features: teacher layer \"" + layers.teacher + "\", student layer \"" + layers.student +
                              "\", " + std::to_string(result.extra_params) + " extra trained parameters");
  }
  std::vector<torch::nn::Module*> trained_modules{model.get()};
  if (distiller) trained_modules.push_back(distiller.get());
  std::vector<torch::Tensor> trained_params = model->parameters();
  if (distiller)
    for (const auto& p : distiller->parameters()) trained_params.push_back(p);
  auto optimizer = makeOptimizer(trained_params, s.optim);
  const double extra_flops = distiller ? distiller->flopsPerSample() : 0.0;
  // Cached logits are valid only for the unaugmented inputs they were computed on;
  // feature methods need more than logits, so they always run the teacher.
  const bool cached_teacher = uses_teacher && !reads_features && teacher->train_cache && !data_.augment.any();
  if (cached_teacher) {
    cost_.teacher_queries = teacher->cache_queries;
    cost_.flops = teacher->flops_per_sample * teacher->cache_rows_computed;
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(s.seed);
  // ---- data augmentation (training batches only; teacher and student see the same batch)
  std::optional<BatchAugmenter> augmenter;
  if (data_.augment.any()) augmenter.emplace(data_.augment, data_.paddingFill(), s.seed);
  // ---- end of data augmentation

  // Losses stay on the device until a window is logged: reading one back every
  // step would make the loop wait for the device each step.
  std::vector<torch::Tensor> window_losses, window_softs, window_hards;
  int window_steps = 0;
  double window_samples = 0;
  auto window_start = std::chrono::steady_clock::now();

  std::vector<torch::Tensor> best_state;
  double lr = s.optim.lr;
  // A checkpoint holds everything the loop below needs to continue at cost_.step.
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto checkpoint = [&]() {
    if (!s.on_checkpoint) return;
    last_checkpoint = std::chrono::steady_clock::now();
    recorder_.flush(true);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    TrainingCheckpoint c = captureCheckpoint(
        {cost_.step, cost_.epoch, cost_.samples, cost_.flops, cost_.teacher_queries, wall_s, lr, total},
        trained_modules, *optimizer, s.optim.name, best_state);
    c.best_val_accuracy = result.best_val_accuracy;
    c.final_val_accuracy = result.final_val_accuracy;
    c.final_val_agreement = result.final_val_agreement;
    c.final_val_kl = result.final_val_kl;
    c.best_test_accuracy = result.best_test_accuracy;
    c.best_test_agreement = result.best_test_agreement;
    c.selected_step = result.selected_step;
    s.on_checkpoint(c);
  };
  auto snapshot = [&]() {
    torch::NoGradGuard no_grad;
    best_state.clear();
    for (const auto& t : model->parameters()) best_state.push_back(t.detach().clone());
    for (const auto& t : model->buffers()) best_state.push_back(t.detach().clone());
  };
  auto runEvaluation = [&]() {
    if (data_.val.size() == 0) return; // no held-out data: nothing to measure or select on
    // Agreement is measured for every run that has a teacher, even one trained without it (method none).
    Evaluation e = evaluate(model, data_.val, teacher ? teacher->val_logits : torch::Tensor());
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
    if (s.track_test && data_.test.size() > 0) {
      Evaluation t = evaluate(model, data_.test, teacher ? teacher->test_logits : torch::Tensor());
      record("test_accuracy", t.accuracy);
      result.best_test_accuracy = std::max(result.best_test_accuracy, t.accuracy);
      if (t.agreement >= 0) {
        record("test_agreement", t.agreement);
        result.best_test_agreement = std::max(result.best_test_agreement, t.agreement);
      }
    }
    recorder_.flush(true);
  };

  int64_t first_epoch = 0, first_batch = 0;
  if (s.resume) {
    const TrainingCheckpoint& c = *s.resume;
    restoreCheckpoint(c, total, trained_modules, *optimizer, s.optim.name, device_, best_state);
    cost_ = CostCounters{c.step, c.epoch, c.samples, c.flops, c.teacher_queries,
                         cached_teacher ? c.samples : 0.0};
    result.best_val_accuracy = c.best_val_accuracy;
    result.final_val_accuracy = c.final_val_accuracy;
    result.final_val_agreement = c.final_val_agreement;
    result.final_val_kl = c.final_val_kl;
    result.best_test_accuracy = c.best_test_accuracy;
    result.best_test_agreement = c.best_test_agreement;
    result.selected_step = c.selected_step;
    lr = c.lr;
    setLearningRate(*optimizer, s.optim, lr);
    start_ = std::chrono::steady_clock::now() -
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(c.wall_s));
    first_epoch = c.step / steps_per_epoch;
    first_batch = c.step % steps_per_epoch;
    // Draw the finished epochs' orders, so the remaining batches are the ones the run would have seen.
    for (int64_t e = 0; e < first_epoch; ++e) torch::randperm(n, gen, torch::kLong);
    recorder_.log("info", "resumed at step " + std::to_string(c.step) + " of " + std::to_string(total) +
                              " (epoch " + std::to_string(c.epoch) + ")");
  }
  for (int epoch = int(first_epoch); epoch < s.epochs; ++epoch) {
    auto perm = torch::randperm(n, gen, torch::kLong);
    for (int64_t b = epoch == first_epoch ? first_batch : 0; b < steps_per_epoch; ++b) {
      if (stop_.stopRequested()) {
        result.cancelled = true;
        checkpoint(); // a consistent state between two steps: resume continues from here
        break;
      }
      auto idx = perm.slice(0, b * s.batch_size, std::min(n, (b + 1) * s.batch_size));
      auto x = data_.train.x.index_select(0, idx).to(device_, /*non_blocking=*/true);
      auto y = data_.train.y.index_select(0, idx).to(device_, /*non_blocking=*/true);
      if (augmenter) x = augmenter->apply(x, cost_.step); // data augmentation
      const double batch = double(idx.size(0));

      torch::Tensor teacher_logits, teacher_feature, student_feature;
      if (reads_features) {
        torch::NoGradGuard no_grad;
        Bf16Autocast autocast(s.bf16_autocast && device_.is_cuda());
        FeatureTaps taps({result.teacher_layer});
        teacher_logits = teacher->model->forwardTapped(x, taps);
        teacher_feature = taps.get(result.teacher_layer);
        cost_.teacher_queries += batch;
        cost_.flops += teacher->flops_per_sample * batch;
      } else if (cached_teacher) {
        teacher_logits = teacher->train_cache->logits(idx).to(device_, /*non_blocking=*/true);
        cost_.teacher_passes_saved += batch;
      } else if (uses_teacher) {
        torch::NoGradGuard no_grad;
        Bf16Autocast autocast(s.bf16_autocast && device_.is_cuda());
        teacher_logits = teacher->model->forward(x);
        cost_.teacher_queries += batch;
        cost_.flops += teacher->flops_per_sample * batch;
      }
      if (s.labels_from_teacher) {
        if (!teacher_logits.defined())
          throw std::logic_error("hidden labels need a teacher's answers, and this method reads none");
        y = teacher_logits.argmax(1);
      }
      torch::Tensor student_logits;
      {
        Bf16Autocast autocast(s.bf16_autocast && device_.is_cuda());
        if (reads_features) {
          FeatureTaps taps({result.student_layer});
          student_logits = model->forwardTapped(x, taps);
          student_feature = taps.get(result.student_layer);
        } else {
          student_logits = model->forward(x);
        }
      }
      // Losses in fp32 whatever the forward pass ran in.
      LossParts loss =
          reads_features
              ? distiller->loss(student_logits.to(torch::kFloat), student_feature.to(torch::kFloat),
                                teacher_logits.to(torch::kFloat), teacher_feature.to(torch::kFloat), y, idx)
              : methodLoss(s.method, s.method_params, student_logits.to(torch::kFloat),
                           teacher_logits.defined() ? teacher_logits.to(torch::kFloat) : teacher_logits, y,
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
      cost_.flops += 3.0 * (model_flops + extra_flops) * batch; // forward + backward ~ 3x forward
      cost_.epoch = epoch + double(b + 1) / double(steps_per_epoch);

      window_losses.push_back(loss.total.detach());
      if (loss.soft.defined()) window_softs.push_back(loss.soft.detach());
      if (loss.hard.defined()) window_hards.push_back(loss.hard.detach());
      ++window_steps;
      window_samples += batch;
      const bool epoch_end = b + 1 == steps_per_epoch;
      if (window_steps >= s.log_every || epoch_end) {
        auto losses = torch::stack(window_losses).to(torch::kCPU, torch::kDouble);
        const auto finite = torch::isfinite(losses);
        if (!finite.all().item<bool>()) {
          const int64_t bad = torch::argmin(finite.to(torch::kInt)).item<int64_t>();
          const double loss_value = losses[bad].item<double>();
          const int64_t bad_step = cost_.step - int64_t(window_losses.size()) + 1 + bad;
          record("train_loss", loss_value);
          recorder_.flush(true);
          std::string hint = "try a lower learning rate (" + s.lr_field + ")";
          if (s.method_params.count("temperature")) hint += " or a lower temperature (method.temperature)";
          throw DivergedError(loss_value, bad_step, hint);
        }
      }
      if (window_steps >= s.log_every) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        auto mean = [](const std::vector<torch::Tensor>& v) { return torch::stack(v).mean().item<double>(); };
        record("train_loss", mean(window_losses));
        if (!window_softs.empty()) record("train_soft_loss", mean(window_softs));
        if (!window_hards.empty()) record("train_hard_loss", mean(window_hards));
        if (secs > 0) record("samples_per_s", window_samples / secs);
        record("lr", lr);
        window_losses.clear();
        window_softs.clear();
        window_hards.clear();
        window_samples = 0;
        window_steps = 0;
        window_start = std::chrono::steady_clock::now();
        recorder_.flush(false);
      }
      // Mid-epoch passes for the curves; none just before the epoch-end pass.
      if ((b + 1) % eval_interval == 0 && steps_per_epoch - (b + 1) >= eval_interval / 2) runEvaluation();
      if (progress_) progress_(cost_.step, total, cost_.epoch);
      if (s.checkpoint_every > 0 && cost_.step % s.checkpoint_every == 0) {
        checkpoint();
      } else if (s.checkpoint_seconds > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                                          last_checkpoint).count() >=
                                                 s.checkpoint_seconds) {
        checkpoint();
      }
    }
    if (result.cancelled) break;
    runEvaluation();
    if (s.checkpoint_every == 0) checkpoint();
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
