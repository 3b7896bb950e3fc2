#include "core/forensics/targeted_fingerprints.h"

#include "core/base/errors.h"
#include "core/training/trainer.h"

#include <algorithm>
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

} // namespace

Fingerprints craftFingerprints(const Classifier& teacher, const torch::Tensor& x, const torch::Tensor& y,
                               const torch::Tensor& eps_scale, const torch::Tensor& lo, const torch::Tensor& hi,
                               const FingerprintSettings& settings, const std::vector<Classifier>& followers,
                               const std::vector<Classifier>& refusers) {
  if (settings.count < 1) throw ConfigError("fingerprint", "expected at least one fingerprint");
  if (!(settings.eps > 0)) throw ConfigError("fingerprint", "expected a positive eps");
  teacher->eval();
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
    chunks.push_back(attack(teacher, x0.slice(0, b, e), targets.slice(0, b, e), eps, lo4, hi4, settings.steps));
  }
  const torch::Tensor adv = torch::cat(chunks);
  torch::Tensor keep = labelsOf(teacher, adv) == targets;
  const torch::Tensor teacher_follows = keep.clone();
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
  return out;
}

} // namespace distillery
