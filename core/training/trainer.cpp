#include "core/training/trainer.h"

#include "core/data/augmentation.h"
#include "core/training/classification_metrics.h"
#include "core/methods/method_losses.h"
#include "core/base/errors.h"
#include "core/methods/feature_distiller.h"
#include "core/methods/method_registry.h"
#include "core/training/bf16_autocast.h"
#include "core/training/checkpoint_capture.h"
#include "core/training/chunked_inference.h"
#include "core/training/data_parallel_training.h"
#include "core/training/loss_window.h"
#include "core/training/optimizer_setup.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

namespace distillery {



namespace F = torch::nn::functional;

torch::Tensor predictLogits(const Classifier& model, const torch::Tensor& x, torch::Device device,
                            int64_t chunk) {
  return inferInChunks(model, x, device, chunk, {0, 0});
}

namespace {
// "1.00", not std::to_string's "1.000000": the log line is read by people.
std::string formatEpoch(double epoch) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", epoch);
  return text;
}
} // namespace

int64_t trainingSteps(int64_t samples, const TrainerSettings& s) {
  return int64_t(s.epochs) * ((samples + s.batch_size - 1) / s.batch_size);
}

// One call of Trainer::train: the loop's state and its steps, each a method.
class ImageTrainingLoop {
public:
  ImageTrainingLoop(Trainer& trainer, const Classifier& model, double model_flops, const TeacherOutputs* teacher,
                    const TrainerSettings& s)
      : t_(trainer), data_(trainer.data_), device_(trainer.device_), model_(model), model_flops_(model_flops),
        teacher_(teacher), s_(s), n_(s.epoch_samples > 0 ? s.epoch_samples : data_.train.size()),
        steps_per_epoch_((n_ + s.batch_size - 1) / s.batch_size), total_(trainingSteps(n_, s)),
        eval_interval_(std::max<int64_t>(1, steps_per_epoch_ / std::max(1, s.evals_per_epoch))),
        uses_teacher_(teacher && teacher->answersTraining()), gen_(at::make_generator<at::CPUGeneratorImpl>(s.seed)),
        parallel_(s.parallel, trainer.stop_), lr_(s.optim.lr) {}

  TrainerResult run() {
    t_.start_ = std::chrono::steady_clock::now();
    cost_ = {};
    model_->to(device_);
    model_->train();
    if (uses_teacher_ && teacher_->hasModel()) teacher_->model->eval();
    setUpFeatureMethod();
    setUpOptimizer();
    setUpTeacherCache();
    if (s_.sync_batchnorm && s_.parallel) setUpSyncBatchNorm();
    if (data_.augment.any()) augmenter_.emplace(data_.augment, data_.paddingFill(), s_.seed);
    int64_t first_epoch = 0, first_batch = 0;
    const TrainingCheckpoint* resume = parallel_.resumeFrom(s_.resume);
    if (resume) restore(*resume, first_epoch, first_batch);
    // Every rank starts from rank 0's weights (a resumed one from the same checkpoint anyway).
    parallel_.startFromRoot(moduleTensors());
    window_start_ = last_checkpoint_ = std::chrono::steady_clock::now();
    for (int epoch = int(first_epoch); epoch < s_.epochs && !result_.cancelled; ++epoch) {
      runEpoch(epoch, epoch == first_epoch ? first_batch : 0);
      if (result_.cancelled) break;
      evaluate();
      if (s_.checkpoint_every == 0) checkpoint();
    }
    keepSelectedWeights();
    // Every rank ends with rank 0's selected weights (only rank 0 validated).
    if (!result_.cancelled) parallel_.finish(moduleTensors(), t_.recorder_, "samples");
    result_.cost = cost_;
    result_.wall_s = secondsSinceStart();
    t_.recorder_.flush(true);
    return result_;
  }

private:
  bool isRoot() const { return parallel_.isRoot(); }

  std::vector<torch::Tensor> moduleTensors() const {
    std::vector<torch::Tensor> all;
    for (const torch::nn::Module* m : trained_modules_) {
      for (const auto& t : m->parameters()) all.push_back(t);
      for (const auto& t : m->buffers()) all.push_back(t);
    }
    return all;
  }

