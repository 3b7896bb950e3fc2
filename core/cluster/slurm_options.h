#pragma once
// What `distillery-cli submit --slurm` asks of Slurm: the allocation (nodes,
// tasks per node = ranks per node, GPUs per task) and where and how long it
// runs. Torch-free, no Qt.
#include <string>

namespace distillery {

struct SlurmOptions {
  int nodes = 1;
  int ntasks_per_node = 1; // one task per rank (per GPU on a GPU cluster)
  int gpus_per_task = 0;   // 0: ask for no GPUs
  std::string partition;   // empty: the cluster's default
  std::string time;        // empty: the partition's default; else [D-]HH:MM:SS
  std::string account;
  std::string job_dir;     // empty: beside the store (slurm-jobs/run-ID)
  bool dry_run = false;

  int tasks() const { return nodes * ntasks_per_node; }
};

// Throws ConfigError naming the option (--nodes, --ntasks-per-node,
// --gpus-per-task, --time, --partition, --account, --job-dir) when a value
// cannot go into an sbatch script.
void checkSlurmOptions(const SlurmOptions& options);

} // namespace distillery
