#include "core/forensics/rank_p_value.h"

#include "core/base/errors.h"

#include <cmath>

namespace distillery {

RankPValue rankPValue(double statistic, const std::vector<double>& null, Closeness closeness) {
  if (null.empty()) throw ConfigError("null", "no independent models to calibrate against");
  if (!std::isfinite(statistic)) throw ConfigError("null", "the suspect's statistic is not finite");
  RankPValue r;
  r.null_size = int64_t(null.size());
  for (double v : null) {
    if (!std::isfinite(v)) throw ConfigError("null", "a null model's statistic is not finite");
    // Ties count against the suspect: the p-value stays valid (never too small).
    const bool as_close = closeness == Closeness::HigherIsCloser ? v >= statistic : v <= statistic;
    if (as_close) ++r.at_least_as_close;
  }
  r.p_value = double(1 + r.at_least_as_close) / double(r.null_size + 1);
  return r;
}

const char* toString(Closeness c) { return c == Closeness::HigherIsCloser ? "higher" : "lower"; }

} // namespace distillery
