#pragma once
// Everything a report on some runs shows, gathered once from the store, so the
// HTML, Markdown, LaTeX and PDF writers all tell the same story.
#include "core/export/chart_spec.h"
#include "core/export/cost_chart.h"
#include "core/export/defense_chart.h"
#include "core/store/run_provenance.h"
#include "core/export/table_data.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery {

struct ReportOptions {
  std::vector<int64_t> run_ids;
  // Charts; empty: val_accuracy, val_agreement, train_loss, those any run recorded.
  std::vector<std::string> metrics;
  XAxisKind x_axis = XAxisKind::Step;
  double smoothing = 0.0;
  // The cost chart's x axis; the chart follows the metric charts when some run
  // (or a teacher it names) has that cost and a test (else best validation) accuracy.
  CostKind cost = CostKind::TrainingFlops;
  std::string title = "Distillery report";
};

struct ReportRun {
  RunRecord record;
  std::string label; // "#12 kd-T4"
  std::vector<ProvenanceItem> provenance;
  std::string config_pretty;                       // indented JSON
  std::map<std::string, std::string> config_flat;  // dotted keys
};

struct ReportContent {
  std::string title;
  std::string generated_at; // ISO-8601 UTC
  std::string generator;    // "Distillery 0.1.0, LibTorch 1.13.1"
  std::vector<ReportRun> runs;
  std::vector<ChartSpec> charts; // the metric charts, then the cost chart when there is one
  TableData accuracy_table; // accuracy and mimicry columns of the summary
  TableData cost_table;     // size and cost columns
  // Under the cost chart: each student against its teacher and what each
  // plotted run's cost counts (teacher inference for a cache, teacher
  // training in its own run), e.g. "#5 kd keeps 94.4% ... ; counted: ...".
  std::vector<std::string> cost_notes;
  TableData diff_table;     // only the config keys that differ
  // The Defenses section, only when some run distilled through a teacher API
  // (summary "api"): fidelity against benign cost, fidelity against queries,
  // and one row per API run. Figures number on after charts.
  std::vector<ChartSpec> defense_charts;
  TableData defense_table;

  // The Forensics section, only when the store holds forensic results naming
  // one of the runs as suspect or reference (forensics_section.h).
  TableData forensics_table;
  TableData forensics_sources;

  bool hasDefenses() const { return !defense_table.rows.empty(); }
  bool hasForensics() const { return !forensics_table.rows.empty(); }
};

// Throws std::runtime_error for no runs, a run id the store lacks, or a
// requested metric that none of the runs recorded (naming those they did).
ReportContent buildReportContent(RunStore& store, const ReportOptions& options);

// The default chart metrics the runs have, in that order.
std::vector<std::string> defaultReportMetrics(RunStore& store, const std::vector<int64_t>& run_ids);

// Checks that some run recorded the metric; else throws std::runtime_error
// listing what they did record.
void requireMetric(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric);

} // namespace distillery
