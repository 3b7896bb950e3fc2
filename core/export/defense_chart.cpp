#include "core/export/defense_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery {

const double kLabelShareX = 0.05, kLabelShareY = 0.07;

namespace {

// Fidelity in percent, with room above and below the dots; never far above 100.
void fitFidelityAxis(ChartSpec& spec) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const ChartCurve& c : spec.curves)
    for (double y : c.raw.y) {
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
  if (lo > hi) return; // nothing drawn: the painter's defaults
  const double pad = std::max((hi - lo) * 0.1, 1.0);
  spec.y_min = std::max(0.0, lo - pad);
  spec.y_max = std::min(100.0 + pad / 2, hi + pad);
}

std::string runTag(const DefensePoint& p) { return "#" + std::to_string(p.run_id); }

// Runs of equal figures (an undefended API bought twice) sit on one spot and
// their ids would pile up there: the points closer than a label's size (as a
// share of the axis ranges) to a cluster's first point share one label,
// "#20,#24" by id, at the cluster's highest point (labels sit above their
// points, so nothing of the cluster covers it). Needs the spec's ranges set.
void joinCoincidingLabels(ChartSpec& spec) {
  const double dx = (*spec.x_max - *spec.x_min) * kLabelShareX, dy = (*spec.y_max - *spec.y_min) * kLabelShareY;
  struct Tagged {
    int64_t run_id;
    size_t curve, point;
    double x, y;
  };
  std::vector<Tagged> tagged;
  for (size_t c = 0; c < spec.curves.size(); ++c)
    for (size_t i = 0; i < spec.curves[c].point_labels.size() && i < spec.curves[c].raw.size(); ++i)
      if (!spec.curves[c].point_labels[i].empty())
        tagged.push_back({std::stoll(spec.curves[c].point_labels[i].substr(1)), c, i, spec.curves[c].raw.x[i],
                          spec.curves[c].raw.y[i]});
  std::sort(tagged.begin(), tagged.end(), [](const Tagged& a, const Tagged& b) { return a.run_id < b.run_id; });
  std::vector<std::vector<const Tagged*>> clusters; // each by run id; its first point decides who joins
  for (const Tagged& t : tagged) {
    const auto near = std::find_if(clusters.begin(), clusters.end(), [&](const std::vector<const Tagged*>& c) {
      return std::abs(c.front()->x - t.x) < dx && std::abs(c.front()->y - t.y) < dy;
    });
    if (near == clusters.end()) clusters.push_back({&t});
    else near->push_back(&t);
  }
  for (const auto& cluster : clusters) {
    if (cluster.size() < 2) continue;
    std::string joined;
    const Tagged* top = cluster.front();
    for (const Tagged* t : cluster) {
      joined += (joined.empty() ? "" : ",") + spec.curves[t->curve].point_labels[t->point];
      spec.curves[t->curve].point_labels[t->point].clear();
      if (t->y > top->y) top = t;
    }
    spec.curves[top->curve].point_labels[top->point] = joined;
  }
}

// A series' curve as both charts draw it: its colour and label, markers,
// squares for label-only attackers, hollow for other query strategies.
ChartCurve seriesCurve(const DefenseSeries& s) {
  ChartCurve curve;
  curve.label = s.label;
  curve.rgb = s.rgb;
  curve.markers = true;
  curve.square_markers = s.label_only;
  curve.hollow_markers = s.other_strategy;
  return curve;
}

} // namespace

const char* defenseSectionIntro() {
  return "Runs that distilled a clone through a teacher API. Benign cost: how much test accuracy honest users "
         "lose from the defended answers (the undefended reference teacher's test accuracy minus that of the API's "
         "top-1 answers), in percentage points. Fidelity: the clone's test agreement with the undefended reference "
         "teacher.";
}

ChartSpec defenseCostChartSpec(const DefenseTradeoff& tradeoff) {
  ChartSpec spec;
  // Names the chart's files and LaTeX label in reports.
  spec.metric = "defense_fidelity_vs_benign_cost";
  spec.title = "Clone fidelity vs benign cost";
  spec.x_title = "Benign cost (accuracy points honest users lose)";
  spec.y_title = "Clone fidelity (%)";
  // Three lines at most: the PDF report leaves that much under each chart.
  spec.caption = "Clone fidelity (test agreement with the undefended teacher) against benign cost (accuracy points "
                 "honest users lose): one dot per API run, labelled with its run id (runs on one spot share a label), "
                 "coloured by defense; squares: label-only attackers";
  if (tradeoff.mixedStrategies())
    spec.caption += "; hollow: strategies other than " + strategyLabel(tradeoff.strategies.front());
  spec.caption += ". Low and left is a good defense.";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const DefenseSeries& s : tradeoff.series) {
    ChartCurve curve = seriesCurve(s);
    curve.line = false;
    for (size_t i : s.points) {
      const DefensePoint& p = tradeoff.points[i];
      if (!p.benign_cost || !p.fidelity) continue;
      curve.raw.x.push_back(*p.benign_cost * 100);
      curve.raw.y.push_back(*p.fidelity * 100);
      curve.point_labels.push_back(runTag(p));
      lo = std::min(lo, *p.benign_cost * 100);
      hi = std::max(hi, *p.benign_cost * 100);
    }
    if (!curve.raw.empty()) spec.curves.push_back(std::move(curve));
  }
  if (lo <= hi) {
    // Zero cost (an undefended API) stays in view, and the labels right of
    // the dots have room. At least one point wide: costs that are all about
    // zero would otherwise get an axis of hundredths of a point.
    const double from = std::min(lo, 0.0);
    const double span = std::max(std::max(hi, 0.0) - from, 1.0);
    spec.x_min = from - span * 0.08;
    spec.x_max = from + span * 1.14;
  }
  fitFidelityAxis(spec);
  if (spec.x_min && spec.y_min) joinCoincidingLabels(spec);
  return spec;
}

ChartSpec defenseQueriesChartSpec(const DefenseTradeoff& tradeoff) {
  ChartSpec spec;
  spec.metric = "defense_fidelity_vs_queries";
  spec.title = "Clone fidelity vs queries";
  spec.x_title = "Queries (training answers from the API)";
  spec.y_title = "Clone fidelity (%)";
  spec.log_x = true; // budgets grow by factors: 1k, 5k, 20k
  spec.caption = "Clone fidelity against the queries the clone trained on (log scale): one line per defense, "
                 "attacker method and query strategy; label-only attackers dashed, with squares.";
  if (tradeoff.mixedStrategies())
    spec.caption += " Strategies other than " + strategyLabel(tradeoff.strategies.front()) +
                    ": dotted, with hollow markers.";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const DefenseSeries& s : tradeoff.series) {
    ChartCurve curve = seriesCurve(s);
    curve.dashed = s.label_only;
    // Another query strategy is another attack: dotted, hollow markers.
    curve.dotted = s.other_strategy;
    for (size_t i : s.points) { // by increasing queries
      const DefensePoint& p = tradeoff.points[i];
      if (!p.queries || *p.queries <= 0 || !p.fidelity) continue;
      curve.raw.x.push_back(double(*p.queries));
      curve.raw.y.push_back(*p.fidelity * 100);
      lo = std::min(lo, double(*p.queries));
      hi = std::max(hi, double(*p.queries));
    }
    if (!curve.raw.empty()) spec.curves.push_back(std::move(curve));
  }
  if (lo <= hi) {
    spec.x_min = lo / 1.5;
    spec.x_max = hi * 2.0; // the labels right of the last dots have room
  }
  fitFidelityAxis(spec);
  return spec;
}

} // namespace distillery
