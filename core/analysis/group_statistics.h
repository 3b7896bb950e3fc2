#pragma once
// What a group of runs (e.g. one method over several seeds) shows for a
// numeric column: its best, mean ± sample standard deviation, mean, min or
// max. Shared by the run table's group rows and anything else that
// aggregates runs, so the CLI could print the same figures.
#include <optional>
#include <string>
#include <vector>

namespace distillery {

enum class GroupAggregate { Best, MeanStd, Mean, Min, Max };

struct GroupStatistics {
  size_t count = 0;  // finite values taken
  double mean = 0.0;
  double std = 0.0;  // sample standard deviation (n - 1); 0 for a single value
  double min = 0.0;
  double max = 0.0;
};

// Over the finite values; nullopt when there are none.
std::optional<GroupStatistics> groupStatistics(const std::vector<double>& values);

// "best", "mean_std", "mean", "min", "max": the names kept in settings.
std::string groupAggregateName(GroupAggregate aggregate);
// nullopt for an unknown name.
std::optional<GroupAggregate> parseGroupAggregate(const std::string& name);
// All of them, in menu order.
const std::vector<GroupAggregate>& groupAggregates();

} // namespace distillery
