#pragma once
// One metric of one run as x/y arrays, with x taken from any of the cost
// counters every MetricPoint carries. Torch-free: shared by the GUI charts
// and the exporters, so what is exported is computed as what is shown.
#include "core/store/metric_point.h"

#include <optional>
#include <string>
#include <vector>

namespace distillery {

// Scripts pass these words (`--x step|epoch|wall|flops|queries|money`); keep them stable.
enum class XAxisKind { Step, Epoch, Wall, Flops, Queries, Money };

std::string toString(XAxisKind kind);
std::optional<XAxisKind> parseXAxisKind(const std::string& word);
const std::vector<XAxisKind>& allXAxisKinds();
// Axis title with unit, e.g. "Wall time (s)", "Training FLOPs".
std::string axisTitle(XAxisKind kind);
double xValue(const MetricPoint& point, XAxisKind kind);

struct XYSeries {
  std::vector<double> x;
  std::vector<double> y;
  size_t size() const { return x.size(); }
  bool empty() const { return x.empty(); }
};

// Points in the store's order (by step); x is non-decreasing for every kind
// because all counters only grow during a run.
XYSeries seriesFromPoints(const std::vector<MetricPoint>& points, XAxisKind kind);

// x positions of NaN/Inf values: charts drop them silently, so callers mark
// them as divergence themselves.
std::vector<double> nonFiniteXs(const XYSeries& series);

} // namespace distillery
