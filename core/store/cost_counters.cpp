#include "core/store/cost_counters.h"

namespace distillery {

MetricPoint metricPointAt(const CostCounters& cost, double wall_s, const std::string& metric, double value) {
  MetricPoint p;
  p.metric = metric;
  p.step = cost.step;
  p.epoch = cost.epoch;
  p.wall_s = wall_s;
  p.samples = cost.samples;
  p.flops = cost.flops;
  p.teacher_queries = cost.teacher_queries;
  p.money = cost.money;
  p.value = value;
  return p;
}

} // namespace distillery
