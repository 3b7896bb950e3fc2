#include "core/cluster/slurm_refresh.h"

#include "core/cluster/job_store.h"
#include "core/store/run_store.h"

namespace distillery {

bool hasSlurmJobOut(const RunRecord& r) {
  return r.slurm_job_id && (r.status == RunStatus::Queued || r.status == RunStatus::Running);
}

SlurmRefresh refreshSlurmRuns(RunStore& store, std::vector<RunRecord>& runs, std::ostream& log) {
  SlurmRefresh out;
  for (auto& r : runs) {
    if (!hasSlurmJobOut(r)) continue;
    const SlurmJobState state = querySlurmJob(r.slurm_job_id);
    if (!state.ended()) {
      out.active[r.id] = state;
      continue;
    }
    log << "run " << r.id << ": Slurm job " << r.slurm_job_id << " ended (" << (state.known() ? state.state : "gone")
        << "), " << settleEndedJob(store, r, state) << "\n";
    if (auto fresh = store.run(r.id)) r = *fresh;
    out.settled = true;
  }
  return out;
}

} // namespace distillery
