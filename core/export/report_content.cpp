#include "core/export/report_content.h"

#include "core/analysis/config_diff.h"
#include "core/analysis/defense_tradeoff.h"
#include "core/base/json_flatten.h"
#include "core/export/forensics_section.h"
#include "core/analysis/run_summary_table.h"
#include "core/store/run_store.h"
#include "core/base/version.h"

#include <algorithm>
#include <ctime>
#include <set>
#include <stdexcept>

namespace distillery {

namespace {
std::string nowUtc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::set<std::string> recordedMetrics(RunStore& store, const std::vector<int64_t>& run_ids) {
  std::set<std::string> names;
  for (int64_t id : run_ids)
    for (const std::string& m : store.metricNames(id)) names.insert(m);
  return names;
}
} // namespace

void requireMetric(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric) {
  const std::set<std::string> names = recordedMetrics(store, run_ids);
  if (names.count(metric)) return;
  std::string have;
  for (const std::string& m : names) have += (have.empty() ? "" : ", ") + m;
  throw std::runtime_error("unknown metric \"" + metric + "\": none of the runs recorded it" +
                           (have.empty() ? std::string(" (they have no points)") : "; recorded: " + have));
}

std::vector<std::string> defaultReportMetrics(RunStore& store, const std::vector<int64_t>& run_ids) {
  const std::set<std::string> names = recordedMetrics(store, run_ids);
  std::vector<std::string> out;
  for (const char* m : {"val_accuracy", "val_agreement", "train_loss"})
    if (names.count(m)) out.push_back(m);
  return out;
}

ReportContent buildReportContent(RunStore& store, const ReportOptions& options) {
  if (options.run_ids.empty()) throw std::runtime_error("a report needs at least one run");
  ReportContent content;
  content.title = options.title.empty() ? "Distillery report" : options.title;
  content.generated_at = nowUtc();
  content.generator = "Distillery " + appVersion() + ", LibTorch " + libtorchVersion();

  std::vector<nlohmann::json> configs;
  std::vector<std::string> labels;
  for (int64_t id : options.run_ids) {
    auto record = store.run(id);
    if (!record) throw std::runtime_error("run " + std::to_string(id) + " does not exist in " + store.path());
    ReportRun r;
    r.record = *record;
    r.label = runLabel(record->id, record->name);
    r.provenance = runProvenance(*record, &store);
    const nlohmann::json config = currentRunConfig(*record); // with the name it has now
    r.config_pretty = config.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    r.config_flat = flattenJson(config);
    configs.push_back(config);
    labels.push_back(r.label);
    content.runs.push_back(std::move(r));
  }

  std::vector<std::string> metrics = options.metrics;
  if (metrics.empty()) metrics = defaultReportMetrics(store, options.run_ids);
  for (const std::string& m : options.metrics) requireMetric(store, options.run_ids, m);
  for (const std::string& m : metrics) {
    ChartSpec spec = chartSpecFromStore(store, options.run_ids, m, options.x_axis);
    spec.smoothing = options.smoothing;
    content.charts.push_back(std::move(spec));
  }
  for (CostAccuracy accuracy : {CostAccuracy::Test, CostAccuracy::BestValidation}) {
    const CostChart cost = costChartFromStore(store, options.run_ids, options.cost, accuracy, costDefaultsToLog(options.cost));
    if (cost.points.empty()) continue;
    ChartSpec spec = costChartSpec(cost);
    // The caption reads "<title> against <x title>".
    spec.title = accuracy == CostAccuracy::Test ? "Test accuracy" : "Best validation accuracy";
    content.charts.push_back(std::move(spec));
    content.cost_notes = costNotes(cost);
    break;
  }

  const DefenseTradeoff defenses = defenseTradeoffFromStore(store, options.run_ids);
  if (!defenses.empty()) {
    content.defense_charts = {defenseCostChartSpec(defenses), defenseQueriesChartSpec(defenses)};
    content.defense_table = defenseTable(defenses);
  }

  const std::vector<ForensicResult> forensics = forensicResultsOfRuns(store, options.run_ids);
  if (!forensics.empty()) {
    std::map<std::string, std::string> names;
    for (const ReportRun& r : content.runs) names["run:" + std::to_string(r.record.id)] = r.label;
    content.forensics_table = forensicResultsTable(forensics, names);
    content.forensics_sources = forensicSourcesTable(forensics);
  }

  const auto rows = summarizeRuns(store, options.run_ids);
  content.accuracy_table = summaryTable(
      rows, {"best_val_accuracy", "final_val_accuracy", "test_accuracy", "test_agreement", "test_kl"});
  content.accuracy_table.caption = "Accuracy and agreement with the teacher";
  content.cost_table = summaryTable(rows, {"params", "flops_per_sample", "compression", "wall_s", "samples_per_s",
                                           "train_flops", "teacher_queries", "money"});
  content.cost_table.caption = "Model size and training cost";
  content.diff_table = configDiffTable(diffConfigs(configs, true), labels);
  content.diff_table.caption = "Configuration keys that differ between the runs";
  return content;
}

} // namespace distillery
