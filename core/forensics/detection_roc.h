#pragma once
// How well a forensic test separates copies of the teacher (positives) from
// independent models (negatives), from their scores, higher meaning "more
// like a copy" (negate a distance first): the area under the ROC curve and
// the true-positive rate at a false-positive rate.
#include <vector>

namespace distillery {

// P(positive score > negative score) + 0.5 P(equal): the Mann-Whitney U over
// (positives x negatives). Throws ConfigError("scores", ...) when either is empty.
double rocAuc(const std::vector<double>& positives, const std::vector<double>& negatives);

// The fraction of positives above the threshold that lets at most
// floor(fpr * negatives) negatives through (strictly above it). With fewer
// than 1/fpr negatives that is the largest negative: none may pass.
double tprAtFpr(const std::vector<double>& positives, const std::vector<double>& negatives, double fpr = 0.01);

struct RocPoint {
  double fpr = 0;
  double tpr = 0;
};

// The ROC curve: (0, 0), then one point per distinct score from the highest
// down (the rates of scores at or above it), ending at (1, 1). Tied positives
// and negatives make one diagonal step, so the trapezoid area under the curve
// equals rocAuc. Throws like rocAuc, and on a non-finite score.
std::vector<RocPoint> rocCurve(const std::vector<double>& positives, const std::vector<double>& negatives);

} // namespace distillery
