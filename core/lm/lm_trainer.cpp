#include "core/lm/lm_trainer.h"

#include "core/forensics/watermark_sampler.h"

#include "core/base/errors.h"
#include "core/base/splitmix64.h"
#include "core/lm/lm_generation.h"
#include "core/lm/lm_losses.h"
#include "core/methods/method_losses.h"
#include "core/methods/method_registry.h"
#include "core/models/tensor_bytes.h"
#include "core/training/checkpoint_capture.h"
#include "core/training/chunked_inference.h"
#include "core/training/data_parallel_training.h"
#include "core/training/loss_window.h"
#include "core/training/optimizer_setup.h"

#include <cmath>
#include <memory>
#include <optional>

namespace distillery {

torch::Tensor windowLogits(Gpt model, const torch::Tensor& inputs, torch::Device device, int64_t chunk) {
  return inferInChunks(model, inputs, device, chunk, {0, 0, 0});
}

LmEvaluation evaluateLogits(const torch::Tensor& student, const torch::Tensor& targets, const torch::Tensor& teacher) {
  LmEvaluation e;
  const int64_t V = student.size(-1);
  auto s = student.reshape({-1, V});
  auto mask = torch::ones({s.size(0)});
  e.loss = tokenCrossEntropy(s, targets.reshape({-1}), mask).item<double>();
  if (teacher.defined()) {
    auto t = teacher.reshape({-1, V});
    e.agreement = top1Agreement(s, t, mask);
    e.kl = forwardKl(s, t, mask).item<double>();
  }
  return e;
}

namespace {

double param(const std::map<std::string, double>& params, const char* key, double fallback) {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

// Mask over the targets of a [B, C + 1] sequence whose first prompt tokens were given:
// target j is token j + 1, generated when j + 1 >= prompt.
torch::Tensor generatedTargetMask(int64_t batch, int64_t context, int64_t prompt) {
  auto m = torch::zeros({batch, context});
  m.slice(1, std::max<int64_t>(0, prompt - 1)).fill_(1.0);
  return m.reshape({-1});
}

// Validation results in a checkpoint; a non-finite value (JSON has no NaN) reads back as NaN.
nlohmann::json evaluationJson(const LmEvaluation& e) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"loss", number(e.loss)}, {"agreement", number(e.agreement)}, {"kl", number(e.kl)}};
}

LmEvaluation evaluationFromJson(const nlohmann::json& j, const LmEvaluation& fallback) {
  if (!j.is_object()) return fallback;
  auto number = [&](const char* key, double v) {
    if (!j.contains(key)) return v;
    return j[key].is_number() ? j[key].get<double>() : std::nan("");
  };
  return {number("loss", fallback.loss), number("agreement", fallback.agreement), number("kl", fallback.kl)};
}

