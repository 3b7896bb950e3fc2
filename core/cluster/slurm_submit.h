#pragma once
// Handing a queued run to Slurm: its job folder and seed store
// (job_store.h), the batch script (sbatch_script.h), `sbatch --parsable`,
// and the job id recorded on the run. Torch-free, no Qt.
#include "core/cluster/slurm_options.h"
#include "core/config/run_config.h"

#include <cstdint>
#include <string>

namespace distillery {

class RunStore;

struct SlurmSubmission {
  int64_t job_id = 0;
  std::string job_dir;
  std::string script_path;
};

// The config the job's tasks run, one rank per task: distributed.world_size is
// set to options.tasks() when the config leaves it at 1, and must equal it
// otherwise. Throws ConfigError naming distributed.world_size, or
// --ntasks-per-node when this build cannot run that many ranks. The CLI's
// `submit --slurm` and the GUI's "Run on: Slurm" both go through here.
RunConfig configForSlurmTasks(RunConfig config, const SlurmOptions& options);

// Throws DistilleryError when sbatch is not on PATH (before any run is queued).
void requireSbatch();

// The job id in `sbatch --parsable`'s answer ("1234" or "1234;cluster"), 0 if none.
int64_t jobIdFromSbatch(const std::string& out);

// Submits the queued run run_id. When sbatch refuses, the run's row and its
// job folder are removed (nothing was submitted) and DistilleryError carries
// sbatch's stderr.
SlurmSubmission submitRunToSlurm(RunStore& store, int64_t run_id, const SlurmOptions& options, const std::string& exe);

} // namespace distillery
