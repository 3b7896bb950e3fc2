#pragma once
// Whether a stopped run can resume, and why not: one answer for resumeRun
// (engine.h), the CLI's resume and check, and the GUI's Resume action, so the
// action is enabled exactly when resuming will start.
#include "core/store/run_store.h"

#include <optional>
#include <string>

namespace distillery {

// The teacher `run` trained as a run of its own (its config asks for a zoo
// teacher, image or LM, and the child it created still exists); nullopt when
// it has none (yet). Throws ConfigError when the run's config is unreadable.
std::optional<RunRecord> teacherChildRun(RunStore& store, const RunRecord& run);

// Empty when `run` can resume, else why not (naming the run). A cancelled or
// interrupted run continues from its checkpoint, or, having none, starts again
// from step 0. A failed run resumes only from a checkpoint: failing before
// one, it would fail the same way again (except with an API teacher, whose
// server may be back, and whose bought answers are cached). A run stopped while training its
// teacher child (no checkpoint of its own, the child unfinished) resumes when
// that child can; a finished child is reused. A run whose teacher is a stored
// run ({"run": ID}, or its child once past its first checkpoint) needs that
// run finished (a sweep's students, say, whose shared teacher was cancelled).
std::string resumeRefusal(RunStore& store, const RunRecord& run);
std::string resumeRefusal(RunStore& store, int64_t run_id);

} // namespace distillery
