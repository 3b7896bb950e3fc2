#pragma once
#include <cstdint>
#include <string>

namespace distillery {

// One recorded value. Every point carries the cost counters at the moment it
// was taken, so any metric can be plotted against steps, time, FLOPs,
// teacher queries or money without joins.
struct MetricPoint {
  int64_t run_id = 0;
  std::string metric;
  int64_t step = 0;
  double epoch = 0.0;
  double wall_s = 0.0;
  double samples = 0.0;         // training samples seen so far
  double flops = 0.0;           // estimated training FLOPs so far (teacher included)
  double teacher_queries = 0.0; // samples sent through the teacher so far
  double money = 0.0;           // money spent on teacher answers so far, in the API's currency
  double value = 0.0;
};

struct LogEvent {
  int64_t run_id = 0;
  double wall_s = 0.0;
  std::string level; // "info", "warning", "error"
  std::string message;
};

} // namespace distillery
