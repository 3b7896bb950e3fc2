#pragma once
// The accuracy/cost trade-off: which runs no other run beats on both counts.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace distillery {

struct CostAccuracyPoint {
  int64_t run_id = 0;
  double cost = 0;     // wall seconds or FLOPs; lower is better
  double accuracy = 0; // higher is better
};

// Indices into points of the Pareto-optimal ones, sorted by increasing cost.
// A point is on the front when no other point has cost <= and accuracy >=
// with at least one strictly better. Non-finite points are ignored.
std::vector<size_t> paretoFront(const std::vector<CostAccuracyPoint>& points);

} // namespace distillery
