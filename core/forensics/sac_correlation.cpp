#include "core/forensics/sac_correlation.h"

#include "core/base/errors.h"

#include <cmath>
#include <string>

namespace distillery {

std::vector<double> sacCorrelationMatrix(const std::vector<float>& outputs, int64_t n, int64_t c) {
  if (n < 1 || c < 1 || int64_t(outputs.size()) != n * c)
    throw ConfigError("sac", "expected " + std::to_string(n) + " x " + std::to_string(c) + " outputs, got " +
                                 std::to_string(outputs.size()) + " values");
  std::vector<double> norms(size_t(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t k = 0; k < c; ++k) s += double(outputs[size_t(i * c + k)]) * outputs[size_t(i * c + k)];
    norms[size_t(i)] = std::sqrt(s);
  }
  std::vector<double> m(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      if (norms[size_t(i)] == 0 || norms[size_t(j)] == 0) continue;
      double dot = 0;
      for (int64_t k = 0; k < c; ++k) dot += double(outputs[size_t(i * c + k)]) * outputs[size_t(j * c + k)];
      const double v = dot / (norms[size_t(i)] * norms[size_t(j)]);
      m[size_t(i * n + j)] = v;
      m[size_t(j * n + i)] = v;
    }
  return m;
}

double sacDistance(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty())
    throw ConfigError("sac", "correlation matrices of different sizes (" + std::to_string(a.size()) + " and " +
                                 std::to_string(b.size()) + " entries)");
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
  return sum / double(a.size());
}

} // namespace distillery