  double secondsSinceStart() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_.start_).count();
  }
  void record(const std::string& metric, double value) {
    if (!isRoot()) return;
    t_.recorder_.add(metricPointAt(cost_, secondsSinceStart(), metric, value));
  }

  // Feature methods: both models tapped at a named layer, an extra module
  // (adapter, heads, memory banks) trained alongside the student.
  void setUpFeatureMethod() {
    const MethodInfo* method_info = findMethod(s_.method);
    const bool needs_features = method_info && method_info->needs_features;
    if (needs_features && !(uses_teacher_ && teacher_->hasModel()))
      throw ConfigError("method.name", "method \"" + s_.method + "\" needs a teacher");
    reads_features_ = uses_teacher_ && teacher_->hasModel() && needs_features;
    if (!reads_features_) return;
    auto text = [&](const char* key) {
      auto it = s_.method_text_params.find(key);
      return it == s_.method_text_params.end() ? std::string() : it->second;
    };
    FeatureLayers layers;
    layers.teacher = resolveFeatureLayer(*teacher_->model, text("teacher_layer"), "method.teacher_layer");
    layers.student = resolveFeatureLayer(*model_, text("student_layer"), "method.student_layer");
    // Shapes from two training samples, in eval mode and without autograd.
    torch::Tensor probe_s, probe_t;
    {
      torch::NoGradGuard no_grad;
      auto x = data_.train.x.slice(0, 0, std::min<int64_t>(2, n_)).to(device_);
      FeatureTaps ts({layers.teacher}), ss({layers.student});
      teacher_->model->forwardTapped(x, ts);
      model_->eval();
      model_->forwardTapped(x, ss);
      model_->train();
      probe_t = ts.get(layers.teacher).to(torch::kFloat);
      probe_s = ss.get(layers.student).to(torch::kFloat);
    }
    distiller_ = FeatureDistiller(s_.method, s_.method_params, probe_s, probe_t, layers, n_, s_.seed + 7);
    distiller_->to(device_);
    distiller_->train();
    result_.teacher_layer = layers.teacher;
    result_.student_layer = layers.student;
    result_.extra_params = countParameters(*distiller_);
    t_.recorder_.log("info", "features: teacher layer \"" + layers.teacher + "\", student layer \"" + layers.student +
                                 "\", " + std::to_string(result_.extra_params) + " extra trained parameters");
  }

  // Synchronised BatchNorm reduces in every forward and backward pass: every
  // rank needs rows at every step, or the ranks' collectives would not pair up.
  void setUpSyncBatchNorm() {
    const int64_t world = s_.parallel->worldSize(), last = n_ % s_.batch_size;
    if (s_.batch_size < world || (last > 0 && last < world))
      throw ConfigError("distributed.sync_batchnorm",
                        "needs a row for each of the " + std::to_string(world) + " ranks at every step, but " +
                            std::to_string(n_) + " samples in batches of " + std::to_string(s_.batch_size) +
                            " leave a batch of " + std::to_string(s_.batch_size < world ? s_.batch_size : last) +
                            " rows; change batch_size (or the data's size)");
    int layers = 0;
    for (const auto& m : model_->modules(/*include_self=*/false))
      layers += dynamic_cast<const SyncableBatchNorm2dImpl*>(m.get()) != nullptr;
    t_.recorder_.log(layers > 0 ? "info" : "warning",
                     layers > 0 ? "data-parallel: " + std::to_string(layers) +
                                      " BatchNorm layers normalise over every rank's rows (sync_batchnorm)"
                                : "distributed.sync_batchnorm: the model has no zoo BatchNorm layer to synchronise");
  }

  void setUpOptimizer() {
    trained_modules_ = {model_.get()};
    if (distiller_) trained_modules_.push_back(distiller_.get());
    std::vector<torch::Tensor> params = model_->parameters();
    if (distiller_)
      for (const auto& p : distiller_->parameters()) params.push_back(p);
    optimizer_ = makeOptimizer(params, s_.optim);
    params_ = params;
    extra_flops_ = distiller_ ? distiller_->flopsPerSample() : 0.0;
  }

  // Cached logits are valid only for the unaugmented inputs they were computed on;
  // feature methods need more than logits, so they always run the teacher.
  void setUpTeacherCache() {
    cached_teacher_ = uses_teacher_ && !reads_features_ && (teacher_->train_cache || teacher_->train_logits.defined()) &&
                      !data_.augment.any();
    if (!cached_teacher_) return;
    cost_.teacher_queries = teacher_->cache_queries;
    cost_.money = teacher_->cache_money;
    cost_.flops = teacher_->flops_per_sample * teacher_->cache_queries;
  }

  void restore(const TrainingCheckpoint& c, int64_t& first_epoch, int64_t& first_batch) {
    restoreCheckpoint(c, total_, trained_modules_, *optimizer_, s_.optim.name, device_, best_state_);
    cost_ = c;
    cost_.teacher_passes_saved = cached_teacher_ ? c.samples : 0.0;
    result_.best_val_accuracy = c.best_val_accuracy;
    result_.final_val_accuracy = c.final_val_accuracy;
    result_.final_val_agreement = c.final_val_agreement;
    result_.final_val_kl = c.final_val_kl;
    result_.best_test_accuracy = c.best_test_accuracy;
    result_.best_test_agreement = c.best_test_agreement;
    result_.selected_step = c.selected_step;
    lr_ = c.lr;
    setLearningRate(*optimizer_, s_.optim, lr_);
    t_.start_ = std::chrono::steady_clock::now() -
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(c.wall_s));
    first_epoch = c.step / steps_per_epoch_;
    first_batch = c.step % steps_per_epoch_;
    // Draw the finished epochs' orders, so the remaining batches are the ones the run would have seen.
    const CostCounters restored = cost_;
    for (int64_t e = 0; e < first_epoch; ++e) epochOrder(int(e));
    cost_ = restored;
    t_.recorder_.log("info", "resumed at step " + std::to_string(c.step) + " of " + std::to_string(total_) +
                                 " (epoch " + formatEpoch(c.epoch) + ")");
  }

  // The order of the epoch's samples: a seeded permutation of data.train, or
  // (active learning) of the rows bought so far, cycled to n_ samples.
  torch::Tensor epochOrder(int epoch) {
    if (!s_.epoch_rows) return torch::randperm(n_, gen_, torch::kLong);
    const torch::Tensor rows = s_.epoch_rows(epoch, cost_);
    if (rows.size(0) == 0) throw std::logic_error("active learning: no rows to train on at epoch " + std::to_string(epoch));
    torch::Tensor order = rows.index_select(0, torch::randperm(rows.size(0), gen_, torch::kLong));
    if (order.size(0) < n_) order = order.repeat({(n_ + order.size(0) - 1) / order.size(0)});
    return order.slice(0, 0, n_);
  }

  void runEpoch(int epoch, int64_t first_batch) {
    auto perm = epochOrder(epoch);
    for (int64_t b = first_batch; b < steps_per_epoch_; ++b) {
      // Ranks stop at the same step: the one after any rank saw the request.
      if (parallel_.stopRequested()) {
        result_.cancelled = true;
        checkpoint(); // a consistent state between two steps: resume continues from here
        return;
      }
      auto idx = perm.slice(0, b * s_.batch_size, std::min(n_, (b + 1) * s_.batch_size));
      const double global_batch = double(idx.size(0));
      idx = parallel_.shard(idx);
      trainStep(idx, global_batch);
      cost_.epoch = epoch + double(b + 1) / double(steps_per_epoch_);
      afterStep(b + 1 == steps_per_epoch_, b + 1);
    }
  }

  // The teacher's logits (and feature) for a batch, from the cache or a forward pass.
  void teacherOutputs(const torch::Tensor& x, const torch::Tensor& idx, double batch, torch::Tensor& logits,
                      torch::Tensor& feature) {
    if (reads_features_) {
      torch::NoGradGuard no_grad;
      Bf16Autocast autocast(s_.bf16_autocast && device_.is_cuda());
      FeatureTaps taps({result_.teacher_layer});
      logits = teacher_->model->forwardTapped(x, taps);
      feature = taps.get(result_.teacher_layer);
    } else if (cached_teacher_) {
      logits = (teacher_->train_logits.defined() ? teacher_->train_logits.index_select(0, idx)
                                                 : teacher_->train_cache->logits(idx))
                   .to(device_, /*non_blocking=*/true);
      cost_.teacher_passes_saved += batch;
      return;
    } else if (uses_teacher_ && teacher_->hasModel()) {
      torch::NoGradGuard no_grad;
      Bf16Autocast autocast(s_.bf16_autocast && device_.is_cuda());
      logits = teacher_->model->forward(x);
    } else {
      return;
    }
    cost_.teacher_queries += batch;
    cost_.flops += teacher_->flops_per_sample * batch;
  }

  // idx: this rank's rows of the step's global batch of global_batch samples.
  void trainStep(const torch::Tensor& idx, double global_batch) {
    if (idx.size(0) == 0) { // a last batch smaller than the world: this rank only joins the reduction
      optimizer_->zero_grad();
      parallel_.reduceGradients(params_, 0.0);
      optimizer_->step();
      countStep(global_batch);
      return;
    }
    // Through the backward pass: BatchNorm over every rank's rows, when asked.
    const auto bn_sync = parallel_.batchNormSync(s_.sync_batchnorm);
    auto x = data_.train.x.index_select(0, idx).to(device_, /*non_blocking=*/true);
    auto y = data_.train.y.index_select(0, idx).to(device_, /*non_blocking=*/true);
    if (augmenter_) x = augmenter_->apply(x, cost_.step); // teacher and student see the same batch
    // Counters count the global batch: every rank's work, as one rank would.
    const double batch = global_batch;
    torch::Tensor teacher_logits, teacher_feature, student_feature;
    teacherOutputs(x, idx, batch, teacher_logits, teacher_feature);
    if (s_.labels_from_teacher) {
      if (!teacher_logits.defined())
        throw std::logic_error("hidden labels need a teacher's answers, and this method reads none");
      y = teacher_logits.argmax(1);
    }
    torch::Tensor student_logits;
    {
      Bf16Autocast autocast(s_.bf16_autocast && device_.is_cuda());
      if (reads_features_) {
        FeatureTaps taps({result_.student_layer});
        student_logits = model_->forwardTapped(x, taps);
        student_feature = taps.get(result_.student_layer);
      } else {
        student_logits = model_->forward(x);
      }
    }
    // Losses in fp32 whatever the forward pass ran in.
    LossParts loss =
        reads_features_
            ? distiller_->loss(student_logits.to(torch::kFloat), student_feature.to(torch::kFloat),
                               teacher_logits.to(torch::kFloat), teacher_feature.to(torch::kFloat), y, idx)
            : methodLoss(s_.method, s_.method_params, student_logits.to(torch::kFloat),
                         teacher_logits.defined() ? teacher_logits.to(torch::kFloat) : teacher_logits, y,
                         LossContext{cost_.epoch});
    if (s_.optim.schedule == "cosine") {
      lr_ = scheduledLearningRate(s_.optim, cost_.step, total_);
      setLearningRate(*optimizer_, s_.optim, lr_);
    }
    optimizer_->zero_grad();
    loss.total.backward();
    parallel_.reduceGradients(params_, double(idx.size(0)));
    optimizer_->step();

    countStep(batch);
    parallel_.countLocal(double(idx.size(0)));
    window_.add(loss.total, loss.soft, loss.hard, double(idx.size(0)));
  }

  void countStep(double batch) {
    ++cost_.step;
    cost_.samples += batch;
    cost_.flops += 3.0 * (model_flops_ + extra_flops_) * batch; // forward + backward ~ 3x forward
  }

  // Logging, mid-epoch validation, progress and checkpoints after step `batch_in_epoch` of an epoch.
  void afterStep(bool epoch_end, int64_t batch_in_epoch) {
    // On the step grid, so a resumed run logs at the steps the run would have.
    const bool log_step = cost_.step % s_.log_every == 0;
    if (log_step || epoch_end) checkNotDiverged();
    if (log_step) logWindow();
    // Mid-epoch passes for the curves; none just before the epoch-end pass.
    if (batch_in_epoch % eval_interval_ == 0 && steps_per_epoch_ - batch_in_epoch >= eval_interval_ / 2) evaluate();
    if (t_.progress_) t_.progress_(cost_.step, total_, cost_.epoch);
    const double since_checkpoint =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_).count();
    if (s_.checkpoint_every > 0 && cost_.step % s_.checkpoint_every == 0) checkpoint();
    else if (s_.checkpoint_seconds > 0 && since_checkpoint >= s_.checkpoint_seconds) checkpoint();
  }

  void checkNotDiverged() {
    auto bad = window_.firstNonFinite(cost_.step);
    if (!bad) return;
    record("train_loss", bad->value);
    t_.recorder_.flush(true);
    std::string hint = "try a lower learning rate (" + s_.lr_field + ")";
    if (s_.method_params.count("temperature")) hint += " or a lower temperature (method.temperature)";
    throw DivergedError(bad->value, bad->step, hint);
  }

  void logWindow() {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start_).count();
    const auto m = parallel_.reduceWindow(window_); // over all ranks' rows
    record("train_loss", m.total);
    if (window_.hasSoft()) record("train_soft_loss", m.soft);
    if (window_.hasHard()) record("train_hard_loss", m.hard);
    if (secs > 0) record("samples_per_s", m.samples / secs);
    record("lr", lr_);
    window_.clear();
    window_start_ = std::chrono::steady_clock::now();
    t_.recorder_.flush(false);
  }

  void snapshotWeights() {
    torch::NoGradGuard no_grad;
    best_state_.clear();
    for (const auto& t : model_->parameters()) best_state_.push_back(t.detach().clone());
    for (const auto& t : model_->buffers()) best_state_.push_back(t.detach().clone());
  }

  void evaluate() {
    if (!isRoot()) return; // the ranks hold the same weights: rank 0 measures for all
    if (data_.val.size() == 0) return; // no held-out data: nothing to measure or select on
    // Agreement is measured for every run that has a teacher, even one trained without it (method none).
    Trainer::Evaluation e = t_.evaluate(model_, data_.val, teacher_ ? teacher_->val_logits : torch::Tensor());
    record("val_loss", e.loss);
    record("val_accuracy", e.accuracy);
    if (e.accuracy > result_.best_val_accuracy || best_state_.empty()) {
      result_.best_val_accuracy = e.accuracy;
      result_.selected_step = cost_.step;
      if (s_.select_best) snapshotWeights();
    }
    result_.final_val_accuracy = e.accuracy;
    if (e.agreement >= 0) {
      record("val_agreement", e.agreement);
      record("val_kl", e.kl);
      result_.final_val_agreement = e.agreement;
      result_.final_val_kl = e.kl;
    }
    if (s_.track_test && data_.test.size() > 0) {
      Trainer::Evaluation te = t_.evaluate(model_, data_.test, teacher_ ? teacher_->test_logits : torch::Tensor());
      record("test_accuracy", te.accuracy);
      result_.best_test_accuracy = std::max(result_.best_test_accuracy, te.accuracy);
      if (te.agreement >= 0) {
        record("test_agreement", te.agreement);
        result_.best_test_agreement = std::max(result_.best_test_agreement, te.agreement);
      }
    }
    t_.recorder_.flush(true);
  }

  // A checkpoint holds everything the loop needs to continue at cost_.step.
  void checkpoint() {
    if (!s_.on_checkpoint || !isRoot()) return;
    last_checkpoint_ = std::chrono::steady_clock::now();
    t_.recorder_.flush(true);
    TrainingCheckpoint c = captureCheckpoint(cost_, secondsSinceStart(), lr_, total_, trained_modules_, *optimizer_,
                                             s_.optim.name, best_state_);
    c.best_val_accuracy = result_.best_val_accuracy;
    c.final_val_accuracy = result_.final_val_accuracy;
    c.final_val_agreement = result_.final_val_agreement;
    c.final_val_kl = result_.final_val_kl;
    c.best_test_accuracy = result_.best_test_accuracy;
    c.best_test_agreement = result_.best_test_agreement;
    c.selected_step = result_.selected_step;
    s_.on_checkpoint(c);
  }

  void keepSelectedWeights() {
    if (s_.select_best && !best_state_.empty() && !result_.cancelled && result_.selected_step != cost_.step) {
      torch::NoGradGuard no_grad;
      size_t i = 0;
      for (auto& t : model_->parameters()) t.copy_(best_state_[i++]);
      for (auto& t : model_->buffers()) t.copy_(best_state_[i++]);
      t_.recorder_.log("info", "kept the weights of step " + std::to_string(result_.selected_step) +
                                   " (best validation accuracy " + std::to_string(result_.best_val_accuracy) + ")");
    } else {
      result_.selected_step = cost_.step;
    }
  }

  Trainer& t_;
  const Dataset& data_;
  torch::Device device_;
  const Classifier& model_;
  double model_flops_;
  const TeacherOutputs* teacher_;
  const TrainerSettings& s_;
  const int64_t n_, steps_per_epoch_, total_, eval_interval_;
  const bool uses_teacher_;
  at::Generator gen_;

  bool reads_features_ = false, cached_teacher_ = false;
  FeatureDistiller distiller_{nullptr};
  double extra_flops_ = 0.0;
  std::vector<torch::nn::Module*> trained_modules_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<torch::Tensor> params_; // what the optimiser trains: the gradients the ranks average
  DataParallelTraining parallel_; // one rank's part (a one-process run: all of it)
  std::optional<BatchAugmenter> augmenter_;
  CostCounters& cost_ = t_.cost_;
  TrainerResult result_;
  double lr_;
  std::vector<torch::Tensor> best_state_;
  LossWindow window_;
  std::chrono::steady_clock::time_point window_start_, last_checkpoint_;
};

Trainer::Trainer(const Dataset& data, torch::Device device, RunRecorder& recorder, const StopToken& stop,
                 ProgressFn progress)
    : data_(data), device_(device), recorder_(recorder), stop_(stop), progress_(std::move(progress)) {}

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
                             const TrainerSettings& settings) {
  return ImageTrainingLoop(*this, model, model_flops, teacher, settings).run();
}

} // namespace distillery
