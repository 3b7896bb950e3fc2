#include "core/forensics/detection_harness.h"

#include "core/base/errors.h"
#include "core/forensics/detection_roc.h"

#include <algorithm>

namespace distillery {

nlohmann::json HarnessRow::toJson() const {
  nlohmann::json j = {{"test", toString(test)}, {"kind", kind}, {"positives", positives}, {"skipped", skipped},
                      {"negatives", negatives}, {"inputs", inputs},
                      {"queries_for_decision", queries_for_decision}};
  // No testable positive: no ROC (null, not a misleading 0).
  j["auc"] = positives > 0 ? nlohmann::json(auc) : nlohmann::json();
  j["tpr_at_1pct_fpr"] = positives > 0 ? nlohmann::json(tpr_at_1pct_fpr) : nlohmann::json();
  return j;
}

std::vector<HarnessRow> evaluateForensicTests(const Classifier& teacher, const Dataset& data,
                                              std::vector<LabelledModel>& positives,
                                              std::vector<LabelledModel>& negatives, std::vector<ForensicModel>& null,
                                              const ForensicOptions& options, const std::vector<int64_t>& ladder,
                                              const ForensicProgress& progress) {
  if (positives.empty() || negatives.empty() || null.empty())
    throw ConfigError("harness", "needs positives, negatives and a null");
  std::vector<std::string> kinds; // in first-seen order
  for (const LabelledModel& p : positives)
    if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end()) kinds.push_back(p.kind);
  std::vector<HarnessRow> rows;
  const int64_t per_test = 1 + int64_t(null.size() + negatives.size() + positives.size());
  const int64_t total = per_test * int64_t(options.tests.size());
  int64_t done = 0;
  for (ForensicTest test : options.tests) {
    const std::string name = toString(test);
    reportForensicStep(progress, name + ": building the probe", done, total);
    const ForensicProbe probe = makeProbe(test, teacher, data, options);
    const double sign = probe.closeness == Closeness::HigherIsCloser ? 1.0 : -1.0;
    // The conferrability filter may keep fewer fingerprints than asked for:
    // the ladder stops at the probe's size rather than asking for more.
    const int64_t n = probe.inputs.size(0);
    std::vector<int64_t> steps;
    for (int64_t k : ladder) {
      const int64_t cut = std::min(k, n);
      if (cut >= 2 && (steps.empty() || cut > steps.back())) steps.push_back(cut);
    }
    std::vector<torch::Tensor> null_answers;
    for (ForensicModel& m : null) {
      reportForensicStep(progress, name + ": asking the null", ++done, total);
      null_answers.push_back(m.ask(probe.inputs));
    }
    std::vector<double> negative_scores;
    for (LabelledModel& n : negatives) {
      reportForensicStep(progress, name + ": asking the negatives", ++done, total);
      if (probe.needs_probabilities && n.model.labels_only) continue;
      negative_scores.push_back(sign * probeStatistic(probe, n.model.ask(probe.inputs)));
    }
    ++done; // the probe
    if (negative_scores.empty()) {
      done += int64_t(positives.size());
      continue;
    }
    for (const std::string& kind : kinds) {
      HarnessRow row;
      row.test = test;
      row.kind = kind;
      row.negatives = int64_t(negative_scores.size());
      row.inputs = n;
      std::vector<double> scores;
      for (LabelledModel& p : positives) {
        if (p.kind != kind) continue;
        reportForensicStep(progress, name + ": asking the positives", ++done, total);
        if (probe.needs_probabilities && p.model.labels_only) {
          ++row.skipped;
          continue;
        }
        const torch::Tensor answers = p.model.ask(probe.inputs);
        scores.push_back(sign * probeStatistic(probe, answers));
        int64_t decided = -1;
        for (int64_t k : steps) {
          const ForensicProbe cut = prefixProbe(probe, k);
          std::vector<double> null_stats;
          for (const torch::Tensor& a : null_answers) null_stats.push_back(probeStatistic(cut, a.slice(0, 0, k)));
          const RankPValue pv = rankPValue(probeStatistic(cut, answers.slice(0, 0, k)), null_stats, probe.closeness);
          if (pv.at_least_as_close == 0) {
            decided = k;
            break;
          }
        }
        row.queries_for_decision.push_back(decided);
      }
      row.positives = int64_t(scores.size());
      row.positive_scores = scores;
      row.negative_scores = negative_scores;
      if (!scores.empty()) {
        row.auc = rocAuc(scores, negative_scores);
        row.tpr_at_1pct_fpr = tprAtFpr(scores, negative_scores, 0.01);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

} // namespace distillery
