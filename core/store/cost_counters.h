#pragma once
// What a training loop has spent up to a step. One struct for image and
// language-model runs: every metric point, checkpoint and summary carries
// these counters, so any metric can be plotted against any of them.
#include "core/store/metric_point.h"

#include <cstdint>
#include <string>

namespace distillery {

struct CostCounters {
  int64_t step = 0;
  double epoch = 0.0;           // language models: training tokens seen / tokens in the corpus
  double samples = 0.0;         // training samples seen; predicted tokens for language models
  double flops = 0.0;           // student training (3x forward) plus teacher passes
  double teacher_queries = 0.0; // samples (or tokens) the teacher answered
  double money = 0.0;           // money spent on teacher answers, in the API's currency
  // Teacher forward passes a teacher-output cache made unnecessary; not
  // recorded in points or checkpoints (a resumed run recomputes it).
  double teacher_passes_saved = 0.0;
};

// A point of `metric` taken when the loop had spent `cost`, wall_s seconds in.
MetricPoint metricPointAt(const CostCounters& cost, double wall_s, const std::string& metric, double value);

} // namespace distillery
