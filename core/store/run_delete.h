#pragma once
// Deleting runs as a researcher asks (the GUI's Delete): refused while any of
// them is queued or running, whoever runs it (this window's worker, a
// `distillery-cli launch` in a terminal, a Slurm job), because the process
// still writing the run fails on its next write and the training is lost.
// RunStore::deleteRun stays the raw primitive (a failed Slurm submit undoing
// the run it just created uses it).
#include "core/store/run_store.h"

#include <string>
#include <vector>

namespace distillery {

// Empty when every run of `ids` may be deleted, else why not: the queued or
// running ones by id and name, and what to do (cancel or stop them first).
// Reads the store, not a cached table.
std::string deleteRefusal(RunStore& store, const std::vector<int64_t>& ids);

// All or nothing: with any of `ids` queued or running, deletes none and throws
// StoreError with deleteRefusal's text; else deletes each with its points,
// logs and artifacts. Returns how many were deleted.
int deleteStoppedRuns(RunStore& store, const std::vector<int64_t>& ids);

} // namespace distillery
