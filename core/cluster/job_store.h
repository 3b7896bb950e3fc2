#pragma once
// Where a run's store lives while Slurm runs it (docs/distributed.md, "On a
// Slurm cluster"). SQLite's WAL needs every process on one host, and the
// user's store may be open on the login node or a desktop. So the job never
// opens the user's store: submit writes seed.sqlite into the job folder (the
// run and its teacher run, rollback journal, never written again); rank 0
// copies it to store.sqlite in the job folder (a shared filesystem) and is
// its only writer, with a rollback journal; the other ranks copy it to
// node-local scratch and delete it at the end. When the job has ended,
// `distillery-cli runs`/`show` import store.sqlite back into the user's store.
// Torch-free, no Qt.
#include "core/cluster/slurm_job_state.h"

#include <cstdint>
#include <string>

namespace distillery {

class RunStore;
struct RunRecord;

std::string jobSeedPath(const std::string& job_dir);   // job_dir/seed.sqlite
std::string jobStorePath(const std::string& job_dir);  // job_dir/store.sqlite, rank 0's
std::string jobOutputPath(const std::string& job_dir, int64_t job_id); // job_dir/slurm-ID.out

// The folder of a run's job when --job-dir does not say: beside the user's
// store, slurm-jobs/run-ID (on a cluster the store is in a home folder that
// the nodes share).
std::string defaultJobDir(const std::string& store_path, int64_t run_id);

// Writes job_dir/seed.sqlite holding run_id and the finished run that teaches
// it, if any (the config's "teacher": {"run": ID}), with their artifacts.
void seedJobStore(RunStore& user_store, int64_t run_id, const std::string& job_dir);

// This process's rank in the job: RANK, else SLURM_PROCID, else 0.
int jobRank();

// The store this rank runs against, made from the seed when it is not there
// yet (rank 0, whose store survives the job: a requeued job resumes in it) or
// fresh (the other ranks, in $TMPDIR or /tmp). Throws StoreError naming the
// seed when it is missing.
std::string prepareRankStore(const std::string& job_dir, int64_t run_id, int rank);

// The job has ended (state says how): imports the job's store into the run's
// row, or, when the job never started the run, marks it failed (cancelled when
// the job was) naming the job's output file. Returns what it did, for the CLI.
std::string settleEndedJob(RunStore& user_store, const RunRecord& run, const SlurmJobState& state);

} // namespace distillery
