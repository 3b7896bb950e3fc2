#include "core/export/axis_ticks.h"

#include "core/base/number_format.h"

#include <algorithm>
#include <cmath>

namespace distillery {

double niceStep(double range, int target_count) {
  if (!(range > 0) || !std::isfinite(range)) return 1.0;
  const double rough = range / std::max(1, target_count);
  const double decade = std::pow(10.0, std::floor(std::log10(rough)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * decade >= rough * 0.999) return m * decade;
  return 10.0 * decade;
}

std::vector<AxisTick> linearTicks(double lo, double hi, int target_count) {
  std::vector<AxisTick> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return ticks;
  const double step = niceStep(hi - lo, target_count);
  const double eps = step * 1e-9;
  const double first = std::ceil((lo - eps) / step) * step;
  double max_abs = 0;
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) {
    const double v = first + i * step;
    if (v > hi + eps) break;
    values.push_back(std::abs(v) < eps ? 0.0 : v);
    max_abs = std::max(max_abs, std::abs(v));
  }
  const int exponent = axisSiExponent(max_abs);
  for (double v : values) ticks.push_back({v, formatTick(v, step, exponent), true});
  return ticks;
}

std::vector<AxisTick> logTicks(double lo, double hi, int target_count) {
  std::vector<AxisTick> ticks;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return ticks;
  const double eps = 1e-9;
  const int d0 = int(std::floor(std::log10(lo) + eps));
  const int d1 = int(std::ceil(std::log10(hi) - eps));
  const int decades = d1 - d0;
  auto inRange = [&](double v) { return v >= lo * (1 - eps) && v <= hi * (1 + eps); };
  auto label = [](double v) { return formatSi(v, 3); }; // 0.01, 1, 1k, 1M: each decade reads alone

  // Which mantissas carry a label: decades only when there are many, 1-2-5 when few.
  std::vector<double> labelled = {1.0};
  int labelled_count = 0;
  for (int d = d0; d <= d1; ++d)
    if (inRange(std::pow(10.0, d))) ++labelled_count;
  // Under three labelled decades (a loss from 0.02 to 2) 2 and 5 are labelled too.
  if (labelled_count < 3) labelled = {1.0, 2.0, 5.0};
  const int every = std::max(1, int(std::ceil(double(decades) / std::max(2, target_count))));

  for (int d = d0; d <= d1; ++d) {
    const double decade = std::pow(10.0, d);
    for (int m = 1; m <= 9; ++m) {
      const double v = m * decade;
      if (!inRange(v)) continue;
      const bool is_labelled =
          std::find(labelled.begin(), labelled.end(), double(m)) != labelled.end() && (m != 1 || (d - d0) % every == 0);
      if (is_labelled) {
        ticks.push_back({v, label(v), true});
      } else if (decades <= 6) {
        ticks.push_back({v, {}, false});
      }
    }
  }
  // Within less than a 1-2-5 step, log ticks say nothing; round linear ones do.
  int majors = 0;
  for (const AxisTick& t : ticks) majors += t.major ? 1 : 0;
  if (majors < 2) return linearTicks(lo, hi, target_count);
  return ticks;
}

} // namespace distillery
