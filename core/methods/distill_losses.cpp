#include "core/methods/distill_losses.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery {

namespace F = torch::nn::functional;

namespace {

// Floor for probabilities that are summed before their log is taken (the
// student's tail bucket in topk_probs).
constexpr double kProbFloor = 1e-12;
// Added to the denominators of DIST's Pearson correlations.
constexpr double kPearsonEps = 1e-8;
// Subtracted from the target's scaled logit so that it drops out of a softmax
// (DKD's non-target distributions): e^-1000 underflows to 0 in float32 and float64.
constexpr double kMaskShift = 1000.0;

// KL(p || q) summed over the classes and averaged over the batch, from the
// target probabilities p and the log-probabilities log_q; 0 log 0 counts as 0.
torch::Tensor klBatchmean(const torch::Tensor& p, const torch::Tensor& log_q) {
  return (torch::xlogy(p, p) - p * log_q).sum(1).mean();
}

torch::Tensor oneHot(const torch::Tensor& like, const torch::Tensor& labels) {
  return torch::zeros_like(like).scatter_(1, labels.reshape({-1, 1}), 1.0);
}

} // namespace

LossParts dkdLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                  double alpha, double beta, double T, double warmup, double ce_weight, double epoch) {
  const auto gt = oneHot(student, labels);
  const auto zs = student / T, zt = teacher / T;
  // Target class versus the rest: two-bin log-distributions [N, 2]. The rest
  // bin is a logsumexp over the non-target classes, so a confident model's
  // rest bin (e^-40 and far below) keeps its exact log and its gradient.
  const auto is_target = gt.to(torch::kBool);
  auto binaryLog = [&](const torch::Tensor& z) {
    const auto log_p = torch::log_softmax(z, 1);
    const auto log_target = log_p.gather(1, labels.reshape({-1, 1})).squeeze(1);
    const auto log_rest = torch::logsumexp(log_p.masked_fill(is_target, -std::numeric_limits<double>::infinity()), 1);
    return torch::stack({log_target, log_rest}, 1);
  };
  const auto log_bs = binaryLog(zs), log_bt = binaryLog(zt);
  const auto tckd = (log_bt.exp() * (log_bt - log_bs)).sum(1).mean() * (T * T);
  // Distributions over the non-target classes only.
  const auto log_qs = torch::log_softmax(zs - kMaskShift * gt, 1);
  const auto qt = torch::softmax(zt - kMaskShift * gt, 1);
  const auto nckd = klBatchmean(qt, log_qs) * (T * T);
  const double warm = warmup <= 0 ? 1.0 : std::clamp(epoch / warmup, 0.0, 1.0);
  LossParts parts;
  parts.soft = alpha * tckd + beta * nckd;
  parts.hard = F::cross_entropy(student, labels);
  parts.total = ce_weight * parts.hard + warm * parts.soft;
  return parts;
}

namespace {

// Pearson correlation between matching rows of a and b, [N].
torch::Tensor rowPearson(const torch::Tensor& a, const torch::Tensor& b) {
  const auto ac = a - a.mean(1, true), bc = b - b.mean(1, true);
  const auto na = torch::linalg_vector_norm(ac, 2, torch::IntArrayRef{1}, false, c10::nullopt);
  const auto nb = torch::linalg_vector_norm(bc, 2, torch::IntArrayRef{1}, false, c10::nullopt);
  return (ac * bc).sum(1) / (na * nb + kPearsonEps);
}

} // namespace

LossParts distLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                   double beta, double gamma, double tau, double ce_weight) {
  const auto ys = torch::softmax(student / tau, 1), yt = torch::softmax(teacher / tau, 1);
  const auto inter = 1.0 - rowPearson(ys, yt).mean();         // per sample, across classes
  const auto intra = 1.0 - rowPearson(ys.t(), yt.t()).mean(); // per class, across the batch
  LossParts parts;
  parts.soft = (tau * tau) * (beta * inter + gamma * intra);
  parts.hard = F::cross_entropy(student, labels);
  parts.total = ce_weight * parts.hard + parts.soft;
  return parts;
}

// Only the teacher's k highest probabilities at temperature T are visible.
LossParts topkProbsLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                   double k_param, double T, double alpha, bool tail) {
  const int64_t C = student.size(1);
  const int64_t k = std::clamp<int64_t>(std::llround(k_param), 1, C);
  const auto log_ps = torch::log_softmax(student / T, 1);
  const auto pt = torch::softmax(teacher / T, 1);
  auto [visible, index] = pt.topk(k, 1);
  torch::Tensor q, log_p; // teacher's view and the student's log-probabilities on the same bins
  if (k == C) {
    q = visible;
    log_p = log_ps.gather(1, index);
  } else {
    const auto missing = (1.0 - visible.sum(1, true)).clamp_min(0.0);
    if (tail) {
      // k + 1 bins: the teacher's top-k classes and one bucket for the rest.
      const auto rest = 1.0 - torch::zeros_like(student).scatter_(1, index, 1.0);
      const auto student_tail = (log_ps.exp() * rest).sum(1, true).clamp_min(kProbFloor);
      q = torch::cat({visible, missing}, 1);
      log_p = torch::cat({log_ps.gather(1, index), student_tail.log()}, 1);
    } else {
      // All C classes: the missing mass spread evenly over the C - k hidden ones.
      q = (missing / double(C - k)).expand({student.size(0), C}).scatter(1, index, visible);
      log_p = log_ps;
    }
  }
  LossParts parts;
  parts.soft = klBatchmean(q, log_p) * (T * T);
  parts.hard = F::cross_entropy(student, labels);
  parts.total = alpha * parts.soft + (1.0 - alpha) * parts.hard;
  return parts;
}

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

LossParts logitMseLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                       double alpha) {
  LossParts parts;
  parts.soft = (student - teacher).pow(2).mean();
  parts.hard = F::cross_entropy(student, labels);
  parts.total = alpha * parts.soft + (1.0 - alpha) * parts.hard;
  return parts;
}

LossParts hardLabelLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& labels,
                        double alpha) {
  LossParts parts;
  parts.soft = F::cross_entropy(student, teacher.argmax(1));
  parts.hard = F::cross_entropy(student, labels);
  parts.total = alpha * parts.soft + (1.0 - alpha) * parts.hard;
  return parts;
}

} // namespace distillery
