#include "core/export/cost_chart.h"

#include "core/analysis/pareto_front.h"
#include "core/analysis/run_summary_table.h"
#include "core/base/number_format.h"
#include "core/export/run_palette.h"
#include "core/store/run_store.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s >= 100 ? "%.0f s" : "%.3g s", s);
  return buf;
}

std::string flops(double f) { return formatSi(f, 3) + " FLOPs"; }

// A distilled run names its teacher (a run, or a model file); a trained one does not.
bool isDistilled(const nlohmann::json& s) {
  return s.is_object() && (s.contains("teacher_model") || summaryNumber(s, "teacher_run_id").value_or(0) > 0);
}

std::string teacherTrainingText(const nlohmann::json& s) {
  const auto id = summaryNumber(s, "teacher_run_id");
  if (id && *id > 0) return "teacher training: in its own run #" + std::to_string(int64_t(*id)) + ", not here";
  return "teacher training: none here (a given teacher file)";
}

// How the seconds a cache cost were found, in a few words.
std::string teacherSecondsSource(const nlohmann::json& s) {
  const auto cache = s.find("teacher_cache");
  if (cache == s.end() || !cache->is_object() || !cache->contains("teacher_seconds_source")) return {};
  const std::string source = cache->value("teacher_seconds_source", std::string());
  if (source.rfind("measured", 0) == 0) return "measured";
  if (source.rfind("recorded", 0) == 0) return "recorded when the cache was filled";
  return "estimated from the teacher's throughput";
}

} // namespace

const char* costSummaryKey(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "wall_s";
    case CostKind::TrainingFlops: return "train_flops";
    case CostKind::InferenceFlops: return "flops_per_sample";
    case CostKind::Parameters: return "params";
    case CostKind::TeacherQueries: return "teacher_queries";
    case CostKind::Money: return "money";
  }
  return "wall_s";
}

const char* costKindWord(CostKind cost) {
  switch (cost) {
    case CostKind::WallTime: return "wall";
    case CostKind::TrainingFlops: return "flops";
    case CostKind::InferenceFlops: return "inference-flops";
    case CostKind::Parameters: return "params";
    case CostKind::TeacherQueries: return "queries";
    case CostKind::Money: return "money";
  }
  return "wall";
}

const std::vector<CostKind>& allCostKinds() {
  static const std::vector<CostKind> kinds = {CostKind::WallTime,   CostKind::TrainingFlops,  CostKind::InferenceFlops,
                                              CostKind::Parameters, CostKind::TeacherQueries, CostKind::Money};
  return kinds;
}

std::optional<CostKind> parseCostKind(const std::string& word) {
  for (CostKind k : allCostKinds())
    if (word == costKindWord(k)) return k;
  return std::nullopt;
}

std::optional<double> costOfRun(const nlohmann::json& summary, CostKind cost) {
  auto c = summaryNumber(summary, costSummaryKey(cost));
  // A run without the figure asked no teacher (a teacher's own training) or
  // predates money: it spent none. Only a finished run has a summary to read.
  if (!c && (cost == CostKind::TeacherQueries || cost == CostKind::Money) && summary.is_object() &&
      summary.contains("wall_s"))
    c = 0.0;
  // A cache's teacher pass runs before the training loop, outside wall_s; the run that uses it pays for it.
  if (c && cost == CostKind::WallTime) *c += summaryNumber(summary, "teacher_inference_s").value_or(0.0);
  return c;
}

