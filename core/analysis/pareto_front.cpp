#include "core/analysis/pareto_front.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery {

std::vector<size_t> paretoFront(const std::vector<CostAccuracyPoint>& points) {
  std::vector<size_t> order;
  for (size_t i = 0; i < points.size(); ++i)
    if (std::isfinite(points[i].cost) && std::isfinite(points[i].accuracy)) order.push_back(i);
  // Cheapest first; among equal costs the most accurate first, so a sweep
  // keeping the best accuracy so far finds exactly the undominated points.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].cost != points[b].cost) return points[a].cost < points[b].cost;
    return points[a].accuracy > points[b].accuracy;
  });

  std::vector<size_t> front;
  double best = -std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    const CostAccuracyPoint& p = points[i];
    if (p.accuracy > best) {
      front.push_back(i);
      best = p.accuracy;
    } else if (!front.empty() && p.accuracy == points[front.back()].accuracy &&
               p.cost == points[front.back()].cost) {
      front.push_back(i); // an exact duplicate of a front point is not beaten either
    }
  }
  return front;
}

} // namespace distillery
