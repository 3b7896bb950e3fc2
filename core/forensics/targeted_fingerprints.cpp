#include "core/forensics/targeted_fingerprints.h"

#include "core/base/errors.h"
#include "core/training/trainer.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

namespace distillery {

namespace {

torch::Tensor labelsOf(const Classifier& model, const torch::Tensor& x) {
  return predictLogits(model, x, torch::kCPU).argmax(1);
}

// Targeted PGD on one chunk: steps towards `targets`, each projected back into
// the eps ball around x0 and the valid input range.
torch::Tensor attack(const Classifier& teacher, const torch::Tensor& x0, const torch::Tensor& targets,
                     const torch::Tensor& eps, const torch::Tensor& lo, const torch::Tensor& hi, int steps) {
  const torch::Tensor alpha = eps / 8.0;
  torch::Tensor xa = x0.clone();
  for (int s = 0; s < steps; ++s) {
    xa.requires_grad_(true);
    const torch::Tensor logits = teacher->forward(xa);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, targets);
    const torch::Tensor grad = torch::autograd::grad({loss}, {xa})[0];
    // An example stops moving once the teacher follows its target: the
    // smallest step over the teacher's own boundary transfers least to
    // models that did not learn that boundary from it.
    std::vector<int64_t> view(size_t(x0.dim()), 1);
    view[0] = -1;
    const torch::Tensor moving = (logits.argmax(1) != targets).to(torch::kFloat).reshape(view);
    xa = (xa.detach() - alpha * grad.sign() * moving);
    xa = torch::min(torch::max(xa, x0 - eps), x0 + eps);
    if (lo.defined()) xa = torch::min(torch::max(xa, lo), hi);
  }
  return xa.detach();
}

// log(1 - softmax(logits)[target]) per row, without the cancellation of
// 1 - p: the log-sum-exp over the other classes minus that over all.
torch::Tensor logNotTarget(const torch::Tensor& logits, const torch::Tensor& targets) {
  const torch::Tensor others =
      logits.scatter(1, targets.unsqueeze(1), -std::numeric_limits<double>::infinity());
  return torch::logsumexp(others, 1) - torch::logsumexp(logits, 1);
}

// Targeted PGD on the ensemble, every step (stopping at the teacher's boundary
// would leave examples that only the teacher follows). Minimised, per example:
// CE(teacher, t) + mean CE(follower, t) - w * mean log(1 - p_refuser(t)).
torch::Tensor conferrableAttack(const Classifier& teacher, const std::vector<Classifier>& followers,
                                const std::vector<Classifier>& refusers, const torch::Tensor& x0,
                                const torch::Tensor& targets, const torch::Tensor& eps, const torch::Tensor& lo,
                                const torch::Tensor& hi, int steps, double reference_weight) {
  const torch::Tensor alpha = eps / 8.0;
  namespace F = torch::nn::functional;
  const auto sum = F::CrossEntropyFuncOptions().reduction(torch::kSum);
  torch::Tensor xa = x0.clone();
  for (int s = 0; s < steps; ++s) {
    xa.requires_grad_(true);
    torch::Tensor loss = F::cross_entropy(teacher->forward(xa), targets, sum);
    for (const Classifier& f : followers)
      loss = loss + F::cross_entropy(f->forward(xa), targets, sum) / double(followers.size());
    for (const Classifier& r : refusers)
      loss = loss - reference_weight * logNotTarget(r->forward(xa), targets).sum() / double(refusers.size());
    const torch::Tensor grad = torch::autograd::grad({loss}, {xa})[0];
    xa = xa.detach() - alpha * grad.sign();
    xa = torch::min(torch::max(xa, x0 - eps), x0 + eps);
    if (lo.defined()) xa = torch::min(torch::max(xa, lo), hi);
  }
  return xa.detach();
}

torch::Tensor targetProbability(const Classifier& model, const torch::Tensor& x, const torch::Tensor& targets) {
  return torch::softmax(predictLogits(model, x, torch::kCPU).to(torch::kDouble), 1)
      .gather(1, targets.unsqueeze(1))
      .squeeze(1);
}

} // namespace

const char* toString(FingerprintCrafting c) {
  return c == FingerprintCrafting::Conferrable ? "conferrable" : "teacher";
}

std::optional<FingerprintCrafting> fingerprintCraftingFromString(const std::string& word) {
  for (FingerprintCrafting c : {FingerprintCrafting::Teacher, FingerprintCrafting::Conferrable})
    if (word == toString(c)) return c;
  return std::nullopt;
}

torch::Tensor conferrabilityScore(const std::vector<Classifier>& followers, const std::vector<Classifier>& refusers,
                                  const torch::Tensor& x, const torch::Tensor& targets) {
  torch::Tensor follow = torch::ones({x.size(0)}, torch::kDouble);
  torch::Tensor refuse = torch::zeros({x.size(0)}, torch::kDouble);
  if (!followers.empty()) {
    follow = torch::zeros({x.size(0)}, torch::kDouble);
    for (const Classifier& f : followers) follow += targetProbability(f, x, targets);
    follow /= double(followers.size());
  }
  for (const Classifier& r : refusers) refuse += targetProbability(r, x, targets) / double(refusers.size());
  return follow * (1.0 - refuse);
}

