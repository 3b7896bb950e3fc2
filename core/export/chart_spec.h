#pragma once
// A chart as the researcher sees it: which runs, which metric against which
// x axis, log or linear y, smoothing, and the zoomed range. The compare view
// keeps one per chart and hands it to the exporters, so an export shows what
// the screen shows. Torch-free and Qt-free.
#include "core/export/chart_series.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

class RunStore;

struct ChartCurve {
  int64_t run_id = 0;
  std::string label;  // legend text, e.g. "#12 kd-T4"
  uint32_t rgb = 0;   // 0xRRGGBB; chartSpecFromStore: runRgbs(run_ids), unique within the chart
  XYSeries raw;       // full resolution, x in the spec's axis
  std::vector<double> divergence_x; // where the value was NaN/Inf
  bool dashed = false; // a guide rather than a run's data (the cost chart's Pareto front)
  // Few points that each stand for a run (the defense charts): a disc on every
  // point, with the line through them unless line is false (a scatter).
  bool markers = false;
  bool square_markers = false; // squares instead of discs: a second kind beside the same colour
  bool hollow_markers = false; // outlined markers: a third kind (the defense charts' other query strategies)
  bool dotted = false;         // a dotted line, told apart from solid and dashed ones of the same colour
  bool line = true;
  std::vector<std::string> point_labels; // beside each point of raw ("#12"); empty or "" for none
};

struct ChartSpec {
  std::string metric;  // "val_accuracy"
  std::string title;   // shown above the plot; metricInfo(metric).title by default
  XAxisKind x_axis = XAxisKind::Step;
  bool log_y = false;
  bool log_x = false; // costs (FLOPs, parameters) span orders of magnitude
  double smoothing = 0.0; // debiased EMA weight in [0, 1); > 0 also draws the raw curve faintly
  // The visible range; unset bounds fit the data.
  std::optional<double> x_min, x_max, y_min, y_max;
  std::vector<ChartCurve> curves;
  // Axis titles for charts whose axes are no XAxisKind or stored metric (the cost chart); empty: derived.
  std::string x_title, y_title;
  // The figure caption in reports; empty: "<title> against <x title>".
  std::string caption;

  std::string xTitle() const;  // x_title, else axisTitle(x_axis)
  std::string yTitle() const;  // y_title, else metricAxisTitle(metric), with "(log scale)" when log_y
};

// Loads the metric of each run at full resolution (the store keeps every point).
// Runs without that metric get an empty curve, so the legend still lists them.
ChartSpec chartSpecFromStore(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                             XAxisKind x_axis);

// The curve as drawn: EMA-smoothed when smoothing > 0, raw otherwise.
std::vector<double> displayedValues(const ChartSpec& spec, const ChartCurve& curve);

// Data bounds of what would be drawn (finite values only; positive only on log axes),
// then overridden by the spec's explicit range. Falls back to [0, 1] when empty.
struct ChartBounds {
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
};
ChartBounds chartBounds(const ChartSpec& spec);

} // namespace distillery
