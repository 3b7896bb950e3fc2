#pragma once
// The engine: one blocking call that executes a run from its config.
// Progress, points and log lines go to the observer; a stop token is polled
// once per batch. LibTorch and standard exceptions are caught here, at the
// boundary, and become the run's error.
#include "core/config/run_config.h"
#include "core/store/run_observer.h"
#include "core/store/run_status.h"
#include "core/base/stop_token.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

class RunStore;

struct RunOutcome {
  // Interrupted: a data-parallel rank was lost (core/distributed/); resumable.
  enum class Kind { Success, Cancelled, Failed, Diverged, Interrupted };
  Kind kind = Kind::Failed;
  std::string message;
  int64_t run_id = 0;
  nlohmann::json summary = nlohmann::json::object();
  bool failed() const { return kind == Kind::Failed || kind == Kind::Diverged || kind == Kind::Interrupted; }
};

std::string toString(RunOutcome::Kind kind);
// The status a run with this outcome ends with in the store.
RunStatus storedStatus(RunOutcome::Kind kind);

// Creates the run's record (status queued) and returns its id.
int64_t queueRun(RunStore& store, const RunConfig& config);

// Executes a queued run to the end. The store receives status, points, logs,
// the summary and the trained model; a teacher trained on the way is recorded
// as its own run and linked.
RunOutcome executeRun(RunStore& store, int64_t run_id, const RunConfig& config,
                      RunObserver& observer, const StopToken& stop);

// Continues a cancelled, interrupted or failed run from its last checkpoint
// (the "checkpoint" artifact, see checkpoint.h): the stored config, weights,
// optimiser state, step and cost counters; metric points recorded after the
// checkpoint's step are dropped, so the curves continue from it. A distill
// run's teacher is the one it had. A run that stopped before its first
// checkpoint starts again from step 0 under the same id, config and seed, its
// points dropped and its log saying so; one stopped while training its
// teacher as a child run first reuses (finished) or resumes that child
// (teacher_run.h). Refuses (Failed outcome, store untouched) what
// resumeRefusal (resume_check.h) refuses.
RunOutcome resumeRun(RunStore& store, int64_t run_id, RunObserver& observer, const StopToken& stop);

} // namespace distillery