// The generator of row `row` of step `step`'s global batch: a row's sampled
// text depends on (seed, step, row) alone, not on which rank writes it or how
// many rows share its batch (splitmix64 of the three).
at::Generator rowGenerator(uint64_t seed, int64_t step, int64_t row) {
  const uint64_t z = seed ^ (uint64_t(step) * kSplitMix64Gamma) ^ (uint64_t(row) * 0xd1b54a32d192ed03ULL);
  return seededGenerator(splitMix64(z - kSplitMix64Gamma)); // SplitMix64's mix of z itself
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

// One call of LmTrainer::train: the loop's state and its steps, each a method.
class LmTrainingLoop {
public:
  LmTrainingLoop(LmTrainer& trainer, Gpt student, double student_flops, const LmTeacherModel* teacher,
                 const LmTrainSettings& s)
      : t_(trainer), corpus_(trainer.corpus_), device_(trainer.device_), student_(student),
        student_flops_(student_flops), s_(s), B_(s.batch_size), C_(s.context), train_tokens_(corpus_.train.numel()),
        has_teacher_(teacher && teacher->model), teacher_model_(has_teacher_ ? teacher->model : Gpt(nullptr)),
        teacher_flops_(has_teacher_ ? teacher->flops_per_token : 0.0), batch_gen_(seededGenerator(s.seed)),
        // Generation draws from per-row generators (rowGenerator); this one stays in the
        // checkpoint's two generator states, which older checkpoints hold too.
        sample_gen_(seededGenerator(s.seed ^ 0x5eedf00dULL)),
        lr_(s.optim.lr), prompt_(int64_t(std::llround(param(s.method_params, "prompt_tokens", 8)))),
        sample_temperature_(param(s.method_params, "temperature", 1.0)),
        lambda_(param(s.method_params, "lambda", 0.5)), parallel_(s.parallel, trainer.stop_) {
    if (has_teacher_ && teacher->watermark.enabled) {
      watermark_.emplace(teacher->watermark.params, teacher->watermark.delta, corpus_.vocab.size());
      watermark_fraction_ = teacher->watermark.fraction;
    }
  }

  LmTrainResult run() {
    t_.start_ = std::chrono::steady_clock::now();
    cost_ = {};
    checkSetup();
    student_->to(device_);
    student_->train();
    if (has_teacher_) {
      teacher_model_->to(device_);
      teacher_model_->eval();
    }
    optimizer_ = makeOptimizer(student_->parameters(), s_.optim);
    prepareValidation();
    last_checkpoint_ = std::chrono::steady_clock::now();
    const TrainingCheckpoint* resume = parallel_.resumeFrom(s_.resume); // rank 0's, on every rank
    if (resume) restore(*resume);
    else evaluate();
    // Every rank starts from rank 0's weights (a resumed one from the same checkpoint anyway).
    parallel_.startFromRoot(studentTensors());
    window_start_ = std::chrono::steady_clock::now();
    window_eval_start_ = eval_s_;
    for (int64_t step = cost_.step; step < s_.steps; ++step) {
      if (parallel_.stopRequested()) { // data-parallel: the step every rank agreed on
        result_.cancelled = true;
        checkpoint(); // a consistent state between two steps: resume continues from here
        break;
      }
      trainStep(step);
      afterStep();
    }
    checkNotDiverged(); // the steps since the last log line
    if (!result_.cancelled && last_eval_step_ != cost_.step) evaluate();
    keepSelectedWeights();
    if (!result_.cancelled) finishRanks();
    result_.cost = cost_;
    result_.wall_s = secondsSince(t_.start_);
    result_.eval_s = eval_s_;
    t_.recorder_.flush(true);
    return result_;
  }

private:
  bool isRoot() const { return parallel_.isRoot(); }

  std::vector<torch::Tensor> studentTensors() const {
    std::vector<torch::Tensor> all = student_->parameters();
    for (const auto& t : student_->buffers()) all.push_back(t);
    return all;
  }

  // Every rank ends with rank 0's selected weights; the watermark's counts are every rank's.
  void finishRanks() {
    parallel_.finish(studentTensors(), t_.recorder_, "tokens");
    if (!parallel_.enabled()) return;
    result_.watermark_tokens = int64_t(std::llround(parallel_.sum(double(result_.watermark_tokens))));
    result_.watermark_green = int64_t(std::llround(parallel_.sum(double(result_.watermark_green))));
  }

  void record(const std::string& metric, double value) {
    if (!isRoot()) return;
    t_.recorder_.add(metricPointAt(cost_, secondsSince(t_.start_), metric, value));
  }

  void checkSetup() {
    if (train_tokens_ <= C_ + 1)
      throw DataError(corpus_.path, "the training split holds " + std::to_string(train_tokens_) +
                                        " tokens; windows of context + 1 = " + std::to_string(C_ + 1) + " need more");
    const MethodInfo* method_info = findMethod(s_.method);
    method_loss_ = findMethodLoss(s_.method);
    if (!method_info || !method_loss_ || !method_loss_->tokens)
      throw ConfigError("method.name", "no loss implemented for method \"" + s_.method + "\" in language-model runs");
    if (method_info->needs_teacher && !has_teacher_)
      throw ConfigError("teacher", "method \"" + s_.method + "\" needs a teacher");
    // Whose text the batches hold: the teacher writes every one, the student some, or none is written.
    teacher_writes_ = method_loss_->text == BatchText::Teacher;
    student_writes_some_ = method_loss_->text == BatchText::StudentSometimes;
    // The teacher's logits are read unless it only writes text (or there is no teacher term).
    reads_teacher_logits_ = method_info->needs_teacher && !teacher_writes_;
    if (has_teacher_ && teacher_model_->spec().context < C_)
      throw ConfigError("teacher", "the teacher's context (" + std::to_string(teacher_model_->spec().context) +
                                       ") is shorter than the student's (" + std::to_string(C_) + ")");
  }

  // Validation windows and the teacher's logits on them are fixed: computed once.
  void prepareValidation() {
    val_ = makeWindows(corpus_.val, C_, s_.eval_tokens);
    result_.val_tokens = val_.tokens();
    if (!isRoot()) return; // rank 0 validates for all
    if (!has_teacher_ || val_.tokens() == 0) return;
    const auto teacher_start = std::chrono::steady_clock::now();
    teacher_val_logits_ = windowLogits(teacher_model_, val_.inputs, device_);
    result_.teacher_val_loss = evaluateLogits(teacher_val_logits_, val_.targets, torch::Tensor()).loss;
    if (!s_.resume) { // a resumed run has these points already
      record("teacher_val_loss", result_.teacher_val_loss);
      record("teacher_val_perplexity", std::exp(result_.teacher_val_loss));
    }
    eval_s_ += secondsSince(teacher_start);
  }

  void evaluate() {
    if (!isRoot()) return; // the ranks hold the same weights: rank 0 measures for all
    if (val_.tokens() == 0) return;
    const auto eval_start = std::chrono::steady_clock::now();
    LmEvaluation e = evaluateLogits(windowLogits(student_, val_.inputs, device_), val_.targets, teacher_val_logits_);
    record("val_loss", e.loss);
    record("val_perplexity", std::exp(e.loss));
    if (e.agreement >= 0) {
      record("val_agreement", e.agreement);
      record("val_kl", e.kl);
    }
    if (cost_.step == 0) result_.initial = e;
    if (e.loss < result_.best_val_loss || best_state_.empty()) {
      result_.best_val_loss = e.loss;
      result_.selected_step = cost_.step;
      if (s_.select_best) {
        torch::NoGradGuard no_grad;
        best_state_.clear();
        for (const auto& t : student_->parameters()) best_state_.push_back(t.detach().clone());
      }
    }
    result_.final = e;
    t_.recorder_.flush(true);
    eval_s_ += secondsSince(eval_start);
  }

  // A checkpoint holds everything the loop needs to continue at cost_.step.
  void checkpoint() {
    if (!s_.on_checkpoint || !isRoot()) return;
    checkNotDiverged(); // never keep a diverged model to resume from
    last_checkpoint_ = std::chrono::steady_clock::now();
    t_.recorder_.flush(true);
    TrainingCheckpoint c = captureCheckpoint(cost_, secondsSince(t_.start_), lr_, s_.steps, {student_.get()},
                                             *optimizer_, s_.optim.name, best_state_);
    c.selected_step = result_.selected_step;
    c.rng_state = saveTensors({batch_gen_.get_state(), sample_gen_.get_state()});
    c.loop_state = {{"initial", evaluationJson(result_.initial)},
                    {"final", evaluationJson(result_.final)},
                    {"eval_s", eval_s_},
                    {"last_eval_step", last_eval_step_}};
    if (std::isfinite(result_.best_val_loss)) c.loop_state["best_val_loss"] = result_.best_val_loss;
    s_.on_checkpoint(c);
  }

  void restore(const TrainingCheckpoint& c) {
    restoreCheckpoint(c, s_.steps, {student_.get()}, *optimizer_, s_.optim.name, device_, best_state_);
    if (!c.rng_state.empty()) {
      const auto states = loadTensors(c.rng_state);
      if (states.size() != 2) throw DataError("checkpoint", "holds " + std::to_string(states.size()) +
                                                               " generator states; a language-model run has 2");
      batch_gen_.set_state(states[0]);
      sample_gen_.set_state(states[1]);
    }
    cost_ = c;
    cost_.teacher_passes_saved = 0.0;
    const nlohmann::json& loop = c.loop_state;
    result_.initial = evaluationFromJson(loop.value("initial", nlohmann::json()), result_.initial);
    result_.final = evaluationFromJson(loop.value("final", nlohmann::json()), result_.final);
    if (loop.contains("best_val_loss") && loop["best_val_loss"].is_number())
      result_.best_val_loss = loop["best_val_loss"].get<double>();
    result_.selected_step = c.selected_step;
    eval_s_ += loop.value("eval_s", 0.0);
    last_eval_step_ = loop.value("last_eval_step", int64_t(0));
    lr_ = c.lr;
    setLearningRate(*optimizer_, s_.optim, lr_);
    t_.start_ = std::chrono::steady_clock::now() -
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(c.wall_s));
    t_.recorder_.log("info", "resumed at step " + std::to_string(c.step) + " of " + std::to_string(s_.steps));
  }

  // seq_kd and (a lambda share of) on_policy steps train on generated batches.
  bool generatesBatch(int64_t step) const {
    return teacher_writes_ ||
           (student_writes_some_ && std::floor(double(step + 1) * lambda_) > std::floor(double(step) * lambda_));
  }

  // The step's global batch is drawn on every rank alike; each trains on its
  // strided share of the rows (all of them on one process). Cost counters
  // count the global batch, as one process would.
  void trainStep(int64_t step) {
    const auto rows = parallel_.shard(torch::arange(B_, torch::kLong));
    const int64_t b = rows.size(0);
    auto window = sampleWindows(corpus_.train, B_, C_, batch_gen_).index_select(0, rows);
    torch::Tensor inputs = window.slice(1, 0, C_), targets = window.slice(1, 1, C_ + 1);
    torch::Tensor mask = torch::ones({b * C_});
    // This rank's rows that the watermarked teacher marks, where it writes and where it is read.
    const auto watermarked = watermark_ ? rowsOf(watermarkedRows(step * B_, B_, watermark_fraction_), rows)
                                        : std::vector<uint8_t>();
    if (b > 0 && generatesBatch(step)) {
      // A generated batch: the window's first tokens prompt, a model writes the rest.
      const bool teacher = teacher_writes_;
      const auto marked = teacher ? watermarked : std::vector<uint8_t>();
      auto sequence = generate(teacher ? teacher_model_ : student_, inputs.slice(1, 0, prompt_), step, rows, marked);
      inputs = sequence.slice(1, 0, C_);
      targets = sequence.slice(1, 1, C_ + 1);
      if (!marked.empty()) countGreen(sequence, marked);
      mask = generatedTargetMask(b, C_, prompt_);
    }
    if (generatesBatch(step)) {
      if (teacher_writes_) {
        cost_.teacher_queries += double(B_ * (C_ + 1)); // prompt read + tokens written
        cost_.flops += teacher_flops_ * double(B_ * C_);
      } else {
        cost_.flops += student_flops_ * double(B_ * (C_ + 1 - prompt_));
      }
    }
    if (reads_teacher_logits_) {
      cost_.teacher_queries += double(B_ * C_);
      cost_.flops += teacher_flops_ * double(B_ * C_);
    }
    if (s_.optim.schedule == "cosine") {
      lr_ = scheduledLearningRate(s_.optim, step, s_.steps);
      setLearningRate(*optimizer_, s_.optim, lr_);
    }
    optimizer_->zero_grad();
    // The loss is a mean over the mask's tokens: the ranks' gradients are weighted by them.
    const double tokens = mask.sum().item<double>();
    if (b > 0) {
      auto x = inputs.to(device_);
      auto student_logits = student_->forward(x).reshape({b * C_, -1});
      auto flat_targets = targets.reshape({-1}).to(device_);
      auto flat_mask = mask.to(device_);
      torch::Tensor teacher_logits;
      if (reads_teacher_logits_) {
        torch::NoGradGuard no_grad;
        teacher_logits = teacher_model_->forward(x);
        if (watermark_) // the distribution a watermarked teacher samples from
          teacher_logits = teacher_logits + watermark_->positionBias(inputs, watermarked).to(device_);
        teacher_logits = teacher_logits.reshape({b * C_, -1});
      }
      LmLossParts loss =
          method_loss_->tokens(s_.method_params, student_logits, teacher_logits, flat_targets, flat_mask);
      loss.total.backward();
      window_.add(loss.total, loss.soft, loss.hard, double(b * C_));
    }
    // A rank without rows (a batch smaller than the world) only joins the reduction.
    parallel_.reduceGradients(student_->parameters(), tokens);
    torch::nn::utils::clip_grad_norm_(student_->parameters(), 1.0); // of the global batch's gradient
    optimizer_->step();

    ++cost_.step;
    cost_.samples += double(B_ * C_);
    cost_.flops += 3.0 * student_flops_ * double(B_ * C_);
    cost_.epoch = cost_.samples / double(train_tokens_);
    parallel_.countLocal(double(b * C_));
  }

  // The entries of a global batch's per-row flags that belong to `rows`.
  static std::vector<uint8_t> rowsOf(const std::vector<uint8_t>& global, const torch::Tensor& rows) {
    std::vector<uint8_t> local;
    const auto r = rows.contiguous();
    for (int64_t i = 0; i < r.numel(); ++i) local.push_back(global[size_t(r.data_ptr<int64_t>()[i])]);
    return local;
  }

  // Continues each prompt row by sampling; row i of `rows` (its number in the
  // global batch) draws from its own generator (rowGenerator), so the text is
  // the same whichever rank writes it and however the batch is split. The
  // draw is Gumbel-max: argmax(logits + T * g) with g = -log(Exp(1)) noise is
  // a sample of softmax(logits / T); with a watermark, its bias is added to
  // the logits first, as the watermarked sampler does.
  torch::Tensor generate(Gpt writer, const torch::Tensor& prompt, int64_t step, const torch::Tensor& rows,
                         const std::vector<uint8_t>& marked) {
    std::vector<at::Generator> gens;
    const auto r = rows.contiguous();
    for (int64_t i = 0; i < r.numel(); ++i) gens.push_back(rowGenerator(s_.seed, step, r.data_ptr<int64_t>()[i]));
    const double T = sample_temperature_;
    const int64_t V = corpus_.vocab.size();
    NextTokenBias bias = [&](const torch::Tensor& seq) {
      torch::Tensor add = marked.empty() ? torch::zeros({seq.size(0), V}) : watermark_->nextTokenBias(seq, marked);
      if (T <= 0.0) return add; // greedy: no noise
      std::vector<torch::Tensor> noise;
      for (auto& g : gens) noise.push_back(torch::empty({V}, torch::kDouble).exponential_(1.0, g).log_().neg_());
      return (add.to(torch::kDouble) + T * torch::stack(noise)).to(torch::kFloat);
    };
    // Temperature 0 in generateTokens: it takes the argmax of logits + bias, which is the draw.
    return generateTokens(writer, prompt, C_ + 1 - prompt_, 0.0, sample_gen_, device_, bias);
  }

  // The green share of the watermarked text the teacher wrote: what the student is shown.
  void countGreen(const torch::Tensor& sequence, const std::vector<uint8_t>& rows) {
    const auto seq = sequence.contiguous();
    const int64_t L = seq.size(1), h = watermark_->greenList().params().context;
    const int64_t* data = seq.data_ptr<int64_t>();
    for (int64_t b = 0; b < seq.size(0); ++b) {
      if (!rows[size_t(b)]) continue;
      for (int64_t t = std::max(prompt_, h); t < L; ++t) {
        ++result_.watermark_tokens;
        result_.watermark_green += watermark_->greenList().isGreen(data + b * L + t - h, data[b * L + t]);
      }
    }
  }

  void afterStep() {
    // On the step grid, so a resumed run logs at the steps the run would have.
    if (cost_.step % s_.log_every == 0) {
      checkNotDiverged();
      logWindow();
    }
    if (cost_.step % s_.eval_every == 0 || cost_.step == s_.steps) {
      checkNotDiverged(); // a diverged model is not worth a validation pass
      evaluate();
      last_eval_step_ = cost_.step;
    }
    if (t_.progress_) t_.progress_(cost_.step, s_.steps, cost_.epoch);
    if (s_.checkpoint_every > 0 ? cost_.step % s_.checkpoint_every == 0 : last_eval_step_ == cost_.step)
      checkpoint();
    else if (s_.checkpoint_seconds > 0 && secondsSince(last_checkpoint_) >= s_.checkpoint_seconds)
      checkpoint();
  }

  void checkNotDiverged() {
    auto bad = window_.firstNonFinite(cost_.step);
    if (!bad) return;
    record("train_loss", bad->value);
    t_.recorder_.flush(true);
    throw DivergedError(bad->value, bad->step, "try a lower learning rate (" + s_.lr_field + ")");
  }

  void logWindow() {
    const double secs = secondsSince(window_start_) - (eval_s_ - window_eval_start_);
    const auto m = parallel_.reduceWindow(window_); // over all ranks' tokens
    record("train_loss", m.total);
    if (window_.hasSoft()) record("train_soft_loss", m.soft);
    // CE gets a curve of its own only beside a teacher term; alone it is train_loss.
    if (window_.hasHard() && window_.hasSoft()) record("train_hard_loss", m.hard);
    if (secs > 0) record("tokens_per_s", m.samples / secs);
    record("lr", lr_);
    window_.clear();
    window_start_ = std::chrono::steady_clock::now();
    window_eval_start_ = eval_s_;
    t_.recorder_.flush(false);
  }

  void keepSelectedWeights() {
    if (s_.select_best && !best_state_.empty() && !result_.cancelled && result_.selected_step != cost_.step) {
      torch::NoGradGuard no_grad;
      size_t i = 0;
      for (auto& t : student_->parameters()) t.copy_(best_state_[i++]);
      t_.recorder_.log("info", "kept the weights of step " + std::to_string(result_.selected_step) +
                                   " (lowest validation loss " + std::to_string(result_.best_val_loss) + ")");
      // The final evaluation describes the weights kept.
      result_.final =
          evaluateLogits(windowLogits(student_, val_.inputs, device_), val_.targets, teacher_val_logits_);
    } else {
      result_.selected_step = cost_.step;
    }
  }

  LmTrainer& t_;
  const TextCorpus& corpus_;
  torch::Device device_;
  Gpt student_;
  double student_flops_;
  const LmTrainSettings& s_;
  const int64_t B_, C_, train_tokens_;
  const bool has_teacher_;
  Gpt teacher_model_; // a holder: copies share the module
  const double teacher_flops_;
  at::Generator batch_gen_, sample_gen_;
  double lr_;
  const int64_t prompt_;
  const double sample_temperature_, lambda_;
  const MethodLoss* method_loss_ = nullptr;
  std::optional<WatermarkSampler> watermark_;
  double watermark_fraction_ = 1.0;
  bool teacher_writes_ = false, student_writes_some_ = false, reads_teacher_logits_ = false;

  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  CostCounters& cost_ = t_.cost_;
  LmTrainResult result_;
  LmWindows val_;
  torch::Tensor teacher_val_logits_;
  double eval_s_ = 0.0; // time spent validating, kept out of tokens/s
  int64_t last_eval_step_ = 0;
  std::vector<torch::Tensor> best_state_;
  LossWindow window_;
  std::chrono::steady_clock::time_point window_start_, last_checkpoint_;
  double window_eval_start_ = 0.0;
  DataParallelTraining parallel_; // one rank's part (a one-process run: all of it)
};

LmTrainer::LmTrainer(const TextCorpus& corpus, torch::Device device, RunRecorder& recorder, const StopToken& stop,
                     ProgressFn progress)
    : corpus_(corpus), device_(device), recorder_(recorder), stop_(stop), progress_(std::move(progress)) {}

LmTrainResult LmTrainer::train(Gpt student, double student_flops, const LmTeacherModel* teacher,
                               const LmTrainSettings& settings) {
  return LmTrainingLoop(*this, student, student_flops, teacher, settings).run();
}

} // namespace distillery
