#pragma once
// Buffers a run's points and log lines and writes them in batches, to the
// store and then to the observer, so recording stays off the training hot path.
#include "core/store/metric_point.h"
#include "core/store/run_observer.h"

#include <chrono>
#include <vector>

namespace distillery {

class RunStore;

class RunRecorder {
public:
  RunRecorder(RunStore* store, RunObserver* observer, int64_t run_id);
  ~RunRecorder(); // flushes

  void add(MetricPoint point); // run_id is filled in
  // Log lines are rare: each is written to the store at once, stamped with the
  // seconds since this recorder (the run) started, so they sort in one clock.
  void log(const std::string& level, const std::string& message);
  // Writes if the buffer is large or old enough; force writes regardless.
  void flush(bool force = false);
  int64_t runId() const { return run_id_; }
  // Off: metric points are dropped (log lines still go through). Used to
  // measure what recording costs, and for runs that need only a summary.
  void setRecordPoints(bool on) { record_points_ = on; }

private:
  RunStore* store_;
  RunObserver* observer_;
  int64_t run_id_;
  bool record_points_ = true;
  std::vector<MetricPoint> points_;
  std::chrono::steady_clock::time_point last_flush_;
  std::chrono::steady_clock::time_point start_;
};

} // namespace distillery
