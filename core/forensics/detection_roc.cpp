#include "core/forensics/detection_roc.h"

#include "core/base/errors.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace distillery {

namespace {

void requireScores(const std::vector<double>& positives, const std::vector<double>& negatives) {
  if (positives.empty() || negatives.empty())
    throw ConfigError("scores", "ROC needs at least one positive and one negative model");
}

} // namespace

double rocAuc(const std::vector<double>& positives, const std::vector<double>& negatives) {
  requireScores(positives, negatives);
  // The nulls are tens of models: the plain double loop is clearer than ranks.
  double wins = 0;
  for (double p : positives)
    for (double n : negatives) wins += p > n ? 1.0 : (p == n ? 0.5 : 0.0);
  return wins / (double(positives.size()) * double(negatives.size()));
}

double tprAtFpr(const std::vector<double>& positives, const std::vector<double>& negatives, double fpr) {
  requireScores(positives, negatives);
  if (!(fpr >= 0 && fpr <= 1)) throw ConfigError("fpr", "expected a rate in [0, 1]");
  std::vector<double> neg = negatives;
  std::sort(neg.begin(), neg.end(), std::greater<double>());
  const auto allowed = size_t(std::floor(fpr * double(neg.size())));
  const double threshold = allowed < neg.size() ? neg[allowed] : -std::numeric_limits<double>::infinity();
  const auto passed = std::count_if(positives.begin(), positives.end(), [&](double p) { return p > threshold; });
  return double(passed) / double(positives.size());
}

std::vector<RocPoint> rocCurve(const std::vector<double>& positives, const std::vector<double>& negatives) {
  requireScores(positives, negatives);
  std::vector<double> pos = positives, neg = negatives;
  // A NaN equals no threshold: the walk below would never pass it.
  for (const auto* scores : {&pos, &neg})
    for (double s : *scores)
      if (!std::isfinite(s)) throw ConfigError("scores", "a ROC curve needs finite scores");
  std::sort(pos.begin(), pos.end(), std::greater<double>());
  std::sort(neg.begin(), neg.end(), std::greater<double>());
  std::vector<RocPoint> curve{{0.0, 0.0}};
  size_t i = 0, j = 0; // positives, negatives at or above the current threshold
  while (i < pos.size() || j < neg.size()) {
    const double threshold = j == neg.size() || (i < pos.size() && pos[i] >= neg[j]) ? pos[i] : neg[j];
    while (i < pos.size() && pos[i] == threshold) ++i;
    while (j < neg.size() && neg[j] == threshold) ++j;
    curve.push_back({double(j) / double(neg.size()), double(i) / double(pos.size())});
  }
  return curve;
}

} // namespace distillery
