#include "core/export/cost_chart.h"

#include "core/analysis/pareto_front.h"
#include "core/analysis/run_summary_table.h"
#include "core/export/run_palette.h"
#include "core/store/run_store.h"

#include <algorithm>
#include <cmath>

namespace distillery {

namespace {

std::optional<double> summaryNumber(const nlohmann::json& summary, const char* key) {
  if (!summary.is_object()) return std::nullopt;
  const auto it = summary.find(key);
  if (it == summary.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

// Stores from before teacher_run_id had a column keep it in the summary.
int64_t teacherOf(const RunRecord& run) {
  if (run.teacher_run_id) return run.teacher_run_id;
  if (auto id = summaryNumber(run.summary, "teacher_run_id")) return int64_t(*id);
  return 0;
}

bool contains(const std::vector<int64_t>& ids, int64_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

} // namespace

const char* costSummaryKey(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "wall_s";
    case CostKind::TrainingFlops: return "train_flops";
    case CostKind::InferenceFlops: return "flops_per_sample";
    case CostKind::Parameters: return "params";
  }
  return "wall_s";
}

const char* costKindWord(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "wall";
    case CostKind::TrainingFlops: return "flops";
    case CostKind::InferenceFlops: return "inference-flops";
    case CostKind::Parameters: return "params";
  }
  return "wall";
}

std::optional<CostKind> parseCostKind(const std::string& word) {
  for (CostKind k : {CostKind::WallTime, CostKind::TrainingFlops, CostKind::InferenceFlops, CostKind::Parameters})
    if (word == costKindWord(k)) return k;
  return std::nullopt;
}

const char* costAccuracyWord(CostAccuracy accuracy) { return accuracy == CostAccuracy::Test ? "test" : "best-val"; }

std::optional<CostAccuracy> parseCostAccuracy(const std::string& word) {
  for (CostAccuracy a : {CostAccuracy::Test, CostAccuracy::BestValidation})
    if (word == costAccuracyWord(a)) return a;
  return std::nullopt;
}

const char* costAccuracySummaryKey(CostAccuracy accuracy) {
  return accuracy == CostAccuracy::Test ? "test_accuracy" : "best_val_accuracy";
}

std::string costAxisTitle(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "Training wall time (s)";
    case CostKind::TrainingFlops: return "Training compute (FLOPs)";
    case CostKind::InferenceFlops: return "Inference cost (FLOPs per sample)";
    case CostKind::Parameters: return "Parameters";
  }
  return {};
}

std::string costAccuracyAxisTitle(CostAccuracy accuracy) {
  return accuracy == CostAccuracy::Test ? "Test accuracy (%)" : "Best validation accuracy (%)";
}

std::string costNoun(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "training time";
    case CostKind::TrainingFlops: return "training compute";
    case CostKind::InferenceFlops: return "inference FLOPs per sample";
    case CostKind::Parameters: return "parameters";
  }
  return {};
}

bool costDefaultsToLog(CostKind cost) { return cost != CostKind::WallTime; }

std::vector<int64_t> CostChart::frontRunIds() const {
  std::vector<int64_t> ids;
  for (size_t i : front) ids.push_back(points[i].run_id);
  return ids;
}

CostChart costChartFromStore(RunStore& store, const std::vector<int64_t>& run_ids, CostKind cost,
                             CostAccuracy accuracy, bool log_x) {
  CostChart chart;
  chart.cost = cost;
  chart.accuracy = accuracy;
  chart.log_x = log_x;

  // The compared runs, then the teachers they name.
  std::vector<std::pair<RunRecord, bool>> runs;
  std::vector<int64_t> teachers;
  for (int64_t id : run_ids)
    if (auto run = store.run(id)) runs.emplace_back(std::move(*run), false);
  for (const auto& entry : runs) {
    const int64_t t = teacherOf(entry.first);
    if (t && !contains(run_ids, t) && !contains(teachers, t)) teachers.push_back(t);
  }
  for (int64_t t : teachers)
    if (auto run = store.run(t)) runs.emplace_back(std::move(*run), true);
  // A compared run that teaches another compared run is drawn as a teacher too.
  for (auto& [run, is_teacher] : runs)
    for (const auto& other : runs)
      if (teacherOf(other.first) == run.id) is_teacher = true;

  // The compared runs keep the colours of their curves; added teachers take free ones.
  const auto colours = runRgbs(run_ids, teachers);
  for (const auto& [run, is_teacher] : runs) {
    const auto c = summaryNumber(run.summary, costSummaryKey(cost));
    const auto a = summaryNumber(run.summary, costAccuracySummaryKey(accuracy));
    if (!c || !a || (log_x && *c <= 0)) {
      chart.missing.push_back(run.id);
      continue;
    }
    CostPoint p;
    p.run_id = run.id;
    p.label = runLabel(run.id, run.name);
    p.cost = *c;
    p.accuracy = *a;
    p.teacher = is_teacher;
    p.teacher_run_id = teacherOf(run);
    const auto colour = colours.find(run.id);
    p.rgb = colour != colours.end() ? colour->second : runRgb(run.id);
    chart.points.push_back(std::move(p));
  }
  std::vector<CostAccuracyPoint> pareto;
  for (const CostPoint& p : chart.points) pareto.push_back({p.run_id, p.cost, p.accuracy});
  chart.front = paretoFront(pareto);
  return chart;
}

