#include "core/lm/lm_trainer.h"

#include "core/base/errors.h"
#include "core/lm/lm_generation.h"
#include "core/lm/lm_losses.h"
#include "core/methods/method_losses.h"
#include "core/methods/method_registry.h"
#include "core/models/tensor_bytes.h"

#include <cmath>
#include <memory>

namespace distillery {

torch::Tensor windowLogits(Gpt model, const torch::Tensor& inputs, torch::Device device, int64_t chunk) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < inputs.size(0); i += chunk)
    parts.push_back(model->forward(inputs.slice(0, i, std::min(i + chunk, inputs.size(0))).to(device)).to(torch::kCPU));
  model->train(was_training);
  if (parts.empty()) return torch::empty({0, 0, 0});
  return torch::cat(parts);
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

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(Gpt model, const OptimConfig& o) {
  if (o.name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        model->parameters(), torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::Adam>(model->parameters(),
                                              torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
}

void setLearningRate(torch::optim::Optimizer& optimizer, const OptimConfig& o, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (o.name == "sgd") static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    else static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

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

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

LmTrainer::LmTrainer(const TextCorpus& corpus, torch::Device device, RunRecorder& recorder, const StopToken& stop,
                     ProgressFn progress)
    : corpus_(corpus), device_(device), recorder_(recorder), stop_(stop), progress_(std::move(progress)) {}

void LmTrainer::record(const std::string& metric, double value) {
  MetricPoint p;
  p.metric = metric;
  p.step = cost_.step;
  p.epoch = cost_.epoch;
  p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  p.samples = cost_.tokens;
  p.flops = cost_.flops;
  p.teacher_queries = cost_.teacher_queries;
  p.value = value;
  recorder_.add(std::move(p));
}

LmTrainResult LmTrainer::train(Gpt student, double student_flops, const LmTeacherModel* teacher,
                               const LmTrainSettings& s) {
  start_ = std::chrono::steady_clock::now();
  cost_ = {};
  LmTrainResult result;
  const int64_t B = s.batch_size, C = s.context;
  const int64_t train_tokens = corpus_.train.numel();
  if (train_tokens <= C + 1)
    throw DataError(corpus_.path, "the training split holds " + std::to_string(train_tokens) +
                                      " tokens; windows of context + 1 = " + std::to_string(C + 1) + " need more");
  const bool has_teacher = teacher && teacher->model;
  Gpt teacher_model = has_teacher ? teacher->model : Gpt(nullptr); // a holder: copies share the module
  const MethodInfo* method_info = findMethod(s.method);
  const MethodLoss* method_loss = findMethodLoss(s.method);
  if (!method_info || !method_loss || !method_loss->tokens)
    throw ConfigError("method.name", "no loss implemented for method \"" + s.method + "\" in language-model runs");
  if (method_info->needs_teacher && !has_teacher)
    throw ConfigError("teacher", "method \"" + s.method + "\" needs a teacher");
  // Whose text the batches hold: the teacher writes every one, the student some, or none is written.
  const bool teacher_writes = method_loss->text == BatchText::Teacher;
  const bool student_writes_some = method_loss->text == BatchText::StudentSometimes;
  // The teacher's logits are read unless it only writes text (or there is no teacher term).
  const bool reads_teacher_logits = method_info->needs_teacher && !teacher_writes;
  if (has_teacher && teacher_model->spec().context < C)
    throw ConfigError("teacher", "the teacher's context (" + std::to_string(teacher_model->spec().context) +
                                     ") is shorter than the student's (" + std::to_string(C) + ")");
  student->to(device_);
  student->train();
  if (has_teacher) {
    teacher_model->to(device_);
    teacher_model->eval();
  }
  auto optimizer = makeOptimizer(student, s.optim);
  auto batch_gen = seededGenerator(s.seed);
  auto sample_gen = seededGenerator(s.seed ^ 0x5eedf00dULL); // generation draws apart from window draws

  // Validation windows and the teacher's logits on them are fixed: computed once.
  const LmWindows val = makeWindows(corpus_.val, C, s.eval_tokens);
  result.val_tokens = val.tokens();
  torch::Tensor teacher_val_logits;
  double eval_s = 0.0; // time spent validating, kept out of tokens/s
  if (has_teacher && val.tokens() > 0) {
    const auto teacher_start = std::chrono::steady_clock::now();
    teacher_val_logits = windowLogits(teacher_model, val.inputs, device_);
    result.teacher_val_loss = evaluateLogits(teacher_val_logits, val.targets, torch::Tensor()).loss;
    if (!s.resume) { // a resumed run has these points already
      record("teacher_val_loss", result.teacher_val_loss);
      record("teacher_val_perplexity", std::exp(result.teacher_val_loss));
    }
    eval_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - teacher_start).count();
  }

  std::vector<torch::Tensor> best_state;
  auto evaluate = [&]() {
    if (val.tokens() == 0) return;
    const auto eval_start = std::chrono::steady_clock::now();
    LmEvaluation e = evaluateLogits(windowLogits(student, val.inputs, device_), val.targets, teacher_val_logits);
    record("val_loss", e.loss);
    record("val_perplexity", std::exp(e.loss));
    if (e.agreement >= 0) {
      record("val_agreement", e.agreement);
      record("val_kl", e.kl);
    }
    if (cost_.step == 0) result.initial = e;
    if (e.loss < result.best_val_loss || best_state.empty()) {
      result.best_val_loss = e.loss;
      result.selected_step = cost_.step;
      if (s.select_best) {
        torch::NoGradGuard no_grad;
        best_state.clear();
        for (const auto& t : student->parameters()) best_state.push_back(t.detach().clone());
      }
    }
    result.final = e;
    recorder_.flush(true);
    eval_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
  };

  double lr = s.optim.lr;
  int64_t last_eval_step = 0;
  // A checkpoint holds everything the loop below needs to continue at cost_.step.
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto checkpoint = [&]() {
    if (!s.on_checkpoint) return;
    last_checkpoint = std::chrono::steady_clock::now();
    recorder_.flush(true);
    TrainingCheckpoint c = captureCheckpoint(
        {cost_.step, cost_.epoch, cost_.tokens, cost_.flops, cost_.teacher_queries, secondsSince(start_), lr, s.steps},
        {student.get()}, *optimizer, s.optim.name, best_state);
    c.selected_step = result.selected_step;
    c.rng_state = saveTensors({batch_gen.get_state(), sample_gen.get_state()});
    c.loop_state = {{"initial", evaluationJson(result.initial)},
                    {"final", evaluationJson(result.final)},
                    {"eval_s", eval_s},
                    {"last_eval_step", last_eval_step}};
    if (std::isfinite(result.best_val_loss)) c.loop_state["best_val_loss"] = result.best_val_loss;
    s.on_checkpoint(c);
  };

  if (s.resume) {
    const TrainingCheckpoint& c = *s.resume;
    restoreCheckpoint(c, s.steps, {student.get()}, *optimizer, s.optim.name, device_, best_state);
    if (!c.rng_state.empty()) {
      const auto states = loadTensors(c.rng_state);
      if (states.size() != 2) throw DataError("checkpoint", "holds " + std::to_string(states.size()) +
                                                               " generator states; a language-model run has 2");
      batch_gen.set_state(states[0]);
      sample_gen.set_state(states[1]);
    }
    cost_ = LmCost{c.step, c.epoch, c.samples, c.flops, c.teacher_queries};
    const nlohmann::json& loop = c.loop_state;
    result.initial = evaluationFromJson(loop.value("initial", nlohmann::json()), result.initial);
    result.final = evaluationFromJson(loop.value("final", nlohmann::json()), result.final);
    if (loop.contains("best_val_loss") && loop["best_val_loss"].is_number())
      result.best_val_loss = loop["best_val_loss"].get<double>();
    result.selected_step = c.selected_step;
    eval_s += loop.value("eval_s", 0.0);
    last_eval_step = loop.value("last_eval_step", int64_t(0));
    lr = c.lr;
    setLearningRate(*optimizer, s.optim, lr);
    start_ = std::chrono::steady_clock::now() -
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(c.wall_s));
    recorder_.log("info", "resumed at step " + std::to_string(c.step) + " of " + std::to_string(s.steps));
  } else {
    evaluate();
  }

  const int64_t prompt = int64_t(std::llround(param(s.method_params, "prompt_tokens", 8)));
  const double sample_temperature = param(s.method_params, "temperature", 1.0);
  const double lambda = param(s.method_params, "lambda", 0.5);
  const double teacher_flops = has_teacher ? teacher->flops_per_token : 0.0;

  double window_loss = 0, window_soft = 0, window_hard = 0, window_tokens = 0, window_eval_start = eval_s;
  int window_steps = 0;
  bool any_soft = false, any_hard = false;
  auto window_start = std::chrono::steady_clock::now();
  for (int64_t step = cost_.step; step < s.steps; ++step) {
    if (stop_.stopRequested()) {
      result.cancelled = true;
      checkpoint(); // a consistent state between two steps: resume continues from here
      break;
    }
    auto window = sampleWindows(corpus_.train, B, C, batch_gen);
    torch::Tensor inputs = window.slice(1, 0, C), targets = window.slice(1, 1, C + 1);
    torch::Tensor mask = torch::ones({B * C});
    LmLossParts loss;
    if (teacher_writes ||
        (student_writes_some && std::floor(double(step + 1) * lambda) > std::floor(double(step) * lambda))) {
      // A generated batch: the window's first tokens prompt, a model writes the rest.
      Gpt writer = teacher_writes ? teacher_model : student;
      auto sequence = generateTokens(writer, inputs.slice(1, 0, prompt), C + 1 - prompt, sample_temperature,
                                     sample_gen, device_);
      inputs = sequence.slice(1, 0, C);
      targets = sequence.slice(1, 1, C + 1);
      mask = generatedTargetMask(B, C, prompt);
      const double generated = double(B * (C + 1 - prompt));
      if (teacher_writes) {
        cost_.teacher_queries += double(B * (C + 1)); // prompt read + tokens written
        cost_.flops += teacher_flops * double(B * C);
      } else {
        cost_.flops += student_flops * generated;
      }
    }
    auto x = inputs.to(device_);
    auto student_logits = student->forward(x).reshape({B * C, -1});
    auto flat_targets = targets.reshape({-1}).to(device_);
    auto flat_mask = mask.to(device_);
    torch::Tensor teacher_logits;
    if (reads_teacher_logits) {
      torch::NoGradGuard no_grad;
      teacher_logits = teacher_model->forward(x).reshape({B * C, -1});
      cost_.teacher_queries += double(B * C);
      cost_.flops += teacher_flops * double(B * C);
    }
    loss = method_loss->tokens(s.method_params, student_logits, teacher_logits, flat_targets, flat_mask);
    if (s.optim.schedule == "cosine") {
      lr = 0.5 * s.optim.lr * (1.0 + std::cos(M_PI * double(step) / double(std::max<int64_t>(1, s.steps))));
      setLearningRate(*optimizer, s.optim, lr);
    }
    optimizer->zero_grad();
    loss.total.backward();
    torch::nn::utils::clip_grad_norm_(student->parameters(), 1.0);
    optimizer->step();

    ++cost_.step;
    cost_.tokens += double(B * C);
    cost_.flops += 3.0 * student_flops * double(B * C);
    cost_.epoch = cost_.tokens / double(train_tokens);

    const double loss_value = loss.total.item<double>();
    if (!std::isfinite(loss_value)) {
      record("train_loss", loss_value);
      recorder_.flush(true);
      throw DivergedError(loss_value, cost_.step, "try a lower learning rate (" + s.lr_field + ")");
    }
    window_loss += loss_value;
    if (loss.soft.defined()) window_soft += loss.soft.item<double>(), any_soft = true;
    if (loss.hard.defined()) window_hard += loss.hard.item<double>(), any_hard = true;
    window_tokens += double(B * C);
    ++window_steps;
    // On the step grid, so a resumed run logs at the steps the run would have.
    if (cost_.step % s.log_every == 0) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count() -
                          (eval_s - window_eval_start);
      record("train_loss", window_loss / window_steps);
      if (any_soft) record("train_soft_loss", window_soft / window_steps);
      // CE gets a curve of its own only beside a teacher term; alone it is train_loss.
      if (any_hard && any_soft) record("train_hard_loss", window_hard / window_steps);
      if (secs > 0) record("tokens_per_s", window_tokens / secs);
      record("lr", lr);
      window_loss = window_soft = window_hard = window_tokens = 0;
      window_steps = 0;
      any_soft = any_hard = false;
      window_start = std::chrono::steady_clock::now();
      window_eval_start = eval_s;
      recorder_.flush(false);
    }
    if (cost_.step % s.eval_every == 0 || cost_.step == s.steps) {
      evaluate();
      last_eval_step = cost_.step;
    }
    if (progress_) progress_(cost_.step, s.steps, cost_.epoch);
    if (s.checkpoint_every > 0 ? cost_.step % s.checkpoint_every == 0 : last_eval_step == cost_.step)
      checkpoint();
    else if (s.checkpoint_seconds > 0 && secondsSince(last_checkpoint) >= s.checkpoint_seconds)
      checkpoint();
  }
  if (!result.cancelled && last_eval_step != cost_.step) evaluate();
  if (s.select_best && !best_state.empty() && !result.cancelled && result.selected_step != cost_.step) {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& t : student->parameters()) t.copy_(best_state[i++]);
    recorder_.log("info", "kept the weights of step " + std::to_string(result.selected_step) +
                              " (lowest validation loss " + std::to_string(result.best_val_loss) + ")");
    // The final evaluation describes the weights kept.
    result.final = evaluateLogits(windowLogits(student, val.inputs, device_), val.targets, teacher_val_logits);
  } else {
    result.selected_step = cost_.step;
  }
  result.cost = cost_;
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  result.eval_s = eval_s;
  recorder_.flush(true);
  return result;
}

} // namespace distillery
