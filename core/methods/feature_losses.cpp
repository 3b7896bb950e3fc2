#include "core/methods/feature_losses.h"

#include <algorithm>

namespace distillery {

namespace F = torch::nn::functional;

namespace {

// Floor under squared distances before the square root (RKD's pdist eps).
constexpr double kDistanceFloor = 1e-12;
// Norm floor of F::normalize (its default).
constexpr double kNormEps = 1e-12;

torch::Tensor l2Normalise(const torch::Tensor& x, int64_t dim) {
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(dim).eps(kNormEps));
}

// Euclidean distances between the rows of e [N, D], 0 on the diagonal.
torch::Tensor pairwiseDistances(const torch::Tensor& e) {
  const auto square = e.pow(2).sum(1);
  const auto d2 = (square.unsqueeze(1) + square.unsqueeze(0) - 2.0 * e.matmul(e.t())).clamp_min(kDistanceFloor);
  const auto off_diagonal = 1.0 - torch::eye(e.size(0), e.options());
  return d2.sqrt() * off_diagonal;
}

// Distances divided by the mean off-diagonal distance.
torch::Tensor normalisedDistances(const torch::Tensor& e) {
  const int64_t n = e.size(0);
  const auto d = pairwiseDistances(e);
  return d / (d.sum() / double(n * (n - 1)));
}

// [N, N, N]: entry (j, i, k) is the cosine between e_i - e_j and e_k - e_j.
torch::Tensor tripletCosines(const torch::Tensor& e) {
  const auto diff = l2Normalise(e.unsqueeze(0) - e.unsqueeze(1), 2); // [j, i, D]
  return torch::bmm(diff, diff.transpose(1, 2));
}

} // namespace

torch::Tensor featureVector(const torch::Tensor& feature) {
  if (feature.dim() == 4) return feature.mean({2, 3});
  if (feature.dim() == 2) return feature;
  return feature.flatten(1);
}

torch::Tensor fitnetsLoss(const torch::Tensor& student, const torch::Tensor& teacher) {
  return (student - teacher).pow(2).mean();
}

torch::Tensor attentionMap(const torch::Tensor& feature, double p) {
  return l2Normalise(feature.abs().pow(p).mean(1).flatten(1), 1);
}

torch::Tensor attentionLoss(const torch::Tensor& student, const torch::Tensor& teacher, double p) {
  torch::Tensor s = student, t = teacher;
  const int64_t h = std::min(s.size(2), t.size(2)), w = std::min(s.size(3), t.size(3));
  if (s.size(2) != h || s.size(3) != w) s = F::adaptive_avg_pool2d(s, F::AdaptiveAvgPool2dFuncOptions({h, w}));
  if (t.size(2) != h || t.size(3) != w) t = F::adaptive_avg_pool2d(t, F::AdaptiveAvgPool2dFuncOptions({h, w}));
  return (attentionMap(s, p) - attentionMap(t, p)).pow(2).mean();
}

torch::Tensor rkdDistanceLoss(const torch::Tensor& student, const torch::Tensor& teacher) {
  if (student.size(0) < 2) return (student * 0.0).sum();
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    target = normalisedDistances(teacher);
  }
  return F::smooth_l1_loss(normalisedDistances(student), target);
}

torch::Tensor rkdAngleLoss(const torch::Tensor& student, const torch::Tensor& teacher) {
  if (student.size(0) < 2) return (student * 0.0).sum();
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    target = tripletCosines(teacher);
  }
  return F::smooth_l1_loss(tripletCosines(student), target);
}

torch::Tensor contrastiveLoss(const torch::Tensor& anchors, const torch::Tensor& positives,
                              const torch::Tensor& negatives, double temperature) {
  const auto positive = (anchors * positives).sum(1, true);  // [B, 1]
  const auto negative = anchors.matmul(negatives.t());       // [B, K]
  const auto scores = torch::cat({positive, negative}, 1) / temperature;
  return -torch::log_softmax(scores, 1).select(1, 0).mean();
}

} // namespace distillery
