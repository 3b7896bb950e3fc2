#pragma once
// Fingerprint inputs in the spirit of conferrable adversarial examples (Lukas
// et al., ICLR 2021): targeted adversarial examples crafted on the teacher,
// which a model distilled from it tends to follow (it learnt the teacher's
// decision boundaries) and an independent model tends not to. The statistic
// needs only the suspect's labels: how often it answers the target class.
// Two ways to craft them (FingerprintCrafting):
//   teacher:     targeted PGD on the teacher alone, each example stopping once
//                the teacher follows; `followers` / `refusers` then only filter
//                (kept: every follower and at most a share of refusers follow).
//   conferrable: every PGD step on an ensemble: the teacher and surrogate
//                students (`followers`, e.g. the teacher's own students) pulled
//                towards the target, surrogate independent references
//                (`refusers`) pushed away from it; then the examples the
//                teacher follows, the most conferrable first.
// Either way the surrogates must be models of their own, never the null's or
// the models being judged, or the null would be biased.
#include "core/models/model_zoo.h"

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

enum class FingerprintCrafting { Teacher, Conferrable };

const char* toString(FingerprintCrafting c); // "teacher", "conferrable"
std::optional<FingerprintCrafting> fingerprintCraftingFromString(const std::string& word);

struct FingerprintSettings {
  int64_t count = 64;   // fingerprints wanted
  double eps = 0.25;    // L-inf budget in units of the raw input range (pixels / divide_by)
  int steps = 24;       // targeted PGD steps, each eps / 8 (teacher crafting: an example stops once the teacher follows)
  uint64_t seed = 0;
  double refuser_share = 0.5; // teacher crafting's filter: a kept example is followed by at most this share of refusers
  FingerprintCrafting crafting = FingerprintCrafting::Teacher;
  double reference_weight = 1.0; // conferrable: weight of pushing the references away from the target
};

struct Fingerprints {
  torch::Tensor inputs;  // [K, ...], K <= count
  torch::Tensor targets; // int64 [K]
  torch::Tensor sources; // int64 [K]: the test input each was crafted from
  int64_t crafted = 0;   // candidates attacked
  int64_t teacher_follows = 0;   // candidates whose target the teacher answers
  int64_t dropped_by_filter = 0; // teacher crafting: followed by the teacher but not conferrable
  // Conferrable crafting: each kept example's score on the surrogates, mean
  // follower p(target) x (1 - mean refuser p(target)), in the order kept (descending).
  std::vector<double> conferrability;
};

// The conferrability score of inputs x towards targets [N]: mean over
// followers of p(target) times 1 - the mean over refusers of p(target) (a
// missing side counts as 1). In [0, 1]; high: students follow, references do not.
torch::Tensor conferrabilityScore(const std::vector<Classifier>& followers, const std::vector<Classifier>& refusers,
                                  const torch::Tensor& x, const torch::Tensor& targets);

// From test inputs the teacher classifies correctly, each towards a random
// other class; kept when the teacher answers the target (teacher crafting: and
// the filter passes; conferrable: the `count` highest scores). eps_scale ([C]
// or one value) turns the raw-range budget into input units (1 / std per
// channel); lo/hi ([C], or undefined for tables) bound the inputs. Conferrable
// crafting without followers and refusers is refused (ConfigError).
Fingerprints craftFingerprints(const Classifier& teacher, const torch::Tensor& x, const torch::Tensor& y,
                               const torch::Tensor& eps_scale, const torch::Tensor& lo, const torch::Tensor& hi,
                               const FingerprintSettings& settings, const std::vector<Classifier>& followers = {},
                               const std::vector<Classifier>& refusers = {});

} // namespace distillery