std::vector<CostComparison> teacherComparisons(const CostChart& chart) {
  std::vector<CostComparison> out;
  for (size_t s = 0; s < chart.points.size(); ++s) {
    const CostPoint& student = chart.points[s];
    if (student.teacher || !student.teacher_run_id) continue;
    for (size_t t = 0; t < chart.points.size(); ++t) {
      const CostPoint& teacher = chart.points[t];
      if (teacher.run_id != student.teacher_run_id) continue;
      if (teacher.accuracy > 0 && teacher.cost > 0)
        out.push_back({s, t, student.accuracy / teacher.accuracy, student.cost / teacher.cost});
      break;
    }
  }
  return out;
}

ChartBounds costChartRange(const CostChart& chart) {
  double c0 = 1, c1 = 10, a0 = 0, a1 = 100;
  if (!chart.points.empty()) {
    c0 = c1 = chart.points.front().cost;
    a0 = a1 = chart.points.front().accuracy * 100;
    for (const CostPoint& p : chart.points) {
      c0 = std::min(c0, p.cost);
      c1 = std::max(c1, p.cost);
      a0 = std::min(a0, p.accuracy * 100);
      a1 = std::max(a1, p.accuracy * 100);
    }
  }
  ChartBounds b;
  if (chart.log_x) {
    b.x_min = c0 / 1.8;
    b.x_max = c1 * 1.8;
  } else {
    const double pad = std::max((c1 - c0) * 0.08, std::fabs(c1) * 0.05 + 1e-9);
    b.x_min = std::max(0.0, c0 - pad);
    b.x_max = c1 + pad;
  }
  const double pad_y = std::max((a1 - a0) * 0.08, 0.5);
  b.y_min = a0 - pad_y;
  b.y_max = std::min(100.0 + pad_y, a1 + pad_y);
  return b;
}

ChartSpec costChartSpec(const CostChart& chart) {
  ChartSpec spec;
  // Names the chart's files and LaTeX label in reports, apart from any metric chart.
  spec.metric = std::string("cost_") + costSummaryKey(chart.cost);
  spec.title = "Accuracy against cost";
  spec.x_title = costAxisTitle(chart.cost);
  spec.y_title = costAccuracyAxisTitle(chart.accuracy);
  spec.log_x = chart.log_x;
  const ChartBounds range = costChartRange(chart);
  spec.x_min = range.x_min;
  spec.x_max = range.x_max;
  spec.y_min = range.y_min;
  spec.y_max = range.y_max;

  // The front first, so the dots sit on top of it.
  if (!chart.front.empty()) {
    ChartCurve front;
    front.label = "Pareto front";
    front.rgb = 0x505050;
    front.dashed = true;
    for (size_t k = 0; k < chart.front.size(); ++k) {
      const CostPoint& p = chart.points[chart.front[k]];
      if (k > 0) {
        front.raw.x.push_back(p.cost);
        front.raw.y.push_back(chart.points[chart.front[k - 1]].accuracy * 100);
      }
      front.raw.x.push_back(p.cost);
      front.raw.y.push_back(p.accuracy * 100);
    }
    front.raw.x.push_back(range.x_max);
    front.raw.y.push_back(chart.points[chart.front.back()].accuracy * 100);
    spec.curves.push_back(std::move(front));
  }
  for (const CostPoint& p : chart.points) {
    ChartCurve dot;
    dot.run_id = p.run_id;
    dot.label = p.label + (p.teacher ? " (teacher)" : "");
    dot.rgb = p.rgb;
    dot.raw.x = {p.cost};
    dot.raw.y = {p.accuracy * 100};
    spec.curves.push_back(std::move(dot));
  }
  return spec;
}

} // namespace distillery
