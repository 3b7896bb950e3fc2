#include "core/cluster/slurm_cancel.h"

#include "core/base/errors.h"
#include "core/cluster/process_runner.h"

#include <string>

namespace distillery {

void cancelSlurmJob(int64_t job_id) {
  const ProcessOutput r = runProgram({"scancel", std::to_string(job_id)});
  if (!r.found) throw DistilleryError("Slurm's scancel is not on PATH; cancel job " + std::to_string(job_id) + " where Slurm is installed");
  if (!r.ok())
    throw DistilleryError("scancel " + std::to_string(job_id) + " failed: " +
                          (r.timed_out ? std::string("it did not answer") : r.err.empty() ? r.out : r.err));
}

} // namespace distillery
