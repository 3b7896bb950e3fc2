#pragma once
// The open-weights radioactivity statistic on a suspect's whole next-token
// distribution (Sander et al., NeurIPS 2024, read with the model's
// probabilities instead of its top-1 token). For each distinct h-token window
// c of a fixed text, the suspect gives every token i a weight a_ci that does
// not depend on the key (its probability, or its log-probability); the
// statistic is the weight on the window's green list, T_c = sum_{i in G_c} a_ci.
// Without the watermark G_c is a uniformly random k-subset of the V tokens,
// independent of the suspect, so exactly (sampling without replacement)
//   E[T_c] = (k / V) sum_i a_ci,
//   Var[T_c] = k (V - k) / (V (V - 1)) sum_i (a_ci - mean_c)^2,
//   kappa3[T_c] = k (V - k) (V - 2k) / ((V - 1)(V - 2)) (1 / V) sum_i (a_ci - mean_c)^3,
// and distinct windows have independent green lists. Each window may carry a
// weight w_c that does not depend on the key either (how often the text holds
// it); the weighted sum is standardized,
// Z = sum w_c (T_c - E[T_c]) / sqrt(sum w_c^2 Var[T_c]), and p = P(N(0,1) >= Z);
// the sum's skewness is reported so a reader can judge the normal tail. A
// window is scored once, at its first occurrence: later ones share its green
// list and would not be independent. No LibTorch here.
#include "core/forensics/green_list.h"

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

namespace distillery {

// ln P(N(0, 1) >= z), finite far beyond where P underflows.
double normalSurvivalLog(double z);

struct GreenWeightScore {
  int64_t windows = 0;   // distinct windows scored
  int64_t repeated = 0;  // positions whose window was scored before, left out
  double weight = 0.0;   // sum of the window weights
  double green = 0.0;    // sum over windows of the weight on the green list
  double expected = 0.0; // its mean without the watermark
  double variance = 0.0; // its variance without the watermark
  double third = 0.0;    // its third cumulant without the watermark
  double z = 0.0;        // (green - expected) / sqrt(variance); 0 when variance is 0
  double p_value = 1.0;  // P(N(0, 1) >= z)
  double log10_p = 0.0;  // the same, log10
  // The weighted mean of T_c - E[T_c]: how much weight beyond chance a window's green list carries.
  double meanExcess() const { return weight > 0.0 ? (green - expected) / weight : 0.0; }
  double skewness() const { return variance > 0.0 ? third / (variance * std::sqrt(variance)) : 0.0; }
  // The part of the score added after `before` (a snapshot of the same detector):
  // disjoint windows, so independent of before's.
  GreenWeightScore since(const GreenWeightScore& before) const;
};

class GreenWeightDetector {
public:
  explicit GreenWeightDetector(const GreenList& greens);
  // Scores weights (V values, key-independent) under the green list of window
  // (h tokens, oldest first), counted window_weight times, unless that window
  // was scored before. Returns whether it was scored.
  bool add(const int64_t* window, const double* weights, double window_weight = 1.0);
  GreenWeightScore score() const;

private:
  const GreenList& greens_;
  std::set<std::vector<int64_t>> seen_;
  GreenWeightScore sums_;
};

} // namespace distillery
