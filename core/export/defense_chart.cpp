#include "core/export/defense_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery {

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
  spec.caption = "Clone fidelity (test agreement with the undefended teacher) against benign cost (the undefended "
                 "teacher's test accuracy minus that of the defended answers): one dot per API run, its run id "
                 "beside it, coloured by defense; squares: label-only attackers. Low and left is a good defense.";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const DefenseSeries& s : tradeoff.series) {
    ChartCurve curve;
    curve.label = s.label;
    curve.rgb = s.rgb;
    curve.markers = true;
    curve.square_markers = s.label_only;
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
    // Zero cost (an undefended API) stays in view, and the labels right of the dots have room.
    const double span = std::max(hi - std::min(lo, 0.0), 1.0);
    spec.x_min = std::min(lo, 0.0) - span * 0.06;
    spec.x_max = hi + span * 0.14;
  }
  fitFidelityAxis(spec);
  return spec;
}

ChartSpec defenseQueriesChartSpec(const DefenseTradeoff& tradeoff) {
  ChartSpec spec;
  spec.metric = "defense_fidelity_vs_queries";
  spec.title = "Clone fidelity vs queries";
  spec.x_title = "Queries (training answers from the API)";
  spec.y_title = "Clone fidelity (%)";
  spec.log_x = true; // budgets grow by factors: 1k, 5k, 20k
  spec.caption = "Clone fidelity against the queries the clone trained on (log scale): one line per defense and "
                 "attacker method; label-only attackers dashed, with squares.";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const DefenseSeries& s : tradeoff.series) {
    ChartCurve curve;
    curve.label = s.label;
    curve.rgb = s.rgb;
    curve.markers = true;
    curve.square_markers = s.label_only;
    curve.dashed = s.label_only;
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
