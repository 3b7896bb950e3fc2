#pragma once
// The feature terms of the feature-based methods, as pure functions of
// activations (no learnable state; adapters, embedding heads and memory banks
// live in feature_distiller.h). Formulas and the choices made where the
// references disagree: docs/methods.md.
#include <torch/torch.h>

namespace distillery {

// FitNets hint: mean squared error over every element, student already adapted
// to the teacher's shape.
torch::Tensor fitnetsLoss(const torch::Tensor& student, const torch::Tensor& teacher);

// Attention map of a feature map [N, C, H, W]: mean over channels of |f|^p,
// flattened to [N, H*W] and L2-normalised per sample (Zagoruyko & Komodakis).
torch::Tensor attentionMap(const torch::Tensor& feature, double p);
// mean((a_s - a_t)^2) over samples and positions; when H x W differ, the larger
// map is average-pooled (adaptive) to the smaller before the attention maps.
torch::Tensor attentionLoss(const torch::Tensor& student, const torch::Tensor& teacher, double p);

// RKD on embeddings [N, D] (Park et al.): Euclidean distances of every pair,
// each divided by the mean of its matrix's off-diagonal entries, compared by
// smooth L1 (beta 1); 0 for fewer than 2 samples.
torch::Tensor rkdDistanceLoss(const torch::Tensor& student, const torch::Tensor& teacher);
// Cosines of the angles e_i - e_j, e_k - e_j for every triplet (j the apex),
// compared by smooth L1 over all N^3 entries.
torch::Tensor rkdAngleLoss(const torch::Tensor& student, const torch::Tensor& teacher);

// Contrastive term of CRD in its softmax form: each anchor row [B, D] must pick
// its positive row [B, D] against the negatives [K, D] (shared by the batch),
// scores are dot products / temperature; mean over the batch of
// -log softmax(score)[positive]. Rows are expected L2-normalised.
torch::Tensor contrastiveLoss(const torch::Tensor& anchors, const torch::Tensor& positives,
                              const torch::Tensor& negatives, double temperature);

// [N, C, H, W] -> [N, C] by global average pooling; [N, F] unchanged; other
// ranks are flattened to [N, -1].
torch::Tensor featureVector(const torch::Tensor& feature);

} // namespace distillery
