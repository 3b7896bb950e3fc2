#pragma once
// The run store: one SQLite file holding runs, their metric points, log
// events and model artifacts. One RunStore is one connection; open one per
// thread, on that thread. Sharing a store between processes safely (why the
// -wal and -shm files are kept, and what happens when another program deletes
// them): docs/architecture.md, "Sharing a store".
#include "core/store/metric_point.h"
#include "core/store/run_status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace distillery {

// Schema versions; each upgrade step moves one version forward.
enum class SchemaVersion : int {
  None = 0,
  Initial = 1, // runs, metric_points, log_events, artifacts, schema_version
  Sweeps = 2,  // sweeps table; runs.sweep_id
  Annotations = 3, // runs.tags_json, runs.notes, runs.starred
  Money = 4,       // metric_points.money
  Forensics = 5,   // forensic_results
  ClusterJobs = 6, // runs.slurm_job_id, runs.job_dir (issue 19: runs submitted to Slurm)
  RowsGeneration = 7, // runs.rows_generation (following a run without re-reading it)
  Latest = RowsGeneration,
};

struct RunRecord {
  int64_t id = 0;
  std::string name;
  std::string task;
  RunStatus status = RunStatus::Queued;
  std::string config_json;
  std::string created_at; // ISO-8601 UTC
  std::string started_at;
  std::string finished_at;
  std::string error;
  int64_t teacher_run_id = 0; // the run whose model taught this one (0: none)
  int64_t parent_run_id = 0;  // the distill run that created this teacher run (0: none)
  int64_t sweep_id = 0;       // the sweep this run belongs to (0: none)
  nlohmann::json summary = nlohmann::json::object(); // final metrics and sizes
  // The researcher's own annotations; never touched by the engine.
  std::vector<std::string> tags;
  std::string notes;
  bool starred = false;
  // Issue 19: a run submitted to Slurm (core/cluster/): its job and the folder
  // holding the job's own store; 0 and empty otherwise, and once imported the
  // job id stays as provenance.
  int64_t slurm_job_id = 0;
  std::string job_dir;
};

// How the store keeps its journal. WAL (the default) needs every process on
// one host; Delete (a rollback journal and POSIX locks only) is for the Slurm
// job's store on a shared filesystem (docs/distributed.md, "On a Slurm cluster").
enum class StoreJournal { Wal, Delete };

// Whether the run's loss became NaN or Inf: status diverged, or, in stores
// written before that status existed, failed with a "diverged" error.
inline bool endedDiverged(const RunRecord& run) {
  return run.status == RunStatus::Diverged ||
         (run.status == RunStatus::Failed && run.error.find("diverged") != std::string::npos);
}

// One forensic test's result (issue 18): which suspect against which
// reference, what it was computed from (runs, tests, seeds, null ids) and the
// statistic, p-value and null size, so a claim can be re-checked later.
struct ForensicResult {
  int64_t id = 0;
  std::string kind;      // e.g. "sac", "agreement", "fingerprint"
  std::string suspect;   // "run:12", a TorchScript path or an API URL
  std::string reference; // the teacher, in the same form
  std::string created_at; // ISO-8601 UTC
  nlohmann::json inputs = nlohmann::json::object();
  nlohmann::json result = nlohmann::json::object();
};

// Where a reader following a run stopped: the last row it read of a table
// (its rowid) and the run's rows generation when it read it. The default
// (generation -1) has read nothing.
struct RowCursor {
  int64_t rowid = 0;
  int64_t generation = -1;
};

// What pointsSince/logsSince read: the rows after the cursor, in the order
// they were written, and the cursor to pass next time. `restarted`: rows the
// reader already holds were deleted since its cursor (a resume dropped the
// points after its checkpoint's step, or a Slurm job's import replaced the
// run's rows); `rows` then holds all of the run's rows and the reader must
// replace what it holds with them rather than add them.
struct PointsSince {
  std::vector<MetricPoint> rows;
  RowCursor next;
  bool restarted = false;
};
struct LogsSince {
  std::vector<LogEvent> rows;
  RowCursor next;
  bool restarted = false;
};

class RunStore {
public:
  // path may be ":memory:". Creates or upgrades the schema, and marks runs
  // left "running" by a process that no longer exists as interrupted.
  explicit RunStore(const std::string& path, StoreJournal journal = StoreJournal::Wal);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  const std::string& path() const { return path_; }
  int schemaVersion() const;
  // SQLite's PRAGMA integrity_check: "ok", or the problems it lists, one per line.
  std::string integrityCheck();
  // How many runs this open found orphaned and marked interrupted.
  int recoveredInterrupted() const { return recovered_; }
  // Changes whenever another connection (another thread or process) commits
  // to the store; cheap enough to poll every second. SQLite's PRAGMA data_version.
  int64_t dataVersion();

  int64_t createRun(const std::string& name, const std::string& task,
                    const std::string& config_json, int64_t parent_run_id = 0);
  void setStatus(int64_t run_id, RunStatus status, const std::string& error = {});
  void setTeacher(int64_t run_id, int64_t teacher_run_id);
  void setSummary(int64_t run_id, const nlohmann::json& summary);
  void renameRun(int64_t run_id, const std::string& name);
  void deleteRun(int64_t run_id); // with its points, logs and artifacts
  // Tags are trimmed, deduplicated and kept in the order given; empty ones dropped.
  void setTags(int64_t run_id, const std::vector<std::string>& tags);
  void setNotes(int64_t run_id, const std::string& notes);
  void setStarred(int64_t run_id, bool starred);

