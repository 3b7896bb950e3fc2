#pragma once
// Loss functions of the distillation methods. All take logits [N, C].
// Formulas, parameters and the choices made where sources disagree: docs/methods.md.
#include <torch/torch.h>

#include <map>
#include <string>

namespace distillery {

struct LossParts {
  torch::Tensor total;
  torch::Tensor soft; // the teacher term (undefined when the method has none)
  torch::Tensor hard; // cross-entropy on labels (undefined when unused)
};

// Training state a loss may depend on.
struct LossContext {
  double epoch = 0.0; // fractional, 0-based progress (0.5 = halfway through the first epoch)
};

// Hinton KD: alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y),
// KL averaged over the batch ("batchmean"). T^2 keeps the soft gradients' scale
// independent of T, as in Hinton et al. (TextBrewer drops it; we keep it).
LossParts kdLoss(const torch::Tensor& student, const torch::Tensor& teacher,
                 const torch::Tensor& labels, double temperature, double alpha);

// Dispatches on the method name with its resolved parameters. teacher may be
// undefined for methods that do not need one.
//   kd          total = alpha * soft + (1 - alpha) * hard, soft = T^2 KL
//   dkd         total = ce_weight * hard + min(epoch / warmup, 1) * soft,
//               soft = alpha * TCKD + beta * NCKD (before the warm-up factor)
//   dist        total = ce_weight * hard + soft, soft = tau^2 (beta inter + gamma intra)
//   logit_mse   total = alpha * soft + (1 - alpha) * hard, soft = MSE(s, t)
//   hard_label  total = alpha * soft + (1 - alpha) * hard, soft = CE(s, argmax t)
//   topk_probs  total = alpha * soft + (1 - alpha) * hard, soft = T^2 KL(top-k view)
//   none        total = hard
LossParts methodLoss(const std::string& method, const std::map<std::string, double>& params,
                     const torch::Tensor& student, const torch::Tensor& teacher,
                     const torch::Tensor& labels, const LossContext& context);

} // namespace distillery
