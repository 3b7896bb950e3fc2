#pragma once
// The harness of issue 18, part 1: how well each forensic test tells copies
// of the teacher (positives, by kind: "kd", "label-only", an API clone under
// each defense, ...) from independent models (negatives, not in the null):
// ROC AUC and the true-positive rate at 1% false positives over the oriented
// statistics (higher: more like the teacher), and the queries a positive
// needs before its p-value reaches the smallest the null allows, 1/(n+1).
#include "core/forensics/forensic_tests.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace distillery {

struct LabelledModel {
  std::string kind; // positives: how the copy was made; negatives: any label
  ForensicModel model;
};

struct HarnessRow {
  ForensicTest test = ForensicTest::Agreement;
  std::string kind;      // of the positives in this row
  int64_t positives = 0; // that could be tested (a label-only one skips SAC-m)
  int64_t skipped = 0;   // that could not
  int64_t negatives = 0;
  int64_t inputs = 0; // in the probe: options.inputs, or fewer fingerprints when the filter drops some
  double auc = 0;
  double tpr_at_1pct_fpr = 0;
  // Queries (a prefix of the probe, from `ladder`) at which each positive's p
  // first reaches 1/(null size + 1); -1 where it never does.
  std::vector<int64_t> queries_for_decision;
  // The oriented statistics (higher: more like the teacher) the AUC is of,
  // for drawing the ROC curve (detection_roc.h). Not in toJson.
  std::vector<double> positive_scores, negative_scores;
  nlohmann::json toJson() const;
};

// One row per test and kind of positive. The probe has options.inputs inputs;
// ladder lists the prefix sizes tried for the decision (each >= 2); sizes
// beyond a smaller probe (fingerprints dropped by the filter) become its size.
// Throws ConfigError when there is no negative or no positive. progress hears
// of tests x (probe, each null, negative and positive model) steps.
std::vector<HarnessRow> evaluateForensicTests(const Classifier& teacher, const Dataset& data,
                                              std::vector<LabelledModel>& positives,
                                              std::vector<LabelledModel>& negatives, std::vector<ForensicModel>& null,
                                              const ForensicOptions& options, const std::vector<int64_t>& ladder,
                                              const ForensicProgress& progress = {});

} // namespace distillery
