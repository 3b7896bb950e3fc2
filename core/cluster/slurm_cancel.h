#pragma once
// Cancelling a run that Slurm runs: scancel of its job. The ranks get
// SIGTERM, stop at the next step, checkpoint and end the run as cancelled
// (core/cluster/job_store.h imports that when the job is gone). Torch-free.
#include <cstdint>

namespace distillery {

// Throws DistilleryError with scancel's own words when it refuses, or when
// scancel is not on PATH.
void cancelSlurmJob(int64_t job_id);

} // namespace distillery
