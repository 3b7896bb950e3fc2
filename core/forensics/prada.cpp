#include "core/forensics/prada.h"

#include "core/forensics/shapiro_wilk.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_set>

namespace distillery {

double sketchDistance(const InputSketch& a, const InputSketch& b) {
  if (a.height != b.height || a.width != b.width || a.cells.size() != b.cells.size())
    return std::numeric_limits<double>::infinity();
  double s = 0;
  for (size_t i = 0; i < a.cells.size(); ++i) {
    const double d = double(a.cells[i]) - double(b.cells[i]);
    s += d * d;
  }
  return std::sqrt(s);
}

PradaTrace pradaTrace(const std::vector<PradaQuery>& queries, const PradaOptions& options) {
  PradaTrace t;
  std::unordered_set<std::string> seen;
  std::vector<const InputSketch*> growing;
  const auto test = [&](size_t from) -> ShapiroWilk {
    std::vector<double> window(t.distances.begin() + std::ptrdiff_t(from), t.distances.end());
    try {
      return shapiroWilk(std::move(window));
    } catch (const std::invalid_argument&) {
      return {0.0, 0.0}; // all distances equal: as far from normal as it gets
    }
  };
  for (const auto& q : queries) {
    ++t.queries;
    if (!seen.insert(q.sha256).second) {
      ++t.exact_repeats;
      continue;
    }
    if (!growing.empty()) {
      double best = std::numeric_limits<double>::infinity();
      for (const InputSketch* g : growing) best = std::min(best, sketchDistance(q.sketch, *g));
      if (std::isfinite(best)) t.distances.push_back(best);
    }
    growing.push_back(&q.sketch);
    const auto n = int64_t(t.distances.size());
    if (n < std::max<int64_t>(3, options.min_distances)) continue;
    const size_t from = size_t(std::max<int64_t>(0, n - options.max_distances));
    const ShapiroWilk sw = test(from);
    if (t.min_w < 0 || sw.w < t.min_w) t.min_w = sw.w;
    if (t.flagged_after == 0 && sw.w < options.delta) t.flagged_after = t.queries;
    t.w = sw.w;
    t.p = sw.p;
  }
  t.distinct = int64_t(seen.size());
  return t;
}

} // namespace distillery
