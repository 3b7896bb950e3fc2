#pragma once
// Fingerprint inputs in the spirit of conferrable adversarial examples (Lukas
// et al., ICLR 2021): targeted adversarial examples crafted on the teacher,
// which a model distilled from it tends to follow (it learnt the teacher's
// decision boundaries) and an independent model tends not to. The statistic
// needs only the suspect's labels: how often it answers the target class.
// Conferrability proper: examples followed by every model in `followers`
// (e.g. the teacher's own students) and by at most a share of `refusers`
// (independent models that are NOT in the null, or the null would be biased).
#include "core/models/model_zoo.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace distillery {

struct FingerprintSettings {
  int64_t count = 64;   // fingerprints wanted
  double eps = 0.25;    // L-inf budget in units of the raw input range (pixels / divide_by)
  int steps = 24;       // targeted PGD steps, each eps / 8; an example stops once the teacher follows
  uint64_t seed = 0;
  double refuser_share = 0.5; // a kept example is followed by at most this share of refusers
};

struct Fingerprints {
  torch::Tensor inputs;  // [K, ...], K <= count
  torch::Tensor targets; // int64 [K]
  int64_t crafted = 0;   // candidates attacked
  int64_t dropped_by_filter = 0; // followed by the teacher but not conferrable
};

// From test inputs the teacher classifies correctly, each towards a random
// other class; kept when the teacher answers the target (and the filter
// passes). eps_scale ([C] or one value) turns the raw-range budget into input
// units (1 / std per channel); lo/hi ([C], or undefined for tables) bound the inputs.
Fingerprints craftFingerprints(const Classifier& teacher, const torch::Tensor& x, const torch::Tensor& y,
                               const torch::Tensor& eps_scale, const torch::Tensor& lo, const torch::Tensor& hi,
                               const FingerprintSettings& settings, const std::vector<Classifier>& followers = {},
                               const std::vector<Classifier>& refusers = {});

} // namespace distillery
