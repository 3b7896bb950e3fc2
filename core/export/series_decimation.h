#pragma once
// Reduces a long series to what a chart of a given pixel width can show,
// without hiding anything: each pixel column over the visible x range keeps
// its minimum and its maximum, in the order they occur. Spikes survive at
// any zoom. Deterministic; never samples.
#include "core/export/chart_series.h"

namespace distillery {

// Input x must be non-decreasing. Non-finite y values are skipped (mark them
// with nonFiniteXs). The result holds at most 2 * columns + 2 points: the
// extremes of each column plus one neighbour on each side of [x_min, x_max],
// so the line runs on to the chart's edges. A series that already fits is
// returned as is (minus non-finite points and points far outside the range).
XYSeries decimateMinMax(const XYSeries& series, double x_min, double x_max, int columns);

} // namespace distillery
