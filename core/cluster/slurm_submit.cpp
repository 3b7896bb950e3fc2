#include "core/cluster/slurm_submit.h"

#include "core/base/errors.h"
#include "core/cluster/job_store.h"
#include "core/cluster/process_runner.h"
#include "core/cluster/sbatch_script.h"
#include "core/store/run_store.h"

#include <cctype>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace distillery {

RunConfig configForSlurmTasks(RunConfig config, const SlurmOptions& options) {
  const int tasks = options.tasks();
  nlohmann::json j = config.toJson();
  const int world = j.contains("distributed") ? j["distributed"].value("world_size", 1) : 1;
  if (world == 1 && tasks > 1) {
    j["distributed"]["world_size"] = tasks;
    try {
      config = RunConfig::fromJson(j);
    } catch (const ConfigError& e) {
      if (e.field().rfind("distributed", 0) != 0) throw;
      throw ConfigError("--ntasks-per-node", std::to_string(tasks) +
                                                 " tasks make a data-parallel run of as many ranks, which this build "
                                                 "cannot do (" + e.what() + ")");
    }
  } else if (world != tasks) {
    throw ConfigError("distributed.world_size", "is " + std::to_string(world) + ", but --nodes " +
                                                    std::to_string(options.nodes) + " x --ntasks-per-node " +
                                                    std::to_string(options.ntasks_per_node) + " start " +
                                                    std::to_string(tasks) + " tasks (one rank each)");
  }
  return config;
}

void requireSbatch() {
  if (!programOnPath("sbatch"))
    throw DistilleryError("Slurm's sbatch is not on PATH: submit from a machine where Slurm's client commands "
                          "are installed (a login node), or use --dry-run to see the script");
}

int64_t jobIdFromSbatch(const std::string& out) {
  size_t i = 0;
  while (i < out.size() && std::isspace(static_cast<unsigned char>(out[i]))) ++i;
  int64_t id = 0;
  bool digits = false;
  for (; i < out.size() && std::isdigit(static_cast<unsigned char>(out[i])); ++i, digits = true) id = id * 10 + (out[i] - '0');
  return digits ? id : 0;
}

SlurmSubmission submitRunToSlurm(RunStore& store, int64_t run_id, const SlurmOptions& options, const std::string& exe) {
  SlurmSubmission sub;
  sub.job_dir = options.job_dir.empty() ? defaultJobDir(store.path(), run_id) : fs::absolute(options.job_dir).string();
  const auto run = store.run(run_id);
  if (!run) throw StoreError(store.path() + ": run " + std::to_string(run_id) + " does not exist");
  auto undo = [&] { // nothing was submitted: leave no row and no folder behind
    store.deleteRun(run_id);
    std::error_code ec;
    fs::remove_all(sub.job_dir, ec);
  };
  ProcessOutput r;
  try {
    SlurmOptions checked = options;
    checked.job_dir = sub.job_dir;
    checkSlurmOptions(checked); // the default folder too must fit an #SBATCH line
    seedJobStore(store, run_id, sub.job_dir);
    sub.script_path = (fs::path(sub.job_dir) / "job.sbatch").string();
    {
      std::ofstream script(sub.script_path);
      script << sbatchScript(options, {std::to_string(run_id), run->name, exe, sub.job_dir});
      if (!script.flush()) throw DistilleryError(sub.script_path + ": cannot write the batch script");
    }
    r = runProgram({"sbatch", "--parsable", sub.script_path}, 60.0);
  } catch (...) {
    undo();
    throw;
  }
  if (!r.found) {
    undo();
    requireSbatch();
  }
  sub.job_id = r.ok() ? jobIdFromSbatch(r.out) : 0;
  if (sub.job_id == 0) {
    undo();
    std::string why = r.timed_out ? "it did not answer within 60 s" : r.err.empty() ? r.out : r.err;
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    throw DistilleryError("sbatch refused the job: " + (why.empty() ? "exit code " + std::to_string(r.exit_code) : why));
  }
  store.setSlurmJob(run_id, sub.job_id, sub.job_dir);
  return sub;
}

} // namespace distillery
