#include "core/distill_losses.h"

#include "core/errors.h"

namespace distillery {

namespace F = torch::nn::functional;

LossParts kdLoss(const torch::Tensor& student, const torch::Tensor& teacher,
                 const torch::Tensor& labels, double temperature, double alpha) {
  const double t = temperature;
  auto log_p_s = torch::log_softmax(student / t, 1);
  auto log_p_t = torch::log_softmax(teacher / t, 1);
  // KL(p_t || p_s) summed over classes, averaged over the batch.
  auto kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(1).mean();
  LossParts parts;
  parts.soft = kl * (t * t);
  parts.hard = F::cross_entropy(student, labels);
  parts.total = alpha * parts.soft + (1.0 - alpha) * parts.hard;
  return parts;
}

LossParts methodLoss(const std::string& method, const std::map<std::string, double>& params,
                     const torch::Tensor& student, const torch::Tensor& teacher,
                     const torch::Tensor& labels) {
  auto get = [&](const char* key) {
    auto it = params.find(key);
    if (it == params.end()) throw ConfigError(std::string("method.") + key, "missing parameter");
    return it->second;
  };
  if (method == "kd") return kdLoss(student, teacher, labels, get("temperature"), get("alpha"));
  if (method == "none") {
    LossParts parts;
    parts.hard = F::cross_entropy(student, labels);
    parts.total = parts.hard;
    return parts;
  }
  throw ConfigError("method.name", "no loss implemented for method \"" + method + "\"");
}

} // namespace distillery
