#include "core/forensics/prada.h"

#include "core/forensics/shapiro_wilk.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

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

double PradaStream::add(const PradaQuery& q) {
  PradaTrace& t = trace_;
  ++t.queries;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!seen_.insert(q.sha256).second) {
    ++t.exact_repeats;
    return t.w < 0 ? nan : t.w;
  }
  t.distinct = int64_t(seen_.size());
  if (!growing_.empty()) {
    double best = std::numeric_limits<double>::infinity();
    for (const InputSketch& g : growing_) best = std::min(best, sketchDistance(q.sketch, g));
    if (std::isfinite(best)) t.distances.push_back(best);
  }
  growing_.push_back(q.sketch);
  const auto n = int64_t(t.distances.size());
  if (n < std::max<int64_t>(3, options_.min_distances)) return t.w < 0 ? nan : t.w;
  const auto from = std::ptrdiff_t(std::max<int64_t>(0, n - options_.max_distances));
  ShapiroWilk sw;
  try {
    sw = shapiroWilk(std::vector<double>(t.distances.begin() + from, t.distances.end()));
  } catch (const std::invalid_argument&) {
    sw = {0.0, 0.0}; // all distances equal: as far from normal as it gets
  }
  if (t.min_w < 0 || sw.w < t.min_w) t.min_w = sw.w;
  if (t.flagged_after == 0 && sw.w < options_.delta) t.flagged_after = t.queries;
  t.w = sw.w;
  t.p = sw.p;
  return t.w;
}

PradaTrace pradaTrace(const std::vector<PradaQuery>& queries, const PradaOptions& options) {
  PradaStream stream(options);
  for (const auto& q : queries) stream.add(q);
  return stream.trace();
}

} // namespace distillery