std::string costCountedText(const nlohmann::json& s, CostKind cost) {
  const bool distilled = isDistilled(s);
  const double teacher_s = summaryNumber(s, "teacher_inference_s").value_or(0.0);
  const double teacher_flops = summaryNumber(s, "teacher_inference_flops").value_or(0.0);
  const auto cache = s.is_object() ? s.find("teacher_cache") : s.end();
  const bool cached = cache != s.end() && cache->is_object() && cache->contains("teacher_seconds");
  const std::string teacher_part = cached ? "teacher inference for the cache" : "teacher inference in the training steps";
  switch (cost) {
    case CostKind::WallTime: {
      const double wall = summaryNumber(s, "wall_s").value_or(0.0);
      if (!distilled) return "training " + seconds(wall);
      std::string text = "student training " + seconds(wall);
      if (cached)
        text += " + " + teacher_part + " " + seconds(teacher_s) + " (" + teacherSecondsSource(s) + ", " +
                flops(teacher_flops) + ")";
      else if (teacher_flops > 0)
        text += ", " + teacher_part + " included";
      return text + "; " + teacherTrainingText(s);
    }
    case CostKind::TrainingFlops: {
      const double total = summaryNumber(s, "train_flops").value_or(0.0);
      if (!distilled) return "training " + flops(total);
      std::string text = "student training " + flops(total - teacher_flops);
      if (teacher_flops > 0) text += " + " + teacher_part + " " + flops(teacher_flops);
      return text + "; " + teacherTrainingText(s);
    }
    case CostKind::InferenceFlops: return "the model's forward pass alone";
    case CostKind::Parameters: return "the model alone";
    case CostKind::TeacherQueries:
      return distilled ? "samples the teacher answered: training batches, validation and test splits"
                       : "no teacher";
    case CostKind::Money: {
      const double money = summaryNumber(s, "money").value_or(0.0);
      if (!distilled) return "no teacher";
      return money > 0 ? "teacher answers bought from an API" : "none spent: the teacher ran locally";
    }
  }
  return {};
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
    case CostKind::WallTime: return "Wall time (s): training + teacher inference";
    case CostKind::TrainingFlops: return "Training compute (FLOPs)";
    case CostKind::InferenceFlops: return "Inference cost (FLOPs per sample)";
    case CostKind::Parameters: return "Parameters";
    case CostKind::TeacherQueries: return "Teacher queries (samples)";
    case CostKind::Money: return "Money spent on teacher answers";
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
    case CostKind::TeacherQueries: return "teacher queries";
    case CostKind::Money: return "money spent on teacher answers";
  }
  return {};
}

// Teachers ask no teacher and spend nothing: those axes start at 0, linear.
bool costDefaultsToLog(CostKind cost) {
  return cost == CostKind::TrainingFlops || cost == CostKind::InferenceFlops || cost == CostKind::Parameters;
}

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
    const auto c = costOfRun(run.summary, cost);
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
    p.counted = costCountedText(run.summary, cost);
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
      if (teacher.accuracy > 0)
        out.push_back({s, t, student.accuracy / teacher.accuracy,
                       teacher.cost > 0 ? student.cost / teacher.cost : std::nan("")});
      break;
    }
  }
  return out;
}

std::string comparisonSentence(const CostChart& chart, const CostComparison& c) {
  const CostPoint& s = chart.points[c.student];
  const CostPoint& t = chart.points[c.teacher];
  char buf[160];
  std::snprintf(buf, sizeof buf, " keeps %.1f%% of teacher #%lld's accuracy (%.2f%% vs %.2f%%) ", c.kept * 100,
                static_cast<long long>(t.run_id), s.accuracy * 100, t.accuracy * 100);
  std::string text = s.label + buf;
  if (std::isfinite(c.cost_ratio)) {
    std::snprintf(buf, sizeof buf, "at %.3gx its %s", c.cost_ratio, costNoun(chart.cost).c_str());
    text += buf;
    if (c.cost_ratio > 0 && c.cost_ratio < 1) {
      std::snprintf(buf, sizeof buf, " (%.3gx cheaper)", 1.0 / c.cost_ratio);
      text += buf;
    }
  } else if (chart.cost == CostKind::Money) {
    std::snprintf(buf, sizeof buf, "for %.4g spent on its answers", s.cost);
    text += buf;
  } else {
    text += "for " + formatSi(s.cost, 3) + " " + costNoun(chart.cost);
  }
  return text + "; counted: " + s.counted;
}

std::vector<std::string> costNotes(const CostChart& chart) {
  std::vector<std::string> notes;
  std::vector<bool> told(chart.points.size(), false);
  for (const CostComparison& c : teacherComparisons(chart)) {
    notes.push_back(comparisonSentence(chart, c));
    told[c.student] = true;
  }
  for (size_t i = 0; i < chart.points.size(); ++i)
    if (!told[i]) notes.push_back(chart.points[i].label + (chart.points[i].teacher ? " (teacher)" : "") +
                                  ": counted: " + chart.points[i].counted);
  return notes;
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
  } else if (c0 == 0 && c1 == 0) {
    // Nothing spent by anyone (money with local teachers): a plain 0..1 axis, not 0..1e-9.
    b.x_min = 0;
    b.x_max = 1;
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
