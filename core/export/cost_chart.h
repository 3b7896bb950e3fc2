#pragma once
// The cost chart: the accuracy of some runs, and of the teachers they name,
// against what they cost (training wall time, training FLOPs, inference FLOPs
// per sample, parameters, teacher queries, money spent on teacher answers),
// with the Pareto front (core/analysis/pareto_front.h). A distilled run's
// time and FLOPs include what its teacher's answers cost, cached or not.
// Built once from the run summaries, so the GUI's cost view, distillery-cli
// export-cost-chart and the reports plot the same points. Torch-free and Qt-free.
#include "core/export/chart_spec.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

class RunStore;

enum class CostKind { WallTime, TrainingFlops, InferenceFlops, Parameters, TeacherQueries, Money };
enum class CostAccuracy { Test, BestValidation };

// The summary key that holds the figure: "wall_s", "train_flops", "flops_per_sample", "params",
// "teacher_queries", "money". Wall time adds "teacher_inference_s" (the teacher's
// time for a cache, spent outside the training loop) to it: costOfRun.
const char* costSummaryKey(CostKind cost);
// The CLI's words: wall, flops, inference-flops, params, queries, money; test, best-val.
const char* costKindWord(CostKind cost);
const std::vector<CostKind>& allCostKinds();
// A run's cost as plotted, from its summary; nullopt when the summary lacks it
// (queries and money read 0 from a finished run's summary without them).
std::optional<double> costOfRun(const nlohmann::json& summary, CostKind cost);
// Which costs the figure holds for this run, in words, e.g. "student training 0.41 s +
// teacher inference for the cache 12.1 s (measured by this run); teacher training: its own run #1".
std::string costCountedText(const nlohmann::json& summary, CostKind cost);
std::optional<CostKind> parseCostKind(const std::string& word);
const char* costAccuracyWord(CostAccuracy accuracy);
std::optional<CostAccuracy> parseCostAccuracy(const std::string& word);
// "test_accuracy" or "best_val_accuracy".
const char* costAccuracySummaryKey(CostAccuracy accuracy);
// Axis titles with units: "Training compute (FLOPs)", "Test accuracy (%)".
std::string costAxisTitle(CostKind cost);
std::string costAccuracyAxisTitle(CostAccuracy accuracy);
// The cost in a sentence: "training compute", "parameters".
std::string costNoun(CostKind cost);
// FLOPs and sizes span orders of magnitude between teacher and student: log by default, wall time linear.
bool costDefaultsToLog(CostKind cost);

struct CostPoint {
  int64_t run_id = 0;
  std::string label;          // "#12 kd-T4"
  double cost = 0;
  double accuracy = 0;        // a fraction, as stored
  bool teacher = false;       // a teacher of a plotted run (added, or compared and teaching another)
  int64_t teacher_run_id = 0; // the run that taught it (0: none)
  uint32_t rgb = 0;           // runRgbs(compared runs, added teachers)
  std::string counted;        // costCountedText: what the cost holds
};

struct CostChart {
  CostKind cost = CostKind::WallTime;
  CostAccuracy accuracy = CostAccuracy::Test;
  bool log_x = false;
  // The compared runs in the order given, then the teachers they name; only
  // those with both figures (and, on a log axis, a positive cost).
  std::vector<CostPoint> points;
  std::vector<size_t> front;    // indices into points, by increasing cost
  std::vector<int64_t> missing; // runs left out for want of a figure

  std::vector<int64_t> frontRunIds() const;
};

// Reads the runs' summaries and those of the teachers they name (teacher_run_id,
// or the summary's teacher_run_id). Runs the store lacks are skipped.
CostChart costChartFromStore(RunStore& store, const std::vector<int64_t>& run_ids, CostKind cost,
                             CostAccuracy accuracy, bool log_x);

// A distilled student set against its plotted teacher.
struct CostComparison {
  size_t student = 0, teacher = 0; // indices into points
  double kept = 0;                 // student accuracy / teacher accuracy
  double cost_ratio = 0;           // student cost / teacher cost; NaN when the teacher's cost is 0 (queries, money)
};
// "#5 kd keeps 94.4% of teacher #1's accuracy (85.10% vs 90.15%) at 0.97x its training
// time (counted: ...)", or "... for 1.2M teacher queries (counted: ...)" when there is no ratio. Plain text.
std::string comparisonSentence(const CostChart& chart, const CostComparison& comparison);
// The report's lines under the cost chart: a comparisonSentence per student with
// its teacher plotted, then "<label>: counted: ..." for every other point.
std::vector<std::string> costNotes(const CostChart& chart);
std::vector<CostComparison> teacherComparisons(const CostChart& chart);

// The visible range: the points with room around them (a factor on a log
// axis), y in percent and never far above 100. Without points: [1, 10] x [0, 100].
ChartBounds costChartRange(const CostChart& chart);

// The chart as the painter draws it: one dot per run (x the cost, y the
// accuracy in percent), teachers marked in the legend, and the front as a
// dashed staircase run on to the right edge (more cost buys nothing there).
ChartSpec costChartSpec(const CostChart& chart);

} // namespace distillery
