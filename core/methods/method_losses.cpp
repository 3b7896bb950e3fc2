#include "core/methods/method_losses.h"

#include "core/base/errors.h"
#include "core/methods/method_registry.h"

#include <cmath>

namespace distillery {

namespace F = torch::nn::functional;

namespace {

// A parameter the schema always resolves; missing means a caller skipped resolve().
double need(const MethodParams& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end()) throw ConfigError(std::string("method.") + key, "missing parameter");
  return it->second;
}

double valueOr(const MethodParams& params, const char* key, double fallback) {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

// ---- image runs, from logits ----------------------------------------------------------

LossParts labelsOnly(const MethodParams&, const torch::Tensor& s, const torch::Tensor&, const torch::Tensor& y,
                     const LossContext&) {
  LossParts parts;
  parts.hard = F::cross_entropy(s, y);
  parts.total = parts.hard;
  return parts;
}

LossParts kd(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
             const LossContext&) {
  return kdLoss(s, t, y, need(p, "temperature"), need(p, "alpha"));
}

LossParts dkd(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
              const LossContext& context) {
  return dkdLoss(s, t, y, need(p, "alpha"), need(p, "beta"), need(p, "temperature"), need(p, "warmup"),
                 need(p, "ce_weight"), context.epoch);
}

LossParts dist(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
               const LossContext&) {
  return distLoss(s, t, y, need(p, "beta"), need(p, "gamma"), need(p, "tau"), need(p, "ce_weight"));
}

LossParts logitMse(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
                   const LossContext&) {
  return logitMseLoss(s, t, y, need(p, "alpha"));
}

LossParts hardLabel(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
                    const LossContext&) {
  return hardLabelLoss(s, t, y, need(p, "alpha"));
}

LossParts topkProbs(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y,
                    const LossContext&) {
  return topkProbsLoss(s, t, y, need(p, "k"), need(p, "temperature"), need(p, "alpha"), need(p, "tail") != 0.0);
}

// ---- language-model runs --------------------------------------------------------------

// CE on the batch's next tokens: the corpus's ("none"), or the text the teacher wrote (seq_kd).
LmLossParts tokenCe(const MethodParams&, const torch::Tensor& s, const torch::Tensor&, const torch::Tensor& targets,
                    const torch::Tensor& mask) {
  LmLossParts parts;
  parts.total = parts.hard = tokenCrossEntropy(s, targets, mask);
  return parts;
}

// alpha * soft + (1 - alpha) * CE; the CE is computed only when it weighs.
LmLossParts withCorpusCe(const MethodParams& p, torch::Tensor soft, const torch::Tensor& s,
                         const torch::Tensor& targets, const torch::Tensor& mask) {
  const double alpha = valueOr(p, "alpha", 1.0);
  LmLossParts parts;
  parts.soft = soft;
  if (alpha < 1.0) {
    parts.hard = tokenCrossEntropy(s, targets, mask);
    parts.total = alpha * soft + (1.0 - alpha) * parts.hard;
  } else {
    parts.total = soft;
  }
  return parts;
}

LmLossParts forwardKlTokens(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t,
                            const torch::Tensor& targets, const torch::Tensor& mask) {
  const double T = valueOr(p, "temperature", 1.0);
  return withCorpusCe(p, T * T * forwardKl(s, t, mask, T), s, targets, mask);
}

LmLossParts reverseKlTokens(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t,
                            const torch::Tensor& targets, const torch::Tensor& mask) {
  const double T = valueOr(p, "temperature", 1.0);
  return withCorpusCe(p, T * T * reverseKl(s, t, mask, T), s, targets, mask);
}

LmLossParts jsdTokens(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t,
                      const torch::Tensor& targets, const torch::Tensor& mask) {
  const double T = valueOr(p, "temperature", 1.0);
  return withCorpusCe(p, T * T * generalizedJsd(s, t, mask, valueOr(p, "beta", 0.5), T), s, targets, mask);
}

LmLossParts topkTokens(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t,
                       const torch::Tensor& targets, const torch::Tensor& mask) {
  const auto view = teacherTopk(t, int64_t(std::llround(valueOr(p, "k", 5))));
  return withCorpusCe(p, topkTailKl(s, view, mask), s, targets, mask);
}

// on_policy: GKD's JSD at temperature 1 on every batch, written or corpus.
LmLossParts onPolicyJsd(const MethodParams& p, const torch::Tensor& s, const torch::Tensor& t,
                        const torch::Tensor&, const torch::Tensor& mask) {
  LmLossParts parts;
  parts.total = parts.soft = generalizedJsd(s, t, mask, valueOr(p, "beta", 0.5));
  return parts;
}

std::vector<MethodLoss> buildLosses() {
  std::vector<MethodLoss> t;
  auto logits = [&](const char* name, LogitLoss fn) {
    MethodLoss e;
    e.method = name;
    e.logits = fn;
    t.push_back(e);
  };
  auto features = [&](const char* name, FeatureTerm term) {
    MethodLoss e;
    e.method = name;
    e.features = term;
    t.push_back(e);
  };
  auto tokens = [&](const char* name, TokenLoss fn, BatchText text = BatchText::Corpus) {
    MethodLoss e;
    e.method = name;
    e.tokens = fn;
    e.text = text;
    t.push_back(e);
  };
  logits("kd", kd);
  logits("dkd", dkd);
  logits("dist", dist);
  logits("logit_mse", logitMse);
  logits("hard_label", hardLabel);
  logits("topk_probs", topkProbs);
  {
    MethodLoss none; // both tasks: cross-entropy on the labels / the corpus
    none.method = "none";
    none.logits = labelsOnly;
    none.tokens = tokenCe;
    t.push_back(none);
  }
  features("fitnets", FeatureTerm::HintRegression);
  features("at", FeatureTerm::AttentionMaps);
  features("rkd", FeatureTerm::Relations);
  features("crd", FeatureTerm::Contrastive);
  tokens("forward_kl", forwardKlTokens);
  tokens("reverse_kl", reverseKlTokens);
  tokens("gkd_jsd", jsdTokens);
  tokens("topk_logits", topkTokens);
  tokens("seq_kd", tokenCe, BatchText::Teacher);
  tokens("on_policy", onPolicyJsd, BatchText::StudentSometimes);
  return t;
}

} // namespace

const std::vector<MethodLoss>& methodLosses() {
  static const std::vector<MethodLoss> losses = buildLosses();
  return losses;
}

const MethodLoss* findMethodLoss(const std::string& method) {
  for (const MethodLoss& e : methodLosses())
    if (e.method == method) return &e;
  return nullptr;
}

LossParts methodLoss(const std::string& method, const MethodParams& params, const torch::Tensor& student,
                     const torch::Tensor& teacher_logits, const torch::Tensor& labels, const LossContext& context) {
  const MethodLoss* entry = findMethodLoss(method);
  const MethodInfo* info = findMethod(method);
  if (!entry || !entry->logits || !info)
    throw ConfigError("method.name", "no loss implemented for method \"" + method + "\"");
  if (!info->needs_teacher) return entry->logits(params, student, torch::Tensor(), labels, context);
  if (!teacher_logits.defined())
    throw ConfigError("method.name", "method \"" + method + "\" needs the teacher's logits");
  return entry->logits(params, student, teacher_logits.detach(), labels, context);
}

LmLossParts lmTokenLoss(const std::string& method, const MethodParams& params, const torch::Tensor& student,
                        const torch::Tensor& teacher, const torch::Tensor& targets, const torch::Tensor& mask) {
  const MethodLoss* entry = findMethodLoss(method);
  if (!entry || !entry->tokens || entry->text != BatchText::Corpus)
    throw ConfigError("method.name", "\"" + method + "\" has no token-level loss");
  return entry->tokens(params, student, teacher, targets, mask);
}

} // namespace distillery
