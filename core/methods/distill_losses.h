#pragma once
// Loss functions of the distillation methods. All take logits [N, C].
// Formulas, parameters and the choices made where sources disagree: docs/methods.md.
#include <torch/torch.h>


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

// Decoupled KD (Zhao et al., CVPR 2022): ce_weight * CE(s, y) + min(epoch / warmup, 1) *
// (alpha * TCKD + beta * NCKD), both KLs times T^2; soft is the term before the warm-up factor.
LossParts dkdLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                  double alpha, double beta, double temperature, double warmup, double ce_weight, double epoch);
// DIST (Huang et al., NeurIPS 2022): ce_weight * CE(s, y) + tau^2 * (beta * inter + gamma * intra).
LossParts distLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                   double beta, double gamma, double tau, double ce_weight);
// alpha * mean((s - t)^2) + (1 - alpha) * CE(s, y).
LossParts logitMseLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double alpha);
// alpha * CE(s, argmax t) + (1 - alpha) * CE(s, y).
LossParts hardLabelLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                        double alpha);
// alpha * T^2 * KL(teacher's top-k view || student's) + (1 - alpha) * CE(s, y); k is
// clamped to the classes; tail: k + 1 bins with a tail bucket, else the missing
// mass spread evenly over the other classes.
LossParts topkProbsLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                        double k, double temperature, double alpha, bool tail);

// Which method uses which of these, and the dispatch by method name: method_losses.h.

} // namespace distillery
