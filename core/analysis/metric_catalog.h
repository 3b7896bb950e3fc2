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

} // namespace distillery
