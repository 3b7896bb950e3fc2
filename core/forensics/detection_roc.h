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

} // namespace distillery
