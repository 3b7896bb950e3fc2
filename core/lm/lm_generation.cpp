#include "core/lm/lm_generation.h"

#include <ATen/CPUGeneratorImpl.h>

namespace distillery {

namespace {

// Restores train/eval mode on scope exit.
class EvalModeScope {
public:
  explicit EvalModeScope(Gpt model) : model_(model), was_training_(model->is_training()) { model_->eval(); }
  ~EvalModeScope() { model_->train(was_training_); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

private:
  Gpt model_;
  bool was_training_;
};

torch::Tensor pickNext(const torch::Tensor& last_logits, double temperature, at::Generator& generator) {
  auto logits = last_logits.to(torch::kCPU, torch::kFloat);
  if (temperature <= 0.0) return logits.argmax(-1, /*keepdim=*/true);
  auto probs = torch::softmax(logits.to(torch::kDouble) / temperature, -1);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator);
}

} // namespace

at::Generator seededGenerator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

torch::Tensor generateTokens(Gpt model, const torch::Tensor& prompt, int64_t new_tokens, double temperature,
                             at::Generator& generator, torch::Device device, const NextTokenBias& bias) {
  torch::NoGradGuard no_grad;
  EvalModeScope eval(model);
  const int64_t context = model->spec().context;
  torch::Tensor sequence = prompt.to(torch::kCPU, torch::kLong);
  if (new_tokens <= 0) return sequence;
  GptKvCache cache;
  // Prefill: the prompt's last context tokens.
  auto window = sequence.slice(1, std::max<int64_t>(0, sequence.size(1) - context));
  auto logits = model->forward(window.to(device), &cache);
  for (int64_t i = 0; i < new_tokens; ++i) {
    auto last = logits.select(1, logits.size(1) - 1).to(torch::kCPU, torch::kFloat);
    if (bias) last = last + bias(sequence); // before the temperature, as a logits processor
    auto next = pickNext(last, temperature, generator);
    sequence = torch::cat({sequence, next}, 1);
    if (i + 1 == new_tokens) break;
    if (cache.length < context) {
      logits = model->forward(next.to(device), &cache);
    } else { // the context is full: slide the window, without a cache
      logits = model->forward(sequence.slice(1, sequence.size(1) - context).to(device));
    }
  }
  return sequence;
}

torch::Tensor scoreTokens(Gpt model, const torch::Tensor& sequence, torch::Device device) {
  torch::NoGradGuard no_grad;
  EvalModeScope eval(model);
  const int64_t context = model->spec().context;
  const int64_t L = sequence.size(1);
  auto seq = sequence.to(device, torch::kLong);
  std::vector<torch::Tensor> parts{model->forward(seq.slice(1, 0, std::min(L, context))).to(torch::kCPU)};
  for (int64_t end = context + 1; end <= L; ++end) {
    auto out = model->forward(seq.slice(1, end - context, end));
    parts.push_back(out.slice(1, context - 1, context).to(torch::kCPU));
  }
  return torch::cat(parts, 1);
}

} // namespace distillery
