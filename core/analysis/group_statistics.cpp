#include "core/analysis/group_statistics.h"

#include <algorithm>
#include <cmath>

namespace distillery {

std::optional<GroupStatistics> groupStatistics(const std::vector<double>& values) {
  GroupStatistics s;
  double sum = 0.0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    s.min = s.count == 0 ? v : std::min(s.min, v);
    s.max = s.count == 0 ? v : std::max(s.max, v);
    sum += v;
    ++s.count;
  }
  if (s.count == 0) return std::nullopt;
  s.mean = sum / double(s.count);
  if (s.count > 1) {
    // Two passes: the deviations from the mean, not sum of squares minus
    // squared sum, which cancels badly for values such as 0.9999x.
    double squares = 0.0;
    for (double v : values)
      if (std::isfinite(v)) squares += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(squares / double(s.count - 1));
  }
  return s;
}

std::string groupAggregateName(GroupAggregate aggregate) {
  switch (aggregate) {
    case GroupAggregate::Best: return "best";
    case GroupAggregate::MeanStd: return "mean_std";
    case GroupAggregate::Mean: return "mean";
    case GroupAggregate::Min: return "min";
    case GroupAggregate::Max: return "max";
  }
  return "best";
}

std::optional<GroupAggregate> parseGroupAggregate(const std::string& name) {
  for (GroupAggregate a : groupAggregates())
    if (groupAggregateName(a) == name) return a;
  return std::nullopt;
}

const std::vector<GroupAggregate>& groupAggregates() {
  static const std::vector<GroupAggregate> all = {GroupAggregate::Best, GroupAggregate::MeanStd, GroupAggregate::Mean,
                                                  GroupAggregate::Min, GroupAggregate::Max};
  return all;
}

} // namespace distillery
