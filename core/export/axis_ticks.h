#pragma once
// Tick positions and labels for chart axes: round steps (1, 2, 2.5, 5 x 10^k)
// on linear axes, decades (with 2 and 5 between when few) on log axes,
// labels with SI suffixes (200k, 1.5M) rather than 2e+05.
#include <string>
#include <vector>

namespace distillery {

struct AxisTick {
  double value = 0;
  std::string label; // empty for minor ticks
  bool major = true;
};

// A round step near range / target_count.
double niceStep(double range, int target_count);
// Ticks within [lo, hi] (inclusive, up to rounding).
std::vector<AxisTick> linearTicks(double lo, double hi, int target_count);
// lo > 0. Major ticks are labelled, minor ones (2..9 x 10^k) are not.
std::vector<AxisTick> logTicks(double lo, double hi, int target_count);

} // namespace distillery
