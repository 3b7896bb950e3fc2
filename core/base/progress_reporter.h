#pragma once
// Progress of one run to its observer: at most ten reports a second, except
// that a phase's first report and its last always go out.
#include "core/store/run_observer.h"

#include <chrono>
#include <string>

namespace distillery {

class ProgressReporter {
public:
  ProgressReporter(RunObserver& observer, int64_t run_id) : observer_(observer), run_id_(run_id) {}

  // Reports a phase's step within the whole run's budget of steps.
  void report(const std::string& phase, int64_t done, int64_t total, double epoch) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && phase == last_phase_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    last_phase_ = phase;
    RunProgress p;
    p.run_id = run_id_;
    p.step = done;
    p.total_steps = total;
    p.epoch = epoch;
    p.phase = phase;
    p.fraction = total > 0 ? double(done) / double(total) : 0.0;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    p.eta_s = done > 0 ? elapsed * double(total - done) / double(done) : -1.0;
    observer_.onProgress(p);
  }

private:
  RunObserver& observer_;
  int64_t run_id_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
  std::string last_phase_;
};

} // namespace distillery
