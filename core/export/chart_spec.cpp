#include "core/export/chart_spec.h"

#include "core/export/ema_smoothing.h"
#include "core/analysis/metric_catalog.h"
#include "core/export/run_palette.h"
#include "core/store/run_store.h"

#include <cmath>
#include <limits>

namespace distillery {

std::string ChartSpec::xTitle() const { return x_title.empty() ? axisTitle(x_axis) : x_title; }

std::string ChartSpec::yTitle() const {
  std::string t = y_title.empty() ? metricAxisTitle(metric) : y_title;
  if (log_y) t += ", log scale";
  return t;
}

ChartSpec chartSpecFromStore(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                             XAxisKind x_axis) {
  ChartSpec spec;
  spec.metric = metric;
  spec.title = metricInfo(metric).title;
  spec.x_axis = x_axis;
  const auto colors = runRgbs(run_ids); // unique within the compared set
  for (int64_t id : run_ids) {
    ChartCurve c;
    c.run_id = id;
    const auto run = store.run(id);
    c.label = "#" + std::to_string(id) + (run ? " " + run->name : std::string(" (deleted)"));
    c.rgb = colors.at(id);
    if (run) {
      c.raw = seriesFromPoints(store.points(id, metric), x_axis);
      c.divergence_x = nonFiniteXs(c.raw);
    }
    spec.curves.push_back(std::move(c));
  }
  return spec;
}

std::vector<double> displayedValues(const ChartSpec& spec, const ChartCurve& curve) {
  if (spec.smoothing > 0.0) return smoothEma(curve.raw.y, spec.smoothing);
  return curve.raw.y;
}

ChartBounds chartBounds(const ChartSpec& spec) {
  const double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
  bool points_only = true; // every curve a single value: dots, which the frame must not cut
  for (const ChartCurve& c : spec.curves) {
    const std::vector<double> ys = displayedValues(spec, c);
    size_t finite = 0;
    for (size_t i = 0; i < c.raw.size(); ++i) {
      const double x = c.raw.x[i];
      if (!std::isfinite(x) || (spec.log_x && x <= 0)) continue;
      if (spec.x_min && x < *spec.x_min) continue;
      if (spec.x_max && x > *spec.x_max) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      if (std::isfinite(c.raw.y[i])) ++finite;
      for (double y : {ys[i], c.raw.y[i]}) {
        if (!std::isfinite(y) || (spec.log_y && y <= 0)) continue;
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
      }
    }
    points_only = points_only && finite <= 1;
  }
  ChartBounds b;
  if (x0 <= x1) { b.x_min = x0; b.x_max = x1; }
  if (y0 <= y1) { b.y_min = y0; b.y_max = y1; }
  if (points_only) {
    if (x1 > x0 && !spec.log_x) {
      b.x_min -= 0.05 * (x1 - x0);
      b.x_max += 0.05 * (x1 - x0);
    } else if (x1 > x0) {
      const double f = std::pow(x1 / x0, 0.05);
      b.x_min /= f;
      b.x_max *= f;
    }
    if (y1 > y0 && !spec.log_y) {
      b.y_min -= 0.05 * (y1 - y0);
      b.y_max += 0.05 * (y1 - y0);
    } else if (y1 > y0) {
      const double f = std::pow(y1 / y0, 0.05);
      b.y_min /= f;
      b.y_max *= f;
    }
  }
  if (spec.x_min) b.x_min = *spec.x_min;
  if (spec.x_max) b.x_max = *spec.x_max;
  if (spec.y_min) b.y_min = *spec.y_min;
  if (spec.y_max) b.y_max = *spec.y_max;
  if (b.x_max <= b.x_min) { // one x (a metric measured once): centre it
    const double pad = b.x_min != 0 ? std::abs(b.x_min) * 0.05 : 0.5;
    b.x_min -= pad;
    b.x_max += pad;
  }
  if (b.y_max <= b.y_min) {
    const double pad = b.y_min != 0 ? std::abs(b.y_min) * 0.05 : 0.5;
    b.y_min -= pad;
    b.y_max += pad;
  }
  if (spec.log_x && b.x_min <= 0) b.x_min = b.x_max > 0 ? b.x_max * 1e-3 : 1e-3;
  if (spec.log_y && b.y_min <= 0) b.y_min = b.y_max > 0 ? b.y_max * 1e-3 : 1e-3;
  return b;
}

} // namespace distillery
