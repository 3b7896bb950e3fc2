#pragma once
// A teacher trained as a run of its own: the child run (parent_run_id = the
// distill run, which links it as teacher_run_id) that image distill runs
// (engine.cpp) and LM runs (lm_engine.cpp) create for a zoo teacher. Creating
// it, recording how its training ended, and, when the distill run starts again
// after stopping in its teacher phase, taking up the child it had: reused if
// it finished, resumed if it stopped (from its checkpoint, or from step 0).
// Also the check that a stored run may teach at all.
#include "core/config/run_config.h"
#include "core/store/checkpoint.h"
#include "core/store/run_observer.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"

#include <functional>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

// The record of run `id` when it can teach (it exists and finished); throws
// ConfigError("teacher.run", ...) naming the run otherwise.
RunRecord finishedTeacherRun(RunStore& store, int64_t id);

// Trains the child's model under `child` (continuing from `resume` when not
// null), stores its model artifact(s) and returns its summary. Throws
// RunCancelled when the stop token ended the training.
using TeacherTraining =
    std::function<nlohmann::json(int64_t child, RunRecorder& recorder, const TrainingCheckpoint* resume)>;

struct TeacherRun {
  int64_t run_id = 0;
  // It had finished before this run stopped: nothing was trained now; load
  // its model from the store.
  bool reused = false;
};

// Obtains the teacher of run `parent_id` as a child run configured by
// `teacher_config` (`what` describes the model in the parent's log): a new one,
// or the child it had (see above). The child ends finished, cancelled
// (RunCancelled rethrown), diverged (DistilleryError naming the child thrown:
// the parent has no teacher) or failed (the error rethrown).
TeacherRun trainTeacherRun(RunStore& store, RunObserver& observer, RunRecorder& parent_log, int64_t parent_id,
                           const RunConfig& teacher_config, const std::string& what, const TeacherTraining& train);

} // namespace distillery
