#pragma once
#include "core/store/metric_point.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct RunProgress {
  int64_t run_id = 0;
  int64_t step = 0;        // of the whole run (a distill run's teacher steps, then its student's)
  int64_t total_steps = 0; // of the whole run
  int64_t phase_step = 0;  // within the phase alone
  int64_t phase_steps = 0;
  double epoch = 0.0;
  double fraction = 0.0; // 0..1, of the whole run
  double eta_s = -1.0;   // negative while unknown (the first few steps)
  std::string phase;     // "teacher", "distill", "train", "evaluate"
};

// Receives what a run produces. Called on the run's own thread; an
// implementation that feeds a GUI must hand the data over to the GUI thread.
class RunObserver {
public:
  virtual ~RunObserver() = default;
  // A run record was created during execution (e.g. the teacher a distill run trains first).
  virtual void onRunCreated(int64_t /*run_id*/, int64_t /*parent_run_id*/) {}
  virtual void onStarted(int64_t /*run_id*/) {}
  virtual void onProgress(const RunProgress& /*progress*/) {}
  // Points arrive in batches, already written to the store.
  virtual void onPoints(const std::vector<MetricPoint>& /*points*/) {}
  virtual void onLog(const LogEvent& /*event*/) {}
};

} // namespace distillery
