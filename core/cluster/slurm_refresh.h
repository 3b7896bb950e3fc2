#pragma once
// Following the runs submitted to Slurm from the user's store: while a job is
// out, its state (squeue, sacct, scontrol); once it has ended, its store
// imported (job_store.h). `distillery-cli runs`, `show` and `cancel` call it
// on each command; the GUI calls it on a timer, off its GUI thread (the Slurm
// commands can take seconds). Torch-free, no Qt.
#include "core/cluster/slurm_job_state.h"

#include <cstdint>
#include <map>
#include <ostream>
#include <vector>

namespace distillery {

class RunStore;
struct RunRecord;

struct SlurmRefresh {
  std::map<int64_t, SlurmJobState> active; // run id -> its job's state, for the jobs still out
  bool settled = false;                    // a job was imported (an imported teacher is a new row)
};

// Looks at the runs in `runs` that have a job out (a Slurm job id, queued or
// running here): a job that has ended is imported, or its run marked failed,
// and its entry in `runs` re-read; a job still out has its state returned.
// One line per settled job goes to `log` ("run 3: Slurm job 12 ended (...), ...").
SlurmRefresh refreshSlurmRuns(RunStore& store, std::vector<RunRecord>& runs, std::ostream& log);

// Whether the run has a job out that refreshSlurmRuns would ask Slurm about.
bool hasSlurmJobOut(const RunRecord& run);

} // namespace distillery
