#pragma once
// Numbers as a reader of a paper expects them: SI suffixes (1.2M, 3.4G)
// instead of 1.2e+06, and axis tick labels that share one suffix per axis.
#include <string>

namespace distillery {

// value with `significant` digits and an SI suffix from k upwards:
// 950, 12.3k, 1.23M, 4.5G; small values plainly (0.0123) down to 1e-4,
// below that as 1.2e-5. NaN/Inf as nan, inf, -inf.
std::string formatSi(double value, int significant = 3);

// The SI exponent (0, 3, 6, ...) one axis uses for all its labels, from the
// largest tick magnitude: 0 below 10,000 so small counts stay plain.
int axisSiExponent(double max_abs_tick);
// One tick label: value / 10^exponent with just enough decimals to tell
// ticks `step` apart, trailing zeros dropped, suffix appended (0 has none).
std::string formatTick(double value, double step, int exponent);

} // namespace distillery
