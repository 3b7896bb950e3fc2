#include "core/base/number_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace distillery {

namespace {
const char* siSuffix(int exponent) {
  switch (exponent) {
  case 3: return "k";
  case 6: return "M";
  case 9: return "G";
  case 12: return "T";
  case 15: return "P";
  case 18: return "E";
  default: return "";
  }
}

std::string nonFinite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

// "%.Nf" without trailing zeros or a dangling point.
std::string fixedTrimmed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals < 0 ? 0 : decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// 1.2e-5 rather than 1.2e-05.
std::string compactExponent(double v, int significant) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", significant > 1 ? significant - 1 : 0, v);
  std::string s = buf;
  const size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') != std::string::npos) {
    while (mantissa.back() == '0') mantissa.pop_back();
    if (mantissa.back() == '.') mantissa.pop_back();
  }
  const int exponent = std::atoi(s.c_str() + e + 1);
  return mantissa + "e" + std::to_string(exponent);
}
} // namespace

std::string formatSi(double value, int significant) {
  if (!std::isfinite(value)) return nonFinite(value);
  if (value == 0) return "0";
  if (significant < 1) significant = 1;
  const double mag = std::abs(value);
  if (mag < 1e-4) return compactExponent(value, significant);
  int exponent = 0;
  if (mag >= 1e3) exponent = std::min(18, 3 * int(std::floor(std::log10(mag) / 3.0)));
  double scaled = value / std::pow(10.0, exponent);
  // Rounding can carry into the next prefix: 999.96k is 1M.
  int digits = int(std::floor(std::log10(std::abs(scaled)))) + 1;
  int decimals = significant - digits;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals < 0 ? 0 : decimals, scaled);
  if (std::abs(std::atof(buf)) >= 1000.0 && exponent < 18) {
    exponent += 3;
    scaled = value / std::pow(10.0, exponent);
    digits = int(std::floor(std::log10(std::abs(scaled)))) + 1;
    decimals = significant - digits;
  }
  // Integers below 1000 keep their digits (950, not 950.0); others show significant digits.
  return fixedTrimmed(scaled, decimals) + siSuffix(exponent);
}

int axisSiExponent(double max_abs_tick) {
  if (!std::isfinite(max_abs_tick) || max_abs_tick < 1e4) return 0;
  return std::min(18, 3 * int(std::floor(std::log10(max_abs_tick) / 3.0)));
}

std::string formatTick(double value, double step, int exponent) {
  if (!std::isfinite(value)) return nonFinite(value);
  const double unit = std::pow(10.0, exponent);
  // Treat values a rounding error away from zero as zero.
  if (step > 0 && std::abs(value) < step * 1e-9) return "0";
  const double scaled_step = step > 0 ? step / unit : 1.0;
  if (exponent == 0 && step > 0 && step < 1e-3) return compactExponent(value, 2);
  int decimals = 0;
  if (scaled_step > 0 && scaled_step < 1) decimals = int(std::ceil(-std::log10(scaled_step) - 1e-9));
  // A step like 0.25 needs one more decimal than its magnitude says.
  const double probe = scaled_step * std::pow(10.0, decimals);
  if (std::abs(probe - std::round(probe)) > 1e-6) ++decimals;
  return fixedTrimmed(value / unit, std::min(decimals, 12)) + siSuffix(exponent);
}

std::string plainNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string formatMoney(double amount) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", amount);
  return text;
}

} // namespace distillery
