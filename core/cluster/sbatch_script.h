#pragma once
// The batch script of a run submitted to Slurm: one srun task per rank, the
// master on the allocation's first node, and on each task
// `distillery-cli run --run-id ID --job-dir DIR`, so every rank works on the
// same run (core/cluster/job_store.h says which store each rank writes).
// Torch-free, no Qt.
#include "core/cluster/slurm_options.h"

#include <string>

namespace distillery {

struct SbatchJob {
  std::string run_id;  // the run's id (a placeholder in a dry run, before the row exists)
  std::string name;    // the run's name, for the job's name
  std::string exe;     // distillery-cli, an absolute path the nodes share
  std::string job_dir; // absolute; the job's store, output and script live here
};

// The master's port, derived from the job id as the ranks derive it when
// MASTER_PORT is unset (core/distributed/rank_environment.cpp).
constexpr const char* kSlurmMasterPortExpr = "$((20000 + SLURM_JOB_ID % 20000))";

std::string sbatchScript(const SlurmOptions& options, const SbatchJob& job);

// A word single-quoted for bash.
std::string shellQuote(const std::string& word);

} // namespace distillery
