#pragma once
// One row of figures per run for the compare view's summary table and its
// exports: accuracy kept, mimicry and cost.
#include "core/store/run_store.h"
#include "core/export/table_data.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct SummaryColumn {
  std::string key;   // "best_val_accuracy", "params", "compression", "wall_s", ...
  std::string title; // "Best val acc (%)"
};

// The columns, in display order:
// best_val_accuracy, final_val_accuracy, test_accuracy, test_agreement, test_kl,
// params, flops_per_sample, compression, wall_s, samples_per_s, train_flops, teacher_queries, money.
const std::vector<SummaryColumn>& summaryColumns();

struct RunSummaryRow {
  int64_t run_id = 0;
  std::string name;
  std::string task;   // "distill" | "train"
  std::string method; // "" for train runs
  // Missing figures are absent (a failed run has no test accuracy).
  std::map<std::string, double> values;
};

// teacher: the run's teacher record when known (for compression against it,
// when the summary lacks it).
RunSummaryRow summarizeRun(const RunRecord& run, const RunRecord* teacher = nullptr);
std::vector<RunSummaryRow> summarizeRuns(RunStore& store, const std::vector<int64_t>& run_ids);

// Formatted for reading: accuracies as percentages with 2 decimals, counts
// with SI suffixes (1.2M, 3.4G), times in seconds; "-" when missing.
std::string formatSummaryValue(const std::string& key, std::optional<double> value);
TableData summaryTable(const std::vector<RunSummaryRow>& rows);
// The same with only some columns (keys of summaryColumns(), in the order given),
// e.g. accuracy columns and cost columns as two tables that fit a page.
TableData summaryTable(const std::vector<RunSummaryRow>& rows, const std::vector<std::string>& column_keys);
// "#12 kd-T4": how runs are named in legends, tables and headers.
std::string runLabel(int64_t run_id, const std::string& name);

} // namespace distillery
