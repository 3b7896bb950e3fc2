#pragma once
// Where a Slurm job stands: squeue while it is queued or running; after that
// sacct where the cluster keeps accounting, else `scontrol show job` (which
// remembers a finished job for MinJobAge, 300 s by default). Torch-free, no Qt.
#include <cstdint>
#include <string>

namespace distillery {

struct SlurmJobState {
  std::string state;  // Slurm's word: PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT, ...; empty: unknown
  std::string source; // squeue, sacct or scontrol; empty when none knew the job
  std::string detail; // why it is unknown (e.g. "squeue is not on PATH")

  bool known() const { return !state.empty(); }
  // The job will not run any more: a final state, or no command knows it any longer.
  bool ended() const;
  // What the run table shows meanwhile: "queued" while PENDING, else "running".
  std::string runStatusWord() const;
};

SlurmJobState querySlurmJob(int64_t job_id);

// The parsers, apart so that tests can feed them Slurm's text.
// `squeue -h -o %T`, `sacct -n -X -P -o State` ("CANCELLED by 0" -> CANCELLED)
// and `scontrol show job` (its JobState= field); empty when the text has none.
std::string stateFromSqueue(const std::string& out);
std::string stateFromSacct(const std::string& out);
std::string stateFromScontrol(const std::string& out);

} // namespace distillery
