#include "core/export/series_decimation.h"

#include <algorithm>
#include <cmath>

namespace distillery {

XYSeries decimateMinMax(const XYSeries& s, double x_min, double x_max, int columns) {
  XYSeries out;
  if (s.empty() || columns <= 0) return out;
  if (!(x_max > x_min)) x_max = x_min; // a zero-width range still gets one column

  // The visible slice, widened by one point on each side.
  size_t lo = size_t(std::lower_bound(s.x.begin(), s.x.end(), x_min) - s.x.begin());
  size_t hi = size_t(std::upper_bound(s.x.begin(), s.x.end(), x_max) - s.x.begin());
  const size_t first = lo > 0 ? lo - 1 : 0;
  const size_t last = std::min(hi + 1, s.size()); // exclusive

  auto keep = [&](size_t i) {
    if (!std::isfinite(s.y[i])) return;
    out.x.push_back(s.x[i]);
    out.y.push_back(s.y[i]);
  };

  if (last - first <= size_t(2 * columns + 2)) {
    for (size_t i = first; i < last; ++i) keep(i);
    return out;
  }

  out.x.reserve(size_t(2 * columns + 2));
  out.y.reserve(size_t(2 * columns + 2));
  if (first < lo) keep(first);
  const double width = x_max > x_min ? (x_max - x_min) : 1.0;
  size_t i = lo;
  while (i < hi) {
    const int column = std::min(columns - 1, int(double(columns) * (s.x[i] - x_min) / width));
    size_t i_min = s.size(), i_max = s.size();
    size_t j = i;
    for (; j < hi; ++j) {
      const int c = std::min(columns - 1, int(double(columns) * (s.x[j] - x_min) / width));
      if (c != column) break;
      if (!std::isfinite(s.y[j])) continue;
      if (i_min == s.size() || s.y[j] < s.y[i_min]) i_min = j;
      if (i_max == s.size() || s.y[j] > s.y[i_max]) i_max = j;
    }
    if (i_min != s.size()) {
      // In time order, so the line goes through both extremes as the data did.
      keep(std::min(i_min, i_max));
      if (i_max != i_min) keep(std::max(i_min, i_max));
    }
    i = j;
  }
  if (hi < last) keep(hi);
  return out;
}

} // namespace distillery
