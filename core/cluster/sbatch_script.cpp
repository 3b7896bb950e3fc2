#include "core/cluster/sbatch_script.h"

#include <cctype>
#include <sstream>

namespace distillery {

std::string shellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string sbatchScript(const SlurmOptions& o, const SbatchJob& job) {
  // A job name of letters, digits and dashes only: squeue shows it, and it
  // must not break the #SBATCH line.
  std::string name = "distillery-" + job.run_id;
  if (!job.name.empty()) {
    name += "-";
    for (char c : job.name.substr(0, 40)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  }
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Distillery run " << job.run_id << ", written by `distillery-cli submit --slurm`.\n"
    << "#SBATCH --job-name=" << name << "\n"
    << "#SBATCH --nodes=" << o.nodes << "\n"
    << "#SBATCH --ntasks-per-node=" << o.ntasks_per_node << "\n";
  if (o.gpus_per_task > 0) s << "#SBATCH --gpus-per-task=" << o.gpus_per_task << "\n";
  if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.time.empty()) s << "#SBATCH --time=" << o.time << "\n";
  if (!o.account.empty()) s << "#SBATCH --account=" << o.account << "\n";
  s << "#SBATCH --chdir=" << job.job_dir << "\n"
    << "#SBATCH --output=" << job.job_dir << "/slurm-%j.out\n"
    << "set -eu\n"
    << "# Rank 0 hosts the rendezvous (TCPStore) on the allocation's first node.\n"
    << "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
    << "export MASTER_ADDR\n"
    << "export MASTER_PORT=" << kSlurmMasterPortExpr << "\n"
    << "# One task per rank; each takes its rank from SLURM_PROCID. A rank that\n"
    << "# fails ends the others (--kill-on-bad-exit) rather than leaving them waiting.\n"
    << "srun --kill-on-bad-exit=1 " << shellQuote(job.exe) << " run --run-id " << job.run_id << " --job-dir "
    << shellQuote(job.job_dir) << "\n";
  return s.str();
}

} // namespace distillery