  // Sweeps group runs started together from one sweep file.
  int64_t createSweep(const std::string& name, const std::string& spec_json);
  void setSweep(int64_t run_id, int64_t sweep_id);
  std::vector<std::pair<int64_t, std::string>> sweeps(); // (id, name), oldest first

  std::optional<RunRecord> run(int64_t run_id);
  std::vector<RunRecord> runs(); // newest first
  // The runs with a Slurm job out (a job id, queued or running), newest first:
  // what the GUI's Slurm poller reads every few seconds, instead of every run.
  std::vector<RunRecord> runsWithSlurmJobOut();

  // Written in one transaction.
  void appendPoints(const std::vector<MetricPoint>& points);
  void appendLogs(const std::vector<LogEvent>& events);
  std::vector<MetricPoint> points(int64_t run_id, const std::string& metric = {});
  std::vector<std::string> metricNames(int64_t run_id);
  int64_t pointCount(int64_t run_id);
  // Resuming from a checkpoint: drops the points recorded after its step
  // (step -1: all of them, for a run that starts again from step 0).
  void deletePointsAfter(int64_t run_id, int64_t step);
  std::vector<LogEvent> logs(int64_t run_id);

  // Following a run another connection writes (the GUI, for a run a
  // `distillery-cli launch` or an imported Slurm job writes), at a cost that
  // grows with what is new rather than with the run. Keyed on rowid, not on a
  // count: a resume deletes points, so a count can fall and then grow past
  // rows the reader never saw, and SQLite reuses the rowids of deleted rows
  // at the end of a table. So every deletion of a run's points or log lines
  // other than deleteRun (deletePointsAfter, importRunFrom) bumps the run's
  // rows generation in the same transaction, and a read whose cursor carries
  // another generation comes back `restarted` with all of the run's rows.
  // Rows and generation are read in one read transaction. A run that does not
  // exist (any more) reads as no rows, not restarted. Points come in rowid
  // order, which for each metric is step order (a run writes its steps in
  // order and a resume deletes before it writes again).
  PointsSince pointsSince(int64_t run_id, const RowCursor& after);
  LogsSince logsSince(int64_t run_id, const RowCursor& after);
  // How many metric point rows this connection has read (points() and
  // pointsSince()): for tests and measurements of what following costs.
  int64_t pointRowsRead() const { return pointRowsRead_; }

  void saveArtifact(int64_t run_id, const std::string& name, const std::string& bytes);
  std::optional<std::string> loadArtifact(int64_t run_id, const std::string& name);
  // Without reading its bytes (a checkpoint may be large; the GUI asks on every selection).
  bool hasArtifact(int64_t run_id, const std::string& name);

  // Issue 19: the run was handed to Slurm as job_id, its job store in job_dir.
  // The run stays queued here with no owner process (the job owns it), so
  // opening the store does not mark it interrupted.
  void setSlurmJob(int64_t run_id, int64_t job_id, const std::string& job_dir);
  // Copies runs with their ids, rows and artifacts (no points or logs) into
  // the empty store at other_path: seeding a job store with the run and its teacher.
  void exportRunsTo(const std::string& other_path, const std::vector<int64_t>& ids);
  // The job is over: the row of run_id takes the job store's status, times,
  // error and summary, and its points, logs and artifacts (the researcher's
  // name, tags and notes here stay); runs the job created under it (a teacher
  // trained on the way) are added under new ids. A run the job left queued or
  // running becomes interrupted with unfinished_error. Only a row still
  // unfinished here is imported over, so a second import changes nothing.
  // Returns the ids added.
  std::vector<int64_t> importRunFrom(const std::string& other_path, int64_t run_id, const std::string& unfinished_error);

  // Forensic results (issue 18); created_at is filled in. Returns the id.
  int64_t addForensicResult(const std::string& kind, const std::string& suspect, const std::string& reference,
                            const nlohmann::json& inputs, const nlohmann::json& result);
  std::vector<ForensicResult> forensicResults(); // oldest first

private:
  void openConnection();
  // Before each write: if another program deleted the -wal/-shm files this
  // process still has open, writing would go to unlinked files and be lost;
  // if the process lost its locks, the next CLI may delete them. Reopens.
  void reopenIfOrphaned();
  // BEGIN IMMEDIATE ... COMMIT around body, retried while the store is busy.
  template <class F>
  auto writeTransaction(F&& body) -> decltype(body());
  void exec(const char* sql);
  void migrate();
  void recoverOrphans();
  // Inside a write transaction that deleted rows of the run (see pointsSince).
  void bumpRowsGeneration(int64_t run_id);
  // pointsSince/logsSince: sql selects rowid first, with ?1 the run and ?2 the rowid to read after.
  template <class Row, class ReadRow>
  auto rowsSince(const char* sql, int64_t run_id, const RowCursor& after, ReadRow&& readRow);
  sqlite3_stmt* prepare(const char* sql);
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  std::string canonicalPath_; // absolute, symlinks resolved; empty for ":memory:"
  sqlite3* db_ = nullptr;
  StoreJournal journal_ = StoreJournal::Wal;
  bool lockCheckWorks_ = false; // /proc/locks showed this connection's lock when it opened
  int recovered_ = 0;
  int64_t pointRowsRead_ = 0;
};

} // namespace distillery
