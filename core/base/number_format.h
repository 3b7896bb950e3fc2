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

// A number as people write it in a message: 0.5, 1, 2.25, 1e-05 (the
// shortest stream form), not std::to_string's 0.500000.
std::string plainNumber(double value);

// Money in a log line or table: two decimals, "1.00".
std::string formatMoney(double amount);
// One tick label: value / 10^exponent with just enough decimals to tell
// ticks `step` apart, trailing zeros dropped, suffix appended (0 has none).
std::string formatTick(double value, double step, int exponent);

} // namespace distillery
