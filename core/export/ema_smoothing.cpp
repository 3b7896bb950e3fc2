#include "core/export/ema_smoothing.h"

#include <algorithm>
#include <cmath>

namespace distillery {

std::vector<double> smoothEma(const std::vector<double>& values, double weight) {
  weight = std::clamp(weight, 0.0, 0.999999);
  std::vector<double> out(values.size());
  double average = 0.0;
  double debias = 1.0; // weight^n for the n finite values seen so far
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) {
      out[i] = v;
      continue;
    }
    average = weight * average + (1.0 - weight) * v;
    debias *= weight;
    out[i] = average / (1.0 - debias);
  }
  return out;
}

} // namespace distillery
