#include "core/export/chart_series.h"

#include <cmath>

namespace distillery {

std::string toString(XAxisKind kind) {
  switch (kind) {
  case XAxisKind::Step: return "step";
  case XAxisKind::Epoch: return "epoch";
  case XAxisKind::Wall: return "wall";
  case XAxisKind::Flops: return "flops";
  case XAxisKind::Queries: return "queries";
  case XAxisKind::Money: return "money";
  }
  return "step";
}

std::optional<XAxisKind> parseXAxisKind(const std::string& word) {
  for (XAxisKind k : allXAxisKinds())
    if (toString(k) == word) return k;
  return std::nullopt;
}

const std::vector<XAxisKind>& allXAxisKinds() {
  static const std::vector<XAxisKind> kinds = {XAxisKind::Step, XAxisKind::Epoch, XAxisKind::Wall,
                                               XAxisKind::Flops, XAxisKind::Queries, XAxisKind::Money};
  return kinds;
}

std::string axisTitle(XAxisKind kind) {
  switch (kind) {
  case XAxisKind::Step: return "Training step";
  case XAxisKind::Epoch: return "Epoch";
  case XAxisKind::Wall: return "Wall time (s)";
  case XAxisKind::Flops: return "Training compute (FLOPs)";
  case XAxisKind::Queries: return "Teacher queries (samples)";
  case XAxisKind::Money: return "Money spent on teacher answers";
  }
  return {};
}

double xValue(const MetricPoint& p, XAxisKind kind) {
  switch (kind) {
  case XAxisKind::Step: return double(p.step);
  case XAxisKind::Epoch: return p.epoch;
  case XAxisKind::Wall: return p.wall_s;
  case XAxisKind::Flops: return p.flops;
  case XAxisKind::Queries: return p.teacher_queries;
  case XAxisKind::Money: return p.money;
  }
  return double(p.step);
}

XYSeries seriesFromPoints(const std::vector<MetricPoint>& points, XAxisKind kind) {
  XYSeries s;
  s.x.reserve(points.size());
  s.y.reserve(points.size());
  for (const MetricPoint& p : points) {
    s.x.push_back(xValue(p, kind));
    s.y.push_back(p.value);
  }
  return s;
}

std::vector<double> nonFiniteXs(const XYSeries& series) {
  std::vector<double> out;
  for (size_t i = 0; i < series.size(); ++i)
    if (!std::isfinite(series.y[i])) out.push_back(series.x[i]);
  return out;
}

} // namespace distillery
