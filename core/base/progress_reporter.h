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

  // Steps this many past the first report before an ETA is given: the first
  // steps carry the set-up (data, model, a teacher's outputs) and would
  // extrapolate to an absurd time.
  static constexpr int64_t kEtaAfterSteps = 5;

  // Reports a phase's step within the whole run's budget of steps (`done` of
  // `total`), and within the phase alone (`phase_done` of `phase_total`; the
  // same as the run's when omitted, for a run of one phase).
  void report(const std::string& phase, int64_t done, int64_t total, double epoch, int64_t phase_done = -1,
              int64_t phase_total = -1) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && phase == last_phase_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    last_phase_ = phase;
    if (first_done_ < 0) {
      first_done_ = done;
      first_ = now;
    }
    RunProgress p;
    p.run_id = run_id_;
    p.step = done;
    p.total_steps = total;
    p.phase_step = phase_done < 0 ? done : phase_done;
    p.phase_steps = phase_total < 0 ? total : phase_total;
    p.epoch = epoch;
    p.phase = phase;
    p.fraction = total > 0 ? double(done) / double(total) : 0.0;
    // The rate since the first report, which a resume starts at its checkpoint's step.
    const int64_t since = done - first_done_;
    const double elapsed = std::chrono::duration<double>(now - first_).count();
    p.eta_s = since >= kEtaAfterSteps ? elapsed * double(total - done) / double(since) : -1.0;
    observer_.onProgress(p);
  }

private:
  RunObserver& observer_;
  int64_t run_id_;
  int64_t first_done_ = -1;
  std::chrono::steady_clock::time_point first_{};
  std::chrono::steady_clock::time_point last_{};
  std::string last_phase_;
};

} // namespace distillery