Fingerprints craftFingerprints(const Classifier& teacher, const torch::Tensor& x, const torch::Tensor& y,
                               const torch::Tensor& eps_scale, const torch::Tensor& lo, const torch::Tensor& hi,
                               const FingerprintSettings& settings, const std::vector<Classifier>& followers,
                               const std::vector<Classifier>& refusers) {
  if (settings.count < 1) throw ConfigError("fingerprint", "expected at least one fingerprint");
  if (!(settings.eps > 0)) throw ConfigError("fingerprint", "expected a positive eps");
  const bool conferrable = settings.crafting == FingerprintCrafting::Conferrable;
  if (conferrable && (followers.empty() || refusers.empty()))
    throw ConfigError("fingerprint", "conferrable crafting needs surrogate students of the teacher (--confer-with) "
                                     "and independent references (--confer-against), models of their own");
  teacher->eval();
  for (const Classifier& m : followers) m->eval();
  for (const Classifier& m : refusers) m->eval();
  const torch::Tensor logits = predictLogits(teacher, x, torch::kCPU);
  const int64_t classes = logits.size(1);
  if (classes < 2) throw ConfigError("fingerprint", "a target class needs at least two classes");
  const torch::Tensor correct = (logits.argmax(1) == y).nonzero().flatten();
  std::vector<int64_t> pool(correct.data_ptr<int64_t>(), correct.data_ptr<int64_t>() + correct.numel());
  std::mt19937_64 rng(settings.seed);
  std::shuffle(pool.begin(), pool.end(), rng);
  // Not every attack succeeds (and the filter drops more): attack a few times as many.
  pool.resize(std::min<size_t>(pool.size(), size_t(settings.count * 4)));
  Fingerprints out;
  out.crafted = int64_t(pool.size());
  if (pool.empty()) {
    out.inputs = x.slice(0, 0, 0);
    out.targets = torch::empty({0}, torch::kLong);
    out.sources = torch::empty({0}, torch::kLong);
    return out;
  }
  std::uniform_int_distribution<int64_t> shift(1, classes - 1);
  std::vector<int64_t> target_values;
  for (int64_t i : pool) target_values.push_back((y[i].item<int64_t>() + shift(rng)) % classes);
  const torch::Tensor index = torch::tensor(pool, torch::kLong);
  const torch::Tensor x0 = x.index_select(0, index);
  const torch::Tensor targets = torch::tensor(target_values, torch::kLong);
  torch::Tensor eps = eps_scale.to(torch::kFloat) * settings.eps;
  torch::Tensor lo4 = lo, hi4 = hi;
  if (x.dim() == 4) {
    eps = eps.reshape({1, -1, 1, 1});
    if (lo.defined()) {
      lo4 = lo.to(torch::kFloat).reshape({1, -1, 1, 1});
      hi4 = hi.to(torch::kFloat).reshape({1, -1, 1, 1});
    }
  }
  std::vector<torch::Tensor> chunks;
  for (int64_t b = 0; b < x0.size(0); b += 256) {
    const int64_t e = std::min<int64_t>(b + 256, x0.size(0));
    chunks.push_back(conferrable ? conferrableAttack(teacher, followers, refusers, x0.slice(0, b, e),
                                                     targets.slice(0, b, e), eps, lo4, hi4, settings.steps,
                                                     settings.reference_weight)
                                 : attack(teacher, x0.slice(0, b, e), targets.slice(0, b, e), eps, lo4, hi4,
                                          settings.steps));
  }
  const torch::Tensor adv = torch::cat(chunks);
  torch::Tensor keep = labelsOf(teacher, adv) == targets;
  const torch::Tensor teacher_follows = keep.clone();
  out.teacher_follows = teacher_follows.sum().item<int64_t>();
  if (conferrable) {
    // The most conferrable first, so that a prefix of the probe (fewer
    // queries) keeps the best of them.
    const torch::Tensor followed = keep.nonzero().flatten();
    if (followed.numel() == 0) {
      out.inputs = adv.slice(0, 0, 0);
      out.targets = targets.slice(0, 0, 0);
      out.sources = index.slice(0, 0, 0);
      return out;
    }
    const torch::Tensor score = conferrabilityScore(followers, refusers, adv.index_select(0, followed),
                                                    targets.index_select(0, followed));
    std::vector<int64_t> order(size_t(followed.numel()));
    std::iota(order.begin(), order.end(), int64_t(0));
    const double* sc = score.data_ptr<double>();
    std::stable_sort(order.begin(), order.end(), [sc](int64_t a, int64_t b) { return sc[a] > sc[b]; });
    order.resize(std::min<size_t>(order.size(), size_t(settings.count)));
    const torch::Tensor pick = followed.index_select(0, torch::tensor(order, torch::kLong));
    for (int64_t i : order) out.conferrability.push_back(sc[i]);
    out.inputs = adv.index_select(0, pick);
    out.targets = targets.index_select(0, pick);
    out.sources = index.index_select(0, pick);
    return out;
  }
  for (const Classifier& f : followers) keep = keep & (labelsOf(f, adv) == targets);
  if (!refusers.empty()) {
    torch::Tensor followed = torch::zeros({adv.size(0)}, torch::kLong);
    for (const Classifier& r : refusers) followed += (labelsOf(r, adv) == targets).to(torch::kLong);
    keep = keep & (followed.to(torch::kDouble) <= settings.refuser_share * double(refusers.size()));
  }
  out.dropped_by_filter = teacher_follows.sum().item<int64_t>() - keep.sum().item<int64_t>();
  torch::Tensor kept = keep.nonzero().flatten();
  if (kept.numel() > settings.count) kept = kept.slice(0, 0, settings.count);
  out.inputs = adv.index_select(0, kept);
  out.targets = targets.index_select(0, kept);
  out.sources = index.index_select(0, kept);
  return out;
}

} // namespace distillery
