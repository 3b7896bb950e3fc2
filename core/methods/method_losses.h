#pragma once
// Each method of the registry (method_registry.h: names, schemas, what a
// method reads; torch-free, for config parsing and the forms) tied by name to
// the code that computes its loss. The trainers dispatch through this table
// and never compare method names; tst_losses checks that every registry entry
// has a loss here and every entry here a registry method.
// Formulas: docs/methods.md.
#include "core/lm/lm_losses.h"
#include "core/methods/distill_losses.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace distillery {

using MethodParams = std::map<std::string, double>; // resolved schema values

// Image runs (task "distill") from both models' logits: the whole loss.
// teacher is undefined for a method that needs no teacher.
using LogitLoss = LossParts (*)(const MethodParams& params, const torch::Tensor& student,
                                const torch::Tensor& teacher, const torch::Tensor& labels,
                                const LossContext& context);

// Image runs that compare one intermediate activation per model: the term
// FeatureDistiller (feature_distiller.h) builds and adds to CE and KD.
enum class FeatureTerm {
  None,
  HintRegression, // FitNets: MSE after a 1x1 conv / linear adapter
  AttentionMaps,  // attention transfer: spatial attention maps
  Relations,      // RKD: pairwise distances and triplet angles
  Contrastive,    // CRD: embedding heads and memory banks
};

// Language-model runs (task "lm"): the loss on one batch of positions, [N, V]
// logits with targets [N] and mask [N]. teacher is undefined when not read.
using TokenLoss = LmLossParts (*)(const MethodParams& params, const torch::Tensor& student,
                                  const torch::Tensor& teacher, const torch::Tensor& targets,
                                  const torch::Tensor& mask);

// Language-model runs: whose text a batch holds (core/lm/lm_trainer.cpp).
enum class BatchText {
  Corpus,           // corpus windows
  Teacher,          // every batch: the teacher writes after a corpus prompt; its logits are not read
  StudentSometimes, // a fraction "lambda" of the batches: the student writes; the others are corpus windows
};

struct MethodLoss {
  std::string method;                       // a name of methodRegistry()
  LogitLoss logits = nullptr;               // image runs, from logits
  FeatureTerm features = FeatureTerm::None; // image runs, from activations (registry: needs_features)
  TokenLoss tokens = nullptr;               // language-model runs
  BatchText text = BatchText::Corpus;       // language-model runs
};

const std::vector<MethodLoss>& methodLosses();
// nullptr when the method has no loss here.
const MethodLoss* findMethodLoss(const std::string& method);

// The loss of an image method from logits, with its resolved parameters; a
// ConfigError for a method without one (feature methods: FeatureDistiller),
// and for a missing parameter or teacher.
//   kd          total = alpha * soft + (1 - alpha) * hard, soft = T^2 KL
//   dkd         total = ce_weight * hard + min(epoch / warmup, 1) * soft,
//               soft = alpha * TCKD + beta * NCKD (before the warm-up factor)
//   dist        total = ce_weight * hard + soft, soft = tau^2 (beta inter + gamma intra)
//   logit_mse   total = alpha * soft + (1 - alpha) * hard, soft = MSE(s, t)
//   hard_label  total = alpha * soft + (1 - alpha) * hard, soft = CE(s, argmax t)
//   topk_probs  total = alpha * soft + (1 - alpha) * hard, soft = T^2 KL(top-k view)
//   none        total = hard
LossParts methodLoss(const std::string& method, const MethodParams& params, const torch::Tensor& student,
                     const torch::Tensor& teacher, const torch::Tensor& labels, const LossContext& context);

// The token-level loss of a language-model method on corpus text: "none" is
// CE; forward_kl, reverse_kl, gkd_jsd and topk_logits are
// alpha * (T^2 *) divergence + (1 - alpha) * CE. teacher may be undefined for
// "none". Throws ConfigError for a method whose batches a model writes first
// (seq_kd, on_policy: lm_trainer.cpp) or that has no token loss.
LmLossParts lmTokenLoss(const std::string& method, const MethodParams& params, const torch::Tensor& student_logits,
                        const torch::Tensor& teacher_logits, const torch::Tensor& targets, const torch::Tensor& mask);

} // namespace distillery
