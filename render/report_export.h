#pragma once
// A report on some runs: charts, the summary table, each run's config and
// provenance (teacher source and file hash, dataset path and hash, app and
// LibTorch versions, device, dates). User text is escaped.
#include "core/export/chart_series.h"
#include "core/export/cost_chart.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {
class RunStore;
}

namespace distillery::render {

struct ReportRequest {
  std::vector<int64_t> run_ids;
  // Charts to include; empty: val_accuracy, val_agreement, train_loss (those the runs have).
  std::vector<std::string> metrics;
  XAxisKind x_axis = XAxisKind::Step;
  double smoothing = 0.0;
  CostKind cost = CostKind::TrainingFlops; // the cost chart's x axis (ReportOptions::cost)
  std::string title = "Distillery report";
};

// By extension: .html (self-contained, charts inline), .pdf, .md, .tex.
// Throws std::runtime_error naming the file on failure.
void exportReport(RunStore& store, const ReportRequest& request, const std::string& path);

} // namespace distillery::render
