#include "core/analysis/metric_catalog.h"

#include <map>

namespace distillery {

MetricInfo metricInfo(const std::string& metric) {
  static const std::map<std::string, MetricInfo> known = {
      {"train_loss", {"Training loss", "", false, false}},
      {"train_soft_loss", {"Training soft loss", "", false, false}},
      {"train_hard_loss", {"Training hard loss", "", false, false}},
      {"val_loss", {"Validation loss", "", false, false}},
      {"val_accuracy", {"Validation accuracy", "", true, true}},
      {"val_agreement", {"Teacher-student agreement (val)", "", true, true}},
      {"val_kl", {"KL(teacher || student), val", "nats", false, false}},
      {"test_accuracy", {"Test accuracy", "", true, true}},
      {"test_agreement", {"Teacher-student agreement (test)", "", true, true}},
      {"test_kl", {"KL(teacher || student), test", "nats", false, false}},
      {"samples_per_s", {"Throughput", "samples/s", false, true}},
      {"lr", {"Learning rate", "", false, true}},
      // language-model runs (task "lm")
      {"val_perplexity", {"Validation perplexity", "", false, false}},
      {"teacher_val_loss", {"Teacher validation loss", "nats/token", false, false}},
      {"teacher_val_perplexity", {"Teacher validation perplexity", "", false, false}},
      {"tokens_per_s", {"Throughput", "tokens/s", false, true}},
  };
  const auto it = known.find(metric);
  if (it != known.end()) return it->second;
  return {metric, "", false, true};
}

std::string metricAxisTitle(const std::string& metric) {
  const MetricInfo info = metricInfo(metric);
  std::string title = info.title;
  if (info.fraction) title += " (fraction)";
  else if (!info.unit.empty()) title += " (" + info.unit + ")";
  return title;
}

bool isFractionFigure(const std::string& name) {
  const std::string bare = name.rfind("summary.", 0) == 0 ? name.substr(8) : name;
  const auto endsWith = [&bare](const std::string& tail) {
    return bare.size() >= tail.size() && bare.compare(bare.size() - tail.size(), tail.size(), tail) == 0;
  };
  return metricInfo(bare).fraction || endsWith("accuracy") || endsWith("agreement");
}

} // namespace distillery
