#pragma once
// Display titles and units of the metrics the trainer records, for chart axes,
// legends and tables. Unknown metrics get their raw name.
#include <string>

namespace distillery {

struct MetricInfo {
  std::string title;      // "Validation accuracy"
  std::string unit;       // "" when dimensionless, else e.g. "nats", "samples/s"
  bool fraction = false;  // stored as 0..1; shown as a percentage in tables
  bool higher_is_better = true;
};

MetricInfo metricInfo(const std::string& metric);
// "Validation accuracy", "Validation KL (nats)", ...
std::string metricAxisTitle(const std::string& metric);

// A figure stored as a fraction of 1 that views show as a percentage: a
// catalogued one (test_accuracy) or one named like it (best_val_accuracy,
// teacher_test_agreement). `name` may carry a "summary." prefix.
bool isFractionFigure(const std::string& name);

} // namespace distillery
