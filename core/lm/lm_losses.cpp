#include "core/lm/lm_losses.h"

#include <cmath>
#include <limits>

namespace distillery {

namespace F = torch::nn::functional;

torch::Tensor maskedTokenMean(const torch::Tensor& per_token, const torch::Tensor& mask) {
  auto m = mask.to(per_token.dtype());
  return (per_token * m).sum() / m.sum().clamp_min(1.0);
}

torch::Tensor tokenCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& mask) {
  auto per_token = F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  return maskedTokenMean(per_token, mask);
}

namespace {

// sum_v p_a (log p_a - log p_b) per row, from log-probabilities.
torch::Tensor klRows(const torch::Tensor& log_a, const torch::Tensor& log_b) {
  return (log_a.exp() * (log_a - log_b)).sum(-1);
}

} // namespace

torch::Tensor forwardKl(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                        double temperature) {
  auto ls = torch::log_softmax(student / temperature, -1);
  auto lt = torch::log_softmax(teacher / temperature, -1);
  return maskedTokenMean(klRows(lt, ls), mask);
}

torch::Tensor reverseKl(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                        double temperature) {
  auto ls = torch::log_softmax(student / temperature, -1);
  auto lt = torch::log_softmax(teacher / temperature, -1);
  return maskedTokenMean(klRows(ls, lt), mask);
}

torch::Tensor generalizedJsd(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask,
                             double beta, double temperature) {
  // The interior formula tends to 0 at both ends (m becomes one of the two
  // distributions), so the ends are defined as the pure KLs, as in TRL.
  if (beta <= 0.0) return forwardKl(student, teacher, mask, temperature);
  if (beta >= 1.0) return reverseKl(student, teacher, mask, temperature);
  auto ls = torch::log_softmax(student / temperature, -1);
  auto lt = torch::log_softmax(teacher / temperature, -1);
  auto lm = torch::logsumexp(torch::stack({lt + std::log(beta), ls + std::log1p(-beta)}), 0);
  auto per_token = beta * klRows(lt, lm) + (1.0 - beta) * klRows(ls, lm);
  return maskedTokenMean(per_token, mask);
}

TopkLogprobs teacherTopk(const torch::Tensor& teacher_logits, int64_t k) {
  const int64_t kk = std::min<int64_t>(k, teacher_logits.size(-1));
  auto top = torch::log_softmax(teacher_logits, -1).topk(kk, -1);
  return {std::get<0>(top), std::get<1>(top)};
}

torch::Tensor topkTailKl(const torch::Tensor& student, const TopkLogprobs& teacher, const torch::Tensor& mask) {
  auto ls = torch::log_softmax(student, -1);
  auto ls_top = ls.gather(-1, teacher.indices);
  auto per_token = klRows(teacher.logprobs, ls_top);
  if (teacher.indices.size(-1) < student.size(-1)) {
    // Teacher tail: what its k visible probabilities leave (no gradient flows to the teacher).
    auto pt_tail = (1.0 - teacher.logprobs.exp().sum(-1)).clamp_min(0.0);
    auto safe = torch::where(pt_tail > 0, pt_tail, torch::ones_like(pt_tail));
    // Student tail: its probability outside the teacher's top-k, summed in log space.
    auto ls_tail = torch::logsumexp(ls.scatter(-1, teacher.indices, -std::numeric_limits<float>::infinity()), -1);
    per_token = per_token + torch::where(pt_tail > 0, pt_tail * (safe.log() - ls_tail), torch::zeros_like(pt_tail));
  }
  return maskedTokenMean(per_token, mask);
}

double top1Agreement(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& mask) {
  auto same = (student.argmax(-1) == teacher.argmax(-1)).to(torch::kDouble);
  return maskedTokenMean(same, mask.to(torch::kDouble)).item<double>();
}

} // namespace distillery
