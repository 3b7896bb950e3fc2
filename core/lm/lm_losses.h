#pragma once
// Token-level losses of language-model distillation. Logits are [N, V] (one
// row per position, batch and time flattened); mask is [N] with 1 where the
// position counts. Each loss is the masked mean over positions of a per-token
// quantity, so a batch with more positions does not weigh more.
// Formulas and conventions: docs/methods.md ("Language models").
#include <torch/torch.h>


namespace distillery {

// sum(mask * per_token) / sum(mask); 0 when nothing is masked in.
torch::Tensor maskedTokenMean(const torch::Tensor& per_token, const torch::Tensor& mask);

// Next-token cross-entropy, targets [N] int64.
torch::Tensor tokenCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& mask);

// KL(p_t || p_s) per token, p = softmax(logits / temperature). No T^2 factor here.
torch::Tensor forwardKl(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                        double temperature = 1.0);
// KL(p_s || p_t) per token.
torch::Tensor reverseKl(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                        double temperature = 1.0);
// Generalised Jensen-Shannon divergence of GKD (Agarwal et al. 2024) as TRL computes it:
// beta * KL(p_t || m) + (1 - beta) * KL(p_s || m), m = beta * p_t + (1 - beta) * p_s,
// with beta = 0 defined as forward KL and beta = 1 as reverse KL.
torch::Tensor generalizedJsd(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                             double beta, double temperature = 1.0);

// What an API exposes per position: the teacher's k largest log-probabilities and their token ids.
struct TopkLogprobs {
  torch::Tensor logprobs; // [N, k], descending
  torch::Tensor indices;  // [N, k] int64
};
TopkLogprobs teacherTopk(const torch::Tensor& teacher_logits, int64_t k);
// KL over k + 1 bins: the teacher's top-k tokens and one tail bucket holding each
// model's remaining probability (no tail when k covers the vocabulary).
torch::Tensor topkTailKl(const torch::Tensor& student, const TopkLogprobs& teacher, const torch::Tensor& mask);

struct LmLossParts {
  torch::Tensor total;
  torch::Tensor soft; // the teacher term, when there is one
  torch::Tensor hard; // the corpus CE term, when there is one
};

// Which method uses which of these, and the dispatch by method name
// (lmTokenLoss): core/methods/method_losses.h.

// Fraction of masked positions where both models' most likely token is the same.
double top1Agreement(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits, const torch::Tensor& mask);

} // namespace distillery
