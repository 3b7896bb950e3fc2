#pragma once
// The Shapiro-Wilk test of normality, with Royston's (1995) approximations
// of the coefficients and of the p-value (algorithm AS R94, what R's
// shapiro.test and scipy.stats.shapiro use): for 3 <= n <= 5000. PRADA
// (prada.h) tests whether a client's minimum query distances look normal.
#include <cstddef>
#include <vector>

namespace distillery {

struct ShapiroWilk {
  double w = 1.0; // the statistic, in (0, 1]; near 1 for normal samples
  double p = 1.0; // the p-value of normality
};

// Throws std::invalid_argument for n outside [3, 5000] or when every value is
// the same (W is undefined then).
ShapiroWilk shapiroWilk(std::vector<double> sample);

// Royston's p-value of a W from a sample of n (3 <= n <= 5000): what
// shapiroWilk() returns as p, apart so it can be checked on its own.
double shapiroWilkPValue(double w, size_t n);

} // namespace distillery
