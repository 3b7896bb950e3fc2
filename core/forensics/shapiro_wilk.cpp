#include "core/forensics/shapiro_wilk.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace distillery {

namespace {

// c[0] + c[1] x + c[2] x^2 + ...
template <size_t N>
double poly(const double (&c)[N], double x) {
  double v = 0.0;
  for (size_t i = N; i-- > 0;) v = v * x + c[i];
  return v;
}

double normalUpperTail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// The standard normal quantile: Acklam's rational approximation (relative
// error 1e-9), then one Halley step on erfc, which brings it to double precision.
double normalQuantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

} // namespace

ShapiroWilk shapiroWilk(std::vector<double> x) {
  const size_t n = x.size();
  if (n < 3 || n > 5000)
    throw std::invalid_argument("Shapiro-Wilk: needs 3 to 5000 values, not " + std::to_string(n));
  std::sort(x.begin(), x.end());
  if (x.back() - x.front() <= 0) throw std::invalid_argument("Shapiro-Wilk: every value is the same");

  // The coefficients a[i] of the upper half (a[0] for the largest value);
  // the lower half has the same with the sign flipped, the middle of an odd n none.
  const size_t half = n / 2;
  const double an = double(n);
  std::vector<double> a(half);
  if (n == 3) {
    a[0] = std::sqrt(0.5);
  } else {
    // m: expected normal order statistics (Blom's scores), largest first.
    std::vector<double> m(half);
    double summ2 = 0;
    for (size_t i = 0; i < half; ++i) {
      m[i] = -normalQuantile((double(i + 1) - 0.375) / (an + 0.25));
      summ2 += m[i] * m[i];
    }
    summ2 *= 2;
    const double ssumm2 = std::sqrt(summ2), rsn = 1 / std::sqrt(an);
    // Royston's polynomial corrections of the two most extreme coefficients.
    static const double c1[] = {0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056};
    static const double c2[] = {0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633};
    const double a1 = m[0] / ssumm2 + poly(c1, rsn);
    size_t first_scaled;
    double fac;
    if (n > 5) {
      const double a2 = m[1] / ssumm2 + poly(c2, rsn);
      fac = std::sqrt((summ2 - 2 * m[0] * m[0] - 2 * m[1] * m[1]) / (1 - 2 * a1 * a1 - 2 * a2 * a2));
      a[1] = a2;
      first_scaled = 2;
    } else {
      fac = std::sqrt((summ2 - 2 * m[0] * m[0]) / (1 - 2 * a1 * a1));
      first_scaled = 1;
    }
    a[0] = a1;
    for (size_t i = first_scaled; i < half; ++i) a[i] = m[i] / fac;
  }

  // W = (sum a_i x_(i))^2 / sum (x - mean)^2; the a have unit length. Centre
  // first so that large offsets lose no precision.
  double mean = 0;
  for (double v : x) mean += v;
  mean /= an;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  double num = 0;
  for (size_t i = 0; i < half; ++i) num += a[i] * (x[n - 1 - i] - x[i]);
  ShapiroWilk r;
  r.w = std::min(1.0, num * num / ss);

  r.p = shapiroWilkPValue(r.w, n);
  return r;
}

double shapiroWilkPValue(double w, size_t n) {
  if (n < 3 || n > 5000)
    throw std::invalid_argument("Shapiro-Wilk: needs 3 to 5000 values, not " + std::to_string(n));
  const double an = double(n);
  if (n == 3) {
    // Exact for n = 3: p = 6/pi (asin(sqrt(W)) - asin(sqrt(3/4))).
    return std::max(0.0, 6 / M_PI * (std::asin(std::sqrt(w)) - M_PI / 3));
  }
  // Royston's normalising transformation of 1 - W.
  double y = std::log(1 - w);
  double mu, sigma;
  if (n <= 11) {
    static const double g[] = {-2.273, 0.459};
    static const double c3[] = {0.5440, -0.39978, 0.025054, -6.714e-4};
    static const double c4[] = {1.3822, -0.77857, 0.062767, -0.0020322};
    const double gamma = poly(g, an);
    if (y >= gamma) {
      return 1e-99; // beyond the approximation's range: as small as it gets
    }
    y = -std::log(gamma - y);
    mu = poly(c3, an);
    sigma = std::exp(poly(c4, an));
  } else {
    static const double c5[] = {-1.5861, -0.31082, -0.083751, 0.0038915};
    static const double c6[] = {-0.4803, -0.082676, 0.0030302};
    const double ln = std::log(an);
    mu = poly(c5, ln);
    sigma = std::exp(poly(c6, ln));
  }
  return normalUpperTail((y - mu) / sigma);
}

} // namespace distillery
