#include "core/cluster/job_store.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace distillery {

std::string jobSeedPath(const std::string& job_dir) { return (fs::path(job_dir) / "seed.sqlite").string(); }
std::string jobStorePath(const std::string& job_dir) { return (fs::path(job_dir) / "store.sqlite").string(); }
std::string jobOutputPath(const std::string& job_dir, int64_t job_id) {
  return (fs::path(job_dir) / ("slurm-" + std::to_string(job_id) + ".out")).string();
}

std::string defaultJobDir(const std::string& store_path, int64_t run_id) {
  const fs::path store = fs::absolute(store_path);
  return (store.parent_path() / "slurm-jobs" / ("run-" + std::to_string(run_id))).string();
}

void seedJobStore(RunStore& user_store, int64_t run_id, const std::string& job_dir) {
  const auto run = user_store.run(run_id);
  if (!run) throw StoreError(user_store.path() + ": run " + std::to_string(run_id) + " does not exist");
  std::vector<int64_t> ids = {run_id};
  // A finished teacher run is read by every rank: it travels in the seed.
  const auto config = nlohmann::json::parse(run->config_json, nullptr, false);
  if (config.is_object() && config.contains("teacher") && config["teacher"].is_object() &&
      config["teacher"].contains("run") && config["teacher"]["run"].is_number_integer())
    ids.push_back(config["teacher"]["run"].get<int64_t>());
  fs::create_directories(job_dir);
  const std::string seed = jobSeedPath(job_dir);
  fs::remove(seed);
  { RunStore create(seed, StoreJournal::Delete); } // the schema, closed again
  user_store.exportRunsTo(seed, ids);
}

int jobRank() {
  for (const char* name : {"RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  return 0;
}

std::string prepareRankStore(const std::string& job_dir, int64_t run_id, int rank) {
  const std::string seed = jobSeedPath(job_dir);
  auto copyFrom = [&](const std::string& to) {
    if (!fs::exists(seed))
      throw StoreError(seed + ": the job's seed store is missing (was the job folder moved or cleaned?)");
    // A plain file copy: no SQLite lock is taken on the shared filesystem.
    const std::string part = to + ".part";
    fs::copy_file(seed, part, fs::copy_options::overwrite_existing);
    fs::rename(part, to);
  };
  if (rank == 0) {
    const std::string store = jobStorePath(job_dir);
    if (!fs::exists(store)) copyFrom(store);
    return store;
  }
  const char* tmp = std::getenv("TMPDIR");
  const char* job = std::getenv("SLURM_JOB_ID");
  const fs::path scratch = fs::path(tmp && *tmp ? tmp : "/tmp") /
                           ("distillery-run" + std::to_string(run_id) + "-job" + (job ? job : std::to_string(getpid())) +
                            "-rank" + std::to_string(rank) + ".sqlite");
  copyFrom(scratch.string());
  return scratch.string();
}

namespace {

// The last lines of the job's output, where Slurm and the ranks said why.
std::string outputTail(const std::string& path, size_t lines = 5) {
  std::ifstream in(path);
  if (!in) return {};
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += (out.empty() ? "" : " | ") + l;
  return out;
}

} // namespace

std::string settleEndedJob(RunStore& user_store, const RunRecord& run, const SlurmJobState& state) {
  const std::string job = "Slurm job " + std::to_string(run.slurm_job_id);
  const std::string how = state.known() ? state.state : "no longer known to Slurm";
  const std::string output = jobOutputPath(run.job_dir, run.slurm_job_id);
  const std::string store = jobStorePath(run.job_dir);
  if (fs::exists(store)) {
    const auto added = user_store.importRunFrom(
        store, run.id,
        "interrupted: " + job + " ended (" + how + ") before the run finished; its checkpoint stays in " + store +
            "; output: " + output);
    std::string what = "imported from " + store;
    for (int64_t id : added) what += "; its teacher run is now run " + std::to_string(id);
    return what;
  }
  // The job ended without starting the run (cancelled while pending, refused
  // by the node, the program missing there).
  if (state.state == "CANCELLED") {
    user_store.setStatus(run.id, RunStatus::Cancelled, job + " was cancelled before the run started");
    return "cancelled before it started";
  }
  std::string error = job + " ended (" + how + ") before the run started; output: " + output;
  const std::string tail = outputTail(output);
  if (!tail.empty()) error += ": " + tail;
  user_store.setStatus(run.id, RunStatus::Failed, error);
  return "failed: " + error;
}

} // namespace distillery
