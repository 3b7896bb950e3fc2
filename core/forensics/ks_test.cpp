#include "core/forensics/ks_test.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace distillery {

namespace {

using Matrix = std::vector<double>; // m x m, row-major

Matrix multiply(const Matrix& a, const Matrix& b, int m) {
  Matrix c(size_t(m) * size_t(m), 0.0);
  for (int i = 0; i < m; ++i)
    for (int k = 0; k < m; ++k) {
      const double aik = a[size_t(i) * m + k];
      if (aik == 0.0) continue;
      for (int j = 0; j < m; ++j) c[size_t(i) * m + j] += aik * b[size_t(k) * m + j];
    }
  return c;
}

// a^n with a decimal exponent kept apart, so the entries neither overflow nor underflow.
void matrixPower(const Matrix& a, int m, int n, Matrix& out, int& exponent) {
  if (n == 1) {
    out = a;
    exponent = 0;
    return;
  }
  int half_exp = 0;
  Matrix half;
  matrixPower(a, m, n / 2, half, half_exp);
  out = multiply(half, half, m);
  exponent = 2 * half_exp;
  if (n % 2 == 1) out = multiply(a, out, m);
  if (out[size_t(m / 2) * m + m / 2] > 1e140) {
    for (double& v : out) v *= 1e-140;
    exponent += 140;
  }
}

double kolmogorovSurvivalAsymptotic(double x) {
  if (x <= 0.0) return 1.0;
  double sum = 0.0;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::exp(-2.0 * double(j) * double(j) * x * x);
    sum += (j % 2 == 1 ? term : -term);
    if (term < 1e-300) break;
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

} // namespace

double smirnovSurvival(int n, double d) {
  if (d <= 0.0) return 1.0;
  if (d >= 1.0) return 0.0;
  // Birnbaum and Tingey (1951): d * sum_j C(n, j) (1 - d - j/n)^(n - j) (d + j/n)^(j - 1),
  // every term positive, summed in log space.
  const int last = int(std::floor(double(n) * (1.0 - d)));
  std::vector<double> logs;
  for (int j = 0; j <= last; ++j) {
    const double a = 1.0 - d - double(j) / double(n);
    if (a <= 0.0 && n - j > 0) continue; // 0^(n - j) = 0
    const double log_a = n - j > 0 ? double(n - j) * std::log(a) : 0.0;
    logs.push_back(std::lgamma(double(n) + 1.0) - std::lgamma(double(j) + 1.0) - std::lgamma(double(n - j) + 1.0) +
                   log_a + double(j - 1) * std::log(d + double(j) / double(n)));
  }
  if (logs.empty()) return 0.0;
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0.0;
  for (double l : logs) sum += std::exp(l - top);
  return std::clamp(d * std::exp(top) * sum, 0.0, 1.0);
}

double kolmogorovCdfExact(int n, double d) {
  if (d <= 0.0) return 0.0;
  if (d >= 1.0) return 1.0;
  const int k = int(double(n) * d) + 1;
  const int m = 2 * k - 1;
  const double h = double(k) - double(n) * d;
  Matrix H(size_t(m) * size_t(m), 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) H[size_t(i) * m + j] = (i - j + 1 < 0) ? 0.0 : 1.0;
  for (int i = 0; i < m; ++i) {
    H[size_t(i) * m] -= std::pow(h, i + 1);
    H[size_t(m - 1) * m + i] -= std::pow(h, m - i);
  }
  H[size_t(m - 1) * m] += (2.0 * h - 1.0 > 0.0 ? std::pow(2.0 * h - 1.0, m) : 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      if (i - j + 1 > 0)
        for (int g = 1; g <= i - j + 1; ++g) H[size_t(i) * m + j] /= double(g);
  Matrix Q;
  int eQ = 0;
  matrixPower(H, m, n, Q, eQ);
  double s = Q[size_t(k - 1) * m + (k - 1)];
  for (int i = 1; i <= n; ++i) {
    s = s * double(i) / double(n);
    if (s < 1e-140) {
      s *= 1e140;
      eQ -= 140;
    }
  }
  return std::clamp(s * std::pow(10.0, eQ), 0.0, 1.0);
}

KsResult ksTestUniform(std::vector<double> samples) {
  if (samples.empty()) throw std::invalid_argument("a KS test needs at least one sample");
  for (double v : samples)
    if (std::isnan(v)) throw std::invalid_argument("a KS test sample is NaN");
  std::sort(samples.begin(), samples.end());
  const double n = double(samples.size());
  double d = 0.0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const double x = std::clamp(samples[i], 0.0, 1.0); // the U(0, 1) CDF
    d = std::max({d, double(i + 1) / n - x, x - double(i) / n});
  }
  KsResult r;
  r.statistic = d;
  const int count = int(samples.size());
  // Two-sided is twice one-sided exactly for d >= 0.5 and, in the tail, to a
  // relative error of about P(D+ >= d and D- >= d), far below p: there it
  // keeps the digits 1 - CDF loses.
  r.method = "exact";
  if (n * d < 200.0) {
    r.p_value = 1.0 - kolmogorovCdfExact(count, d);
    if (r.p_value < 1e-3 || d >= 0.5) r.p_value = 2.0 * smirnovSurvival(count, d);
  } else if (n * d * d >= 2.2) {
    r.p_value = 2.0 * smirnovSurvival(count, d);
  } else {
    r.method = "asymptotic";
    r.p_value = kolmogorovSurvivalAsymptotic(std::sqrt(n) * d);
  }
  r.p_value = std::clamp(r.p_value, 0.0, 1.0);
  return r;
}

} // namespace distillery
