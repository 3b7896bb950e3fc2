#pragma once
// Executes a sweep: records the sweep, trains its shared teacher once (when
// the plan has one), queues every expanded run, then runs them on worker
// threads. Each worker opens its own RunStore connection on its own thread.
#include "core/training/engine.h"
#include "core/store/run_observer.h"
#include "core/base/stop_token.h"
#include "core/config/sweep_spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct SweepRunResult {
  int64_t run_id = 0;
  std::string name;
  RunOutcome outcome;
};

struct SweepOutcome {
  int64_t sweep_id = 0;
  int64_t teacher_run_id = 0; // the shared teacher run (0: none)
  RunOutcome teacher;         // its outcome, when there is one
  std::vector<SweepRunResult> runs; // the expanded runs, in expansion order

  bool allSucceeded() const;
  bool anyFailed() const;
  bool anyCancelled() const;
};

// Throws ConfigError for a sweep whose entries do not validate (before any
// record is written) and StoreError when the store cannot be opened. Runs that
// fail do not throw: they are reported in the outcome.
//
// parallel: how many runs execute at once (at least 1). The observer is called
// from the worker threads, one call at a time. A stop request keeps queued
// runs from starting (they are marked cancelled) and stops the running ones.
// A ":memory:" store cannot be shared between connections, so it runs
// everything on the calling thread.
SweepOutcome runSweep(const std::string& store_path, const SweepSpec& spec, int parallel, RunObserver& observer,
                      const StopToken& stop);

} // namespace distillery
