#pragma once
// One-sample Kolmogorov-Smirnov test of p-values against U(0, 1), two-sided,
// as scipy.stats.kstest(x, "uniform") computes it: the statistic
// D = sup |F_n(x) - x| and P(D_n >= D). The p-value is 1 - P(D_n < D),
// computed exactly by Marsaglia, Tsang and Wang ("Evaluating Kolmogorov's
// distribution", J. Stat. Softw. 2003: a power of an m x m matrix, m = 2
// floor(n D) + 1); below 1e-3 (or for D >= 0.5), where 1 - CDF loses a small
// p's digits, twice the exact one-sided tail (Birnbaum-Tingey), as
// scipy.stats.kstest does in its tail. Only when n D >= 200 with n D^2 < 2.2
// (n > 18000) does it fall back on Kolmogorov's limit distribution
// 2 sum (-1)^(j-1) exp(-2 j^2 n D^2) ("asymptotic"). SciPy agrees to about 1e-9
// for n <= 140; above that SciPy itself uses the Pelz-Good approximation in
// the body (about 1e-7 relative). No LibTorch here.
#include <string>
#include <vector>

namespace distillery {

struct KsResult {
  double statistic = 0.0; // D
  double p_value = 1.0;
  std::string method;     // "exact" or "asymptotic"
};

// Throws std::invalid_argument on an empty sample or a value that is NaN.
KsResult ksTestUniform(std::vector<double> samples);

// P(D_n < d) by Marsaglia-Tsang-Wang.
double kolmogorovCdfExact(int n, double d);
// P(D_n^+ >= d), the one-sided tail (Birnbaum-Tingey).
double smirnovSurvival(int n, double d);

} // namespace distillery
