#include "core/store/run_store.h"

#include "core/base/errors.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

namespace distillery {

std::string toString(RunStatus status) {
  switch (status) {
  case RunStatus::Queued: return "queued";
  case RunStatus::Running: return "running";
  case RunStatus::Finished: return "finished";
  case RunStatus::Failed: return "failed";
  case RunStatus::Cancelled: return "cancelled";
  case RunStatus::Interrupted: return "interrupted";
  case RunStatus::Diverged: return "diverged";
  }
  return "failed";
}

std::optional<RunStatus> runStatusFromString(const std::string& text) {
  for (RunStatus s : {RunStatus::Queued, RunStatus::Running, RunStatus::Finished,
                      RunStatus::Failed, RunStatus::Cancelled, RunStatus::Interrupted, RunStatus::Diverged})
    if (toString(s) == text) return s;
  return std::nullopt;
}

namespace {

const char* const kInterruptedMessage =
    "interrupted: the process running it ended (crash or kill) before it finished";

const char* const kWalDeletedMessage =
    "another program deleted the store's write-ahead log (-wal/-shm files) while this Distillery process "
    "had it open; nothing was written, to keep the store intact. Restart Distillery (or close its other "
    "runs on this store) and try again";

// Thrown when another connection holds the lock; the retry loops catch it.
// It is a StoreError so that, should it ever escape, callers see the usual type.
class BusyError : public StoreError {
public:
  using StoreError::StoreError;
};

std::string nowIso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// Signal 0 only asks whether the pid exists. EPERM means it exists but
// belongs to someone else, so only ESRCH counts as gone. Non-positive pids
// would address process groups, so they are never passed to kill().
bool processAlive(int64_t pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  if (pid_t(pid) == getpid()) return true;
  if (kill(pid_t(pid), 0) == 0) return true;
  return errno != ESRCH;
}

// Finalizes on scope exit; binds and reads by 1-based / 0-based index like
// the C API, so the SQL next to it stays readable.
class Stmt {
public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, const std::string& path) : db_(db), stmt_(stmt), path_(path) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Stmt& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Stmt& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  // An empty string still binds a zero-length blob, not NULL, because
  // std::string::data() is never null.
  Stmt& bindBlob(int i, const std::string& v) {
    return check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT));
  }
  Stmt& bindNull(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  // 0 means "none" in RunRecord; the database keeps that as NULL.
  Stmt& bindIdOrNull(int i, int64_t v) { return v ? bind(i, v) : bindNull(i); }
  Stmt& bindTextOrNull(int i, const std::string& v) { return v.empty() ? bindNull(i) : bind(i, v); }

  // True while rows come back.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    raise(rc, "cannot run a query");
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool isNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
  // SQLite stores NaN as NULL; reading it back as NaN keeps divergence visible.
  double real(int c) const {
    return isNull(c) ? std::numeric_limits<double>::quiet_NaN() : sqlite3_column_double(stmt_, c);
  }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, size_t(sqlite3_column_bytes(stmt_, c))) : std::string();
  }
  std::string blob(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
    return p ? std::string(p, size_t(sqlite3_column_bytes(stmt_, c))) : std::string();
  }

  [[noreturn]] void raise(int rc, const std::string& what) const;

private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK) raise(rc, "cannot bind a value");
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const std::string& path_;
};

// One message format for every SQLite failure: path, what we tried, and
// SQLite's own words.
// Less than a megabyte left where the store lives.
bool diskNearlyFull(const std::string& path) {
  struct statvfs fs {};
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  if (::statvfs(dir.c_str(), &fs) != 0) return false;
  return double(fs.f_bavail) * double(fs.f_frsize) < 1024.0 * 1024.0;
}

// The process may not grow the store or its WAL file any further.
bool fileSizeLimitReached(const std::string& path) {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  const double margin = 64.0 * 1024.0; // a few pages short of the limit counts as reaching it
  for (const std::string& file : {path, path + "-wal"}) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && double(st.st_size) + margin >= double(limit.rlim_cur)) return true;
  }
  return false;
}

[[noreturn]] void raiseSqlite(sqlite3* db, const std::string& path, int rc, const std::string& what) {
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED: throw BusyError(path + ": " + what + " (" + detail + ")");
  case SQLITE_NOTADB: throw StoreError(path + ": not a Distillery store (" + detail + ")");
  case SQLITE_CORRUPT: throw StoreError(path + ": the store is damaged (" + detail + ")");
  case SQLITE_READONLY:
    throw StoreError(path + ": cannot write to the store (" + detail + ")");
  case SQLITE_FULL: throw StoreError(path + ": the disk is full (" + detail + ")");
  case SQLITE_IOERR: {
    // A failed write() comes back as an I/O error. SQLite's saved errno is
    // often overwritten by the rollback, so look at the disk and the limits too.
    const int err = db ? sqlite3_system_errno(db) : 0;
    const bool writing = rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC || rc == SQLITE_IOERR_TRUNCATE ||
                         rc == SQLITE_IOERR_SHMSIZE || err == ENOSPC || err == EDQUOT || err == EFBIG;
    if (writing) {
      const std::string kept = "; nothing stored before was lost (" + detail + ")";
      if (err == ENOSPC || err == EDQUOT || diskNearlyFull(path)) throw StoreError(path + ": the disk is full" + kept);
      if (err == EFBIG || fileSizeLimitReached(path))
        throw StoreError(path + ": the file size limit (ulimit -f) was reached" + kept);
      throw StoreError(path + ": cannot write to the store (the disk may be full or failing)" + kept);
    }
    throw StoreError(path + ": " + what + " (" + detail + (err ? std::string(": ") + std::strerror(err) : "") + ")");
  }
  default: throw StoreError(path + ": " + what + " (" + detail + ")");
  }
}

void Stmt::raise(int rc, const std::string& what) const { raiseSqlite(db_, path_, rc, what); }

// Runs body, retrying when another connection holds the lock past the busy
// timeout. The body must be safe to run again from the start.
template <class F>
auto withRetry(const std::string& path, F&& body) -> decltype(body()) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::minutes(2);
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    try {
      return body();
    } catch (const BusyError& e) {
      if (clock::now() > deadline)
        throw StoreError(path + ": the store stayed locked by another process for over two minutes (" +
                         std::string(e.what()) + ")");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

} // namespace

// ---------------------------------------------------------------------------

// Sharing a store. SQLite keeps its WAL locks as POSIX record locks, which
// belong to the process: closing *any* descriptor of the store's files (a file
// dialog sniffing store.sqlite-shm for an icon, say) silently drops all of
// them. Another process then believes it is the last user; on closing, SQLite
// would delete store.sqlite-wal and -shm while this process still writes into
// them, and those writes vanish. Three defences:
//  1. Nothing in Distillery opens the store's files except SQLite (the GUI's
//     file dialogs read no file content: widgets/file_dialogs.h).
//  2. Every connection sets SQLITE_FCNTL_PERSIST_WAL, so no Distillery process
//     ever deletes the -wal and -shm files, whatever locks it sees. The last
//     connection of a process truncates the WAL instead (a TRUNCATE checkpoint,
//     which waits for readers through locks taken per transaction, so it is
//     safe even when the long-lived locks were lost).
//  3. Before each write, a connection checks that no descriptor of this
//     process points at a deleted -wal or -shm (another program, e.g. the
//     sqlite3 shell, may still delete them). If one does and this is the
//     process's only connection to the store, it reopens without checkpointing
//     the orphaned files over the store, and the write goes to the live files.
//     SQLite shares one -shm mapping among all connections of a process, so a
//     reopen is not safe while others stay open; the write then fails with a
//     StoreError saying to restart, rather than being lost in silence. A sole
//     connection whose locks were lost (nothing deleted yet) also reopens, to
//     hold them again.
namespace {

std::mutex& registryMutex() {
  static std::mutex m;
  return m;
}

// Open RunStore connections of this process, by canonical store path.
std::map<std::string, int>& openConnections() {
  static std::map<std::string, int> counts;
  return counts;
}

int connectionsTo(const std::string& canonical) {
  std::lock_guard<std::mutex> lock(registryMutex());
  const auto it = openConnections().find(canonical);
  return it == openConnections().end() ? 0 : it->second;
}

void countConnection(const std::string& canonical, int delta) {
  if (canonical.empty()) return;
  std::lock_guard<std::mutex> lock(registryMutex());
  int& n = openConnections()[canonical];
  n += delta;
  if (n <= 0) openConnections().erase(canonical);
}

std::string canonicalPath(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return {};
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) ? std::string(resolved) : std::string();
}

// Whether a descriptor of this process still points at the store's -wal or
// -shm file after someone deleted it. Linux names such a descriptor's target
// "<path> (deleted)" in /proc/self/fd; elsewhere the check finds nothing.
bool walFilesDeleted(const std::string& canonical) {
  if (canonical.empty()) return false;
  DIR* fds = ::opendir("/proc/self/fd");
  if (!fds) return false;
  const std::string wal = canonical + "-wal (deleted)";
  const std::string shm = canonical + "-shm (deleted)";
  bool deleted = false;
  while (const dirent* entry = ::readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    char target[PATH_MAX + 16];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (wal == target || shm == target) {
      deleted = true;
      break;
    }
  }
  ::closedir(fds);
  return deleted;
}

// Whether this process holds no POSIX lock on the store file any more, though
// an open WAL-mode connection always holds a shared one: someone closed a
// descriptor of the file. Linux lists locks in /proc/locks as
// "1: POSIX  ADVISORY  READ <pid> <major:minor:inode> <start> <end>", device
// numbers in hex; elsewhere the check finds nothing.
bool locksLost(const std::string& canonical) {
  struct stat st {};
  if (canonical.empty() || ::stat(canonical.c_str(), &st) != 0) return false;
  std::FILE* locks = std::fopen("/proc/locks", "r");
  if (!locks) return false;
  char device[32];
  std::snprintf(device, sizeof device, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  const long pid = long(::getpid());
  bool held = false;
  char line[256];
  while (!held && std::fgets(line, sizeof line, locks)) {
    long lockPid = 0;
    char lockDevice[64];
    // The "->" of a blocked request shifts the fields; such a line is not ours to count.
    if (std::sscanf(line, "%*s %*s %*s %*s %ld %63s", &lockPid, lockDevice) == 2 && lockPid == pid &&
        std::strcmp(lockDevice, device) == 0)
      held = true;
  }
  std::fclose(locks);
  return !held;
}

} // namespace

RunStore::RunStore(const std::string& path, StoreJournal journal) : path_(path), journal_(journal) {
  openConnection();
  countConnection(canonicalPath_, +1);
  // The destructor will not run if the constructor throws: close here.
  try {
    migrate();
    recoverOrphans();
  } catch (...) {
    countConnection(canonicalPath_, -1);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

void RunStore::openConnection() {
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(path_ + ": cannot open the run store (" + detail + ")");
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 10000);
    // READWRITE silently falls back to read-only for write-protected files;
    // a store we cannot write would only fail later, mid-run.
    if (sqlite3_db_readonly(db_, "main") == 1)
      fail("the file is read-only; the run store needs write access");
    if (path_ != ":memory:" && !path_.empty()) {
      canonicalPath_ = canonicalPath(path_);
      // A connection opened now would share the other connections' mapping
      // of the deleted -shm file (see "Sharing a store" above).
      if (walFilesDeleted(canonicalPath_)) fail(std::string(kWalDeletedMessage));
      int persist = 1; // never delete -wal/-shm on close (see above)
      sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
      // The first real read: a non-database file fails here with NOTADB.
      // Switching to WAL needs a brief exclusive lock, hence the retry.
      withRetry(path_, [&] {
        Stmt s(db_, prepare(journal_ == StoreJournal::Wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE"),
               path_);
        s.run();
      });
      // The connection holds its shared lock now; where /proc/locks does not
      // show it (another OS, some overlay file systems) the check stays off.
      lockCheckWorks_ = !locksLost(canonicalPath_);
    }
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

RunStore::~RunStore() {
  if (!db_) { // a reopen failed
    countConnection(canonicalPath_, -1);
    return;
  }
  // The process's last connection folds the WAL into the store and empties
  // it, since PERSIST_WAL keeps the file; briefly, as others may be writing.
  if (walFilesDeleted(canonicalPath_)) {
    // Orphaned files: never checkpoint them over the live store.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  } else if (connectionsTo(canonicalPath_) == 1) {
    sqlite3_busy_timeout(db_, 50);
    sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  countConnection(canonicalPath_, -1);
  sqlite3_close_v2(db_);
}

void RunStore::reopenIfOrphaned() {
  if (walFilesDeleted(canonicalPath_)) {
    if (connectionsTo(canonicalPath_) > 1) fail(std::string(kWalDeletedMessage));
    // Closing must neither checkpoint the orphaned WAL over the live store
    // (others may have written since) nor delete the live -wal/-shm files.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  } else if (!lockCheckWorks_ || !locksLost(canonicalPath_) || connectionsTo(canonicalPath_) > 1) {
    // Lost locks with other connections open cannot be taken back (SQLite
    // believes it still holds them); PERSIST_WAL keeps the files meanwhile.
    return;
  }
  sqlite3_close_v2(db_);
  db_ = nullptr;
  openConnection();
}

int64_t RunStore::dataVersion() {
  reopenIfOrphaned(); // a watcher polling this heals the connection before the next edit
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("PRAGMA data_version"), path_);
    return s.step() ? s.int64(0) : int64_t(0);
  });
}

[[noreturn]] void RunStore::fail(const std::string& what) { throw StoreError(path_ + ": " + what); }

sqlite3_stmt* RunStore::prepare(const char* sql) {
  if (!db_) fail("the connection to the store was lost; restart Distillery");
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    raiseSqlite(db_, path_, rc, "cannot prepare a query");
  }
  return stmt;
}

void RunStore::exec(const char* sql) {
  if (!db_) fail("the connection to the store was lost; restart Distillery");
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) raiseSqlite(db_, path_, rc, std::string("cannot run \"") + sql + "\"");
}

// BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the
// busy handler instead of deadlocking when both try to upgrade a read lock.
template <class F>
auto RunStore::writeTransaction(F&& body) -> decltype(body()) {
  return withRetry(path_, [&]() -> decltype(body()) {
    reopenIfOrphaned();
    sqlite3* db = db_;
    const std::string& path = path_;
    const int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) raiseSqlite(db, path, rc, "cannot start a write transaction");
    try {
      if constexpr (std::is_void_v<decltype(body())>) {
        body();
        const int c = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        if (c != SQLITE_OK) raiseSqlite(db, path, c, "cannot commit");
      } else {
        auto result = body();
        const int c = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        if (c != SQLITE_OK) raiseSqlite(db, path, c, "cannot commit");
        return result;
      }
    } catch (...) {
      // A failed COMMIT may leave the transaction open; end it either way.
      if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  });
}

// ---------------------------------------------------------------------------
// Schema

int RunStore::schemaVersion() const {
  // prepare() touches no member state; it is non-const only by declaration.
  auto* self = const_cast<RunStore*>(this);
  return withRetry(path_, [&] {
    Stmt t(db_, self->prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"), path_);
    if (!t.step()) return 0;
    Stmt v(db_, self->prepare("SELECT MAX(version) FROM schema_version"), path_);
    return v.step() && !v.isNull(0) ? int(v.int64(0)) : 0;
  });
}

std::string RunStore::integrityCheck() {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("PRAGMA integrity_check"), path_);
    std::string report;
    while (s.step()) {
      if (!report.empty()) report += "\n";
      report += s.text(0);
    }
    return report;
  });
}

void RunStore::migrate() {
  const int latest = int(SchemaVersion::Latest);
  auto refuseNewer = [&](int v) {
    if (v > latest)
      fail("was written by a newer Distillery (schema " + std::to_string(v) + ", this build knows up to " +
           std::to_string(latest) + ")");
  };
  // Look first without a write lock: an up-to-date store needs none.
  int v = schemaVersion();
  refuseNewer(v);
  while (v < latest) {
    // Each step is its own transaction and re-reads the version inside it,
    // since another process may have upgraded the file meanwhile.
    v = writeTransaction([&] {
      int current = schemaVersion();
      refuseNewer(current);
      if (current >= latest) return current;
      if (current < int(SchemaVersion::Initial)) {
        // Our tables must not be mixed into somebody else's database.
        Stmt other(db_, prepare("SELECT name FROM sqlite_master WHERE type='table' "
                                "AND name NOT LIKE 'sqlite_%' LIMIT 1"),
                   path_);
        if (other.step())
          fail("not a Distillery store (a SQLite database with other tables, e.g. \"" + other.text(0) +
               "\", and no schema_version)");
        exec("CREATE TABLE runs("
             " id INTEGER PRIMARY KEY AUTOINCREMENT,"
             " name TEXT NOT NULL DEFAULT '',"
             " task TEXT,"
             " status TEXT NOT NULL,"
             " config_json TEXT,"
             " created_at TEXT,"
             " started_at TEXT,"
             " finished_at TEXT,"
             " error TEXT,"
             " teacher_run_id INTEGER,"
             " parent_run_id INTEGER,"
             " summary_json TEXT,"
             " owner_pid INTEGER)");
        exec("CREATE TABLE metric_points("
             " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
             " metric TEXT NOT NULL,"
             " step INTEGER,"
             " epoch REAL,"
             " wall_s REAL,"
             " samples REAL,"
             " flops REAL,"
             " teacher_queries REAL,"
             " value REAL)");
        exec("CREATE INDEX metric_points_run_metric_step ON metric_points(run_id, metric, step)");
        exec("CREATE TABLE log_events("
             " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
             " wall_s REAL,"
             " level TEXT,"
             " message TEXT,"
             " created_at TEXT)");
        exec("CREATE INDEX log_events_run ON log_events(run_id)");
        exec("CREATE TABLE artifacts("
             " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
             " name TEXT NOT NULL,"
             " data BLOB,"
             " PRIMARY KEY(run_id, name))");
        exec("CREATE TABLE schema_version(version INTEGER NOT NULL)");
        exec("INSERT INTO schema_version(version) VALUES (1)");
        current = int(SchemaVersion::Initial);
      }
      if (current < int(SchemaVersion::Sweeps)) {
        // Runs started together from one sweep file share a sweep id.
        exec("CREATE TABLE sweeps("
             " id INTEGER PRIMARY KEY AUTOINCREMENT,"
             " name TEXT,"
             " spec_json TEXT,"
             " created_at TEXT)");
        exec("ALTER TABLE runs ADD COLUMN sweep_id INTEGER");
        exec("UPDATE schema_version SET version = 2");
        current = int(SchemaVersion::Sweeps);
      }
      if (current < int(SchemaVersion::Annotations)) {
        // Tags as a JSON array, so a tag may hold commas.
        exec("ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]'");
        exec("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''");
        exec("ALTER TABLE runs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0");
        exec("UPDATE schema_version SET version = 3");
        current = int(SchemaVersion::Annotations);
      }
      if (current < int(SchemaVersion::Money)) {
        // What an API teacher's answers cost; points written before it cost nothing.
        exec("ALTER TABLE metric_points ADD COLUMN money REAL NOT NULL DEFAULT 0");
        exec("UPDATE schema_version SET version = 4");
        current = int(SchemaVersion::Money);
      }
      if (current < int(SchemaVersion::Forensics)) {
        // Issue 18: each forensic test's result with what it was computed
        // from, kept apart from runs since a suspect may be a file or an API.
        exec("CREATE TABLE forensic_results("
             " id INTEGER PRIMARY KEY,"
             " kind TEXT,"
             " suspect TEXT,"
             " reference TEXT,"
             " created_at TEXT,"
             " inputs_json TEXT,"
             " result_json TEXT)");
        exec("UPDATE schema_version SET version = 5");
        current = int(SchemaVersion::Forensics);
      }
      if (current < int(SchemaVersion::ClusterJobs)) {
        // Issue 19: a run handed to Slurm keeps its job id (provenance, scancel)
        // and the folder of the job's own store, imported when the job ends.
        exec("ALTER TABLE runs ADD COLUMN slurm_job_id INTEGER");
        exec("ALTER TABLE runs ADD COLUMN job_dir TEXT");
        exec("UPDATE schema_version SET version = 6");
        current = int(SchemaVersion::ClusterJobs);
      }
      if (current < int(SchemaVersion::RowsGeneration)) {
        // Bumped whenever a run's points or log lines are deleted (a resume,
        // an import), so a reader following it by rowid knows to start over.
        exec("ALTER TABLE runs ADD COLUMN rows_generation INTEGER NOT NULL DEFAULT 0");
        exec("UPDATE schema_version SET version = 7");
        current = int(SchemaVersion::RowsGeneration);
      }
      // Later steps go here: if (current < 8) { ...; UPDATE schema_version SET version=8; }
      return current;
    });
  }
}

void RunStore::recoverOrphans() {
  struct Candidate {
    int64_t id;
    std::string status;
    bool has_pid;
    int64_t pid;
  };
  std::vector<Candidate> orphans;
  withRetry(path_, [&] {
    orphans.clear();
    Stmt s(db_, prepare("SELECT id, status, owner_pid FROM runs WHERE status = 'running' "
                        "OR (status = 'queued' AND owner_pid IS NOT NULL)"),
           path_);
    while (s.step()) {
      const bool has_pid = !s.isNull(2);
      const int64_t pid = has_pid ? s.int64(2) : 0;
      if (!has_pid || !processAlive(pid)) orphans.push_back({s.int64(0), s.text(1), has_pid, pid});
    }
  });
  if (orphans.empty()) return;
  recovered_ = writeTransaction([&] {
    // Only if nobody touched the run since we looked: another process may
    // have picked it up in between.
    Stmt u(db_, prepare("UPDATE runs SET status = 'interrupted', error = ?1 "
                        "WHERE id = ?2 AND status = ?3 AND owner_pid IS ?4"),
           path_);
    int changed = 0;
    for (const Candidate& c : orphans) {
      u.reset();
      u.bind(1, std::string(kInterruptedMessage)).bind(2, c.id).bind(3, c.status);
      if (c.has_pid)
        u.bind(4, c.pid);
      else
        u.bindNull(4);
      u.run();
      changed += sqlite3_changes(db_);
    }
    return changed;
  });
}

// ---------------------------------------------------------------------------
// Runs

int64_t RunStore::createRun(const std::string& name, const std::string& task,
                            const std::string& config_json, int64_t parent_run_id) {
  return writeTransaction([&] {
    Stmt s(db_, prepare("INSERT INTO runs(name, task, status, config_json, created_at, parent_run_id,"
                        " summary_json, owner_pid) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, '{}', ?6)"),
           path_);
    s.bind(1, name).bind(2, task).bind(3, config_json).bind(4, nowIso8601());
    s.bindIdOrNull(5, parent_run_id).bind(6, int64_t(getpid()));
    s.run();
    return int64_t(sqlite3_last_insert_rowid(db_));
  });
}

void RunStore::setStatus(int64_t run_id, RunStatus status, const std::string& error) {
  // Running claims the run for this process (so recovery can tell whether
  // its owner still lives); terminal states stamp the end time.
  const char* sql = nullptr;
  if (status == RunStatus::Running)
    // The first start stays: a resume must not make the run look younger than it is.
    sql = "UPDATE runs SET status = ?1, error = ?2, started_at = COALESCE(started_at, ?3), finished_at = NULL, "
          "owner_pid = ?4 WHERE id = ?5";
  else if (isTerminal(status))
    sql = "UPDATE runs SET status = ?1, error = ?2, finished_at = ?3 WHERE id = ?5";
  else
    sql = "UPDATE runs SET status = ?1, error = ?2, finished_at = NULL, owner_pid = ?4 WHERE id = ?5";
  writeTransaction([&] {
    Stmt s(db_, prepare(sql), path_);
    s.bind(1, toString(status)).bindTextOrNull(2, error);
    if (status == RunStatus::Running || isTerminal(status)) s.bind(3, nowIso8601());
    if (!isTerminal(status)) s.bind(4, int64_t(getpid()));
    s.bind(5, run_id);
    s.run();
  });
}

void RunStore::setTeacher(int64_t run_id, int64_t teacher_run_id) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET teacher_run_id = ?1 WHERE id = ?2"), path_);
    s.bindIdOrNull(1, teacher_run_id).bind(2, run_id);
    s.run();
  });
}

void RunStore::setSummary(int64_t run_id, const nlohmann::json& summary) {
  // Replace invalid UTF-8 rather than throwing: a summary is never worth
  // losing a finished run over.
  const std::string text = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET summary_json = ?1 WHERE id = ?2"), path_);
    s.bind(1, text).bind(2, run_id);
    s.run();
  });
}

void RunStore::renameRun(int64_t run_id, const std::string& name) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET name = ?1 WHERE id = ?2"), path_);
    s.bind(1, name).bind(2, run_id);
    s.run();
  });
}

void RunStore::deleteRun(int64_t run_id) {
  // Explicit deletes as well as the cascades, so the result does not depend
  // on foreign_keys being on for whoever wrote the file.
  writeTransaction([&] {
    for (const char* sql : {"DELETE FROM metric_points WHERE run_id = ?1",
                            "DELETE FROM log_events WHERE run_id = ?1",
                            "DELETE FROM artifacts WHERE run_id = ?1",
                            "DELETE FROM runs WHERE id = ?1"}) {
      Stmt s(db_, prepare(sql), path_);
      s.bind(1, run_id);
      s.run();
    }
  });
}

void RunStore::setTags(int64_t run_id, const std::vector<std::string>& tags) {
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::string> seen;
  for (const std::string& raw : tags) {
    const auto first = raw.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    const auto last = raw.find_last_not_of(" \t\r\n");
    std::string tag = raw.substr(first, last - first + 1);
    if (std::find(seen.begin(), seen.end(), tag) != seen.end()) continue;
    seen.push_back(tag);
    list.push_back(tag);
  }
  const std::string text = list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET tags_json = ?1 WHERE id = ?2"), path_);
    s.bind(1, text).bind(2, run_id);
    s.run();
  });
}

void RunStore::setNotes(int64_t run_id, const std::string& notes) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET notes = ?1 WHERE id = ?2"), path_);
    s.bind(1, notes).bind(2, run_id);
    s.run();
  });
}

void RunStore::setStarred(int64_t run_id, bool starred) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET starred = ?1 WHERE id = ?2"), path_);
    s.bind(1, int64_t(starred ? 1 : 0)).bind(2, run_id);
    s.run();
  });
}

void RunStore::setSlurmJob(int64_t run_id, int64_t job_id, const std::string& job_dir) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET slurm_job_id = ?1, job_dir = ?2, owner_pid = NULL WHERE id = ?3"), path_);
    s.bind(1, job_id).bind(2, job_dir).bind(3, run_id);
    s.run();
  });
}

namespace {

// Another store attached to this connection as "other" while it lives
// (ATTACH and DETACH must happen outside a transaction).
class AttachedStore {
public:
  AttachedStore(sqlite3* db, const std::string& path, const std::string& other) : db_(db), path_(path) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, "ATTACH DATABASE ?1 AS other", -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, other.c_str(), -1, SQLITE_TRANSIENT);
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) raiseSqlite(db_, path_, rc, "cannot open " + other + " beside it");
  }
  ~AttachedStore() { sqlite3_exec(db_, "DETACH DATABASE other", nullptr, nullptr, nullptr); }
  AttachedStore(const AttachedStore&) = delete;
  AttachedStore& operator=(const AttachedStore&) = delete;

private:
  sqlite3* db_;
  const std::string& path_;
};

// The run columns both directions copy, in one order (owner_pid and sweep_id
// are this store's business and are not carried across).
const char* const kCopiedRunColumns =
    "name, task, status, config_json, created_at, started_at, finished_at, error, teacher_run_id, parent_run_id,"
    " summary_json, tags_json, notes, starred, slurm_job_id, job_dir";

} // namespace

void RunStore::exportRunsTo(const std::string& other_path, const std::vector<int64_t>& ids) {
  AttachedStore attached(db_, path_, other_path);
  writeTransaction([&] {
    const std::string cols = kCopiedRunColumns;
    Stmt row(db_, prepare(("INSERT INTO other.runs(id, " + cols + ") SELECT id, " + cols +
                           " FROM main.runs WHERE id = ?1").c_str()), path_);
    Stmt artifacts(db_, prepare("INSERT INTO other.artifacts(run_id, name, data)"
                                " SELECT run_id, name, data FROM main.artifacts WHERE run_id = ?1"), path_);
    for (int64_t id : ids) {
      row.reset();
      row.bind(1, id).run();
      if (sqlite3_changes(db_) != 1) fail("run " + std::to_string(id) + " does not exist");
      artifacts.reset();
      artifacts.bind(1, id).run();
    }
  });
}

std::vector<int64_t> RunStore::importRunFrom(const std::string& other_path, int64_t run_id,
                                             const std::string& unfinished_error) {
  AttachedStore attached(db_, path_, other_path);
  return writeTransaction([&] {
    {
      Stmt here(db_, prepare("SELECT status FROM main.runs WHERE id = ?1"), path_);
      here.bind(1, run_id);
      if (here.step() && here.text(0) != "queued" && here.text(0) != "running") return std::vector<int64_t>{};
    }
    const std::string cols = kCopiedRunColumns;
    auto copyRecords = [&](int64_t from, int64_t to) {
      for (const char* table : {"metric_points", "log_events", "artifacts"}) {
        Stmt del(db_, prepare(("DELETE FROM main." + std::string(table) + " WHERE run_id = ?1").c_str()), path_);
        del.bind(1, to).run();
      }
      bumpRowsGeneration(to); // a reader following the run starts over
      const char* copies[] = {
          "INSERT INTO main.metric_points(run_id, metric, step, epoch, wall_s, samples, flops, teacher_queries, money,"
          " value) SELECT ?2, metric, step, epoch, wall_s, samples, flops, teacher_queries, money, value"
          " FROM other.metric_points WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO main.log_events(run_id, wall_s, level, message, created_at)"
          " SELECT ?2, wall_s, level, message, created_at FROM other.log_events WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO main.artifacts(run_id, name, data) SELECT ?2, name, data FROM other.artifacts WHERE run_id = ?1"};
      for (const char* sql : copies) {
        Stmt c(db_, prepare(sql), path_);
        c.bind(1, from).bind(2, to).run();
      }
    };
    // A status the job left unfinished cannot go on: the job is over.
    auto settle = [&](int64_t id) {
      Stmt u(db_, prepare("UPDATE main.runs SET status = 'interrupted', error = ?1,"
                          " finished_at = COALESCE(finished_at, ?2) WHERE id = ?3"), path_);
      u.bind(1, unfinished_error).bind(2, nowIso8601()).bind(3, id).run();
    };

    // Runs the job created under this one (a teacher trained on the way), under new ids here.
    std::vector<std::pair<int64_t, int64_t>> added; // (id there, id here)
    {
      Stmt children(db_, prepare("SELECT id FROM other.runs WHERE parent_run_id = ?1 ORDER BY id"), path_);
      children.bind(1, run_id);
      std::vector<int64_t> ids;
      while (children.step()) ids.push_back(children.int64(0));
      for (int64_t child : ids) {
        Stmt ins(db_, prepare(("INSERT INTO main.runs(" + cols + ") SELECT " + cols +
                               " FROM other.runs WHERE id = ?1").c_str()), path_);
        ins.bind(1, child).run();
        const int64_t here = sqlite3_last_insert_rowid(db_);
        added.emplace_back(child, here);
        copyRecords(child, here);
        Stmt st(db_, prepare("SELECT status FROM main.runs WHERE id = ?1"), path_);
        st.bind(1, here);
        if (st.step() && (st.text(0) == "running" || st.text(0) == "queued")) settle(here);
      }
    }
    auto mapped = [&](int64_t id) {
      for (const auto& [there, here] : added)
        if (there == id) return here;
      return id;
    };

    // The run itself: a row the researcher deleted meanwhile comes back.
    {
      Stmt ins(db_, prepare(("INSERT OR IGNORE INTO main.runs(id, " + cols + ") SELECT id, " + cols +
                             " FROM other.runs WHERE id = ?1").c_str()), path_);
      ins.bind(1, run_id).run();
      Stmt row(db_, prepare("SELECT status, started_at, finished_at, error, teacher_run_id, summary_json"
                            " FROM other.runs WHERE id = ?1"), path_);
      row.bind(1, run_id);
      if (!row.step()) fail(other_path + " holds no run " + std::to_string(run_id));
      Stmt u(db_, prepare("UPDATE main.runs SET status = ?1, started_at = ?2, finished_at = ?3, error = ?4,"
                          " teacher_run_id = ?5, summary_json = ?6, owner_pid = NULL WHERE id = ?7"), path_);
      u.bind(1, row.text(0));
      row.isNull(1) ? u.bindNull(2) : u.bind(2, row.text(1));
      row.isNull(2) ? u.bindNull(3) : u.bind(3, row.text(2));
      row.isNull(3) ? u.bindNull(4) : u.bind(4, row.text(3));
      u.bindIdOrNull(5, row.isNull(4) ? 0 : mapped(row.int64(4)));
      u.bind(6, row.text(5)).bind(7, run_id).run();
      const bool unfinished = row.text(0) == "running" || row.text(0) == "queued";
      copyRecords(run_id, run_id);
      if (unfinished) settle(run_id);
    }
    std::vector<int64_t> out;
    for (const auto& a : added) out.push_back(a.second);
    return out;
  });
}

int64_t RunStore::createSweep(const std::string& name, const std::string& spec_json) {
  return writeTransaction([&] {
    Stmt s(db_, prepare("INSERT INTO sweeps(name, spec_json, created_at) VALUES (?1, ?2, ?3)"), path_);
    s.bind(1, name).bind(2, spec_json).bind(3, nowIso8601());
    s.run();
    return int64_t(sqlite3_last_insert_rowid(db_));
  });
}

void RunStore::setSweep(int64_t run_id, int64_t sweep_id) {
  writeTransaction([&] {
    Stmt s(db_, prepare("UPDATE runs SET sweep_id = ?1 WHERE id = ?2"), path_);
    s.bindIdOrNull(1, sweep_id).bind(2, run_id);
    s.run();
  });
}

std::vector<std::pair<int64_t, std::string>> RunStore::sweeps() {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("SELECT id, name FROM sweeps ORDER BY id"), path_);
    std::vector<std::pair<int64_t, std::string>> out;
    while (s.step()) out.emplace_back(s.int64(0), s.text(1));
    return out;
  });
}

namespace {

const char* const kRunColumns =
    "SELECT id, name, task, status, config_json, created_at, started_at, finished_at, error,"
    " teacher_run_id, parent_run_id, summary_json, sweep_id, tags_json, notes, starred, slurm_job_id, job_dir"
    " FROM runs ";

RunRecord readRun(const Stmt& s) {
  RunRecord r;
  r.id = s.int64(0);
  r.name = s.text(1);
  r.task = s.text(2);
  // A status this build does not know cannot be vouched for.
  r.status = runStatusFromString(s.text(3)).value_or(RunStatus::Interrupted);
  r.config_json = s.text(4);
  r.created_at = s.text(5);
  r.started_at = s.text(6);
  r.finished_at = s.text(7);
  r.error = s.text(8);
  r.teacher_run_id = s.isNull(9) ? 0 : s.int64(9);
  r.parent_run_id = s.isNull(10) ? 0 : s.int64(10);
  nlohmann::json summary = nlohmann::json::parse(s.text(11), nullptr, false);
  r.summary = summary.is_object() ? std::move(summary) : nlohmann::json::object();
  r.sweep_id = s.isNull(12) ? 0 : s.int64(12);
  const nlohmann::json tags = nlohmann::json::parse(s.text(13), nullptr, false);
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) r.tags.push_back(t.get<std::string>());
  r.notes = s.text(14);
  r.starred = !s.isNull(15) && s.int64(15) != 0;
  r.slurm_job_id = s.isNull(16) ? 0 : s.int64(16);
  r.job_dir = s.text(17);
  return r;
}

} // namespace

std::optional<RunRecord> RunStore::run(int64_t run_id) {
  return withRetry(path_, [&]() -> std::optional<RunRecord> {
    Stmt s(db_, prepare((std::string(kRunColumns) + "WHERE id = ?1").c_str()), path_);
    s.bind(1, run_id);
    if (!s.step()) return std::nullopt;
    return readRun(s);
  });
}

std::vector<RunRecord> RunStore::runs() {
  return withRetry(path_, [&] {
    // Ids grow with creation; created_at only has one-second resolution.
    Stmt s(db_, prepare((std::string(kRunColumns) + "ORDER BY id DESC").c_str()), path_);
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(readRun(s));
    return out;
  });
}

std::vector<RunRecord> RunStore::runsWithSlurmJobOut() {
  return withRetry(path_, [&] {
    // hasSlurmJobOut (core/cluster/slurm_refresh.h) in SQL: a job id, queued or running.
    Stmt s(db_, prepare((std::string(kRunColumns) + "WHERE slurm_job_id IS NOT NULL AND slurm_job_id != 0"
                                                   " AND status IN ('queued', 'running') ORDER BY id DESC").c_str()),
           path_);
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(readRun(s));
    return out;
  });
}

// ---------------------------------------------------------------------------
// Points and logs

void RunStore::appendPoints(const std::vector<MetricPoint>& points) {
  if (points.empty()) return;
  writeTransaction([&] {
    Stmt s(db_, prepare("INSERT INTO metric_points(run_id, metric, step, epoch, wall_s, samples, flops,"
                        " teacher_queries, money, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
           path_);
    for (const MetricPoint& p : points) {
      s.reset();
      s.bind(1, p.run_id).bind(2, p.metric).bind(3, p.step).bind(4, p.epoch).bind(5, p.wall_s);
      s.bind(6, p.samples).bind(7, p.flops).bind(8, p.teacher_queries).bind(9, p.money).bind(10, p.value);
      s.run();
    }
  });
}

void RunStore::appendLogs(const std::vector<LogEvent>& events) {
  if (events.empty()) return;
  const std::string now = nowIso8601();
  writeTransaction([&] {
    Stmt s(db_, prepare("INSERT INTO log_events(run_id, wall_s, level, message, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)"),
           path_);
    for (const LogEvent& e : events) {
      s.reset();
      s.bind(1, e.run_id).bind(2, e.wall_s).bind(3, e.level).bind(4, e.message).bind(5, now);
      s.run();
    }
  });
}

namespace {

// The columns both the full and the incremental reads select, from column `at` on.
constexpr const char* kPointColumns =
    "run_id, metric, step, epoch, wall_s, samples, flops, teacher_queries, money, value";
constexpr const char* kLogColumns = "run_id, wall_s, level, message";

MetricPoint pointAt(const Stmt& s, int at) {
  MetricPoint p;
  p.run_id = s.int64(at);
  p.metric = s.text(at + 1);
  p.step = s.int64(at + 2);
  p.epoch = s.real(at + 3);
  p.wall_s = s.real(at + 4);
  p.samples = s.real(at + 5);
  p.flops = s.real(at + 6);
  p.teacher_queries = s.real(at + 7);
  p.money = s.real(at + 8);
  p.value = s.real(at + 9);
  return p;
}

LogEvent logAt(const Stmt& s, int at) {
  LogEvent e;
  e.run_id = s.int64(at);
  e.wall_s = s.real(at + 1);
  e.level = s.text(at + 2);
  e.message = s.text(at + 3);
  return e;
}

} // namespace

std::vector<MetricPoint> RunStore::points(int64_t run_id, const std::string& metric) {
  return withRetry(path_, [&] {
    const std::string sql = std::string("SELECT ") + kPointColumns + " FROM metric_points WHERE run_id = ?1" +
                            (metric.empty() ? "" : " AND metric = ?2") + " ORDER BY step, rowid";
    Stmt s(db_, prepare(sql.c_str()), path_);
    s.bind(1, run_id);
    if (!metric.empty()) s.bind(2, metric);
    std::vector<MetricPoint> out;
    while (s.step()) out.push_back(pointAt(s, 0));
    pointRowsRead_ += int64_t(out.size());
    return out;
  });
}

std::vector<std::string> RunStore::metricNames(int64_t run_id) {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("SELECT DISTINCT metric FROM metric_points WHERE run_id = ?1 ORDER BY metric"),
           path_);
    s.bind(1, run_id);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  });
}

int64_t RunStore::pointCount(int64_t run_id) {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("SELECT COUNT(*) FROM metric_points WHERE run_id = ?1"), path_);
    s.bind(1, run_id);
    return s.step() ? s.int64(0) : int64_t(0);
  });
}

void RunStore::deletePointsAfter(int64_t run_id, int64_t step) {
  writeTransaction([&] {
    Stmt s(db_, prepare("DELETE FROM metric_points WHERE run_id = ?1 AND step > ?2"), path_);
    s.bind(1, run_id).bind(2, step);
    s.run();
    if (sqlite3_changes(db_) > 0) bumpRowsGeneration(run_id);
  });
}

void RunStore::bumpRowsGeneration(int64_t run_id) {
  Stmt s(db_, prepare("UPDATE runs SET rows_generation = rows_generation + 1 WHERE id = ?1"), path_);
  s.bind(1, run_id).run();
}

template <class Row, class ReadRow>
auto RunStore::rowsSince(const char* sql, int64_t run_id, const RowCursor& after, ReadRow&& readRow) {
  struct Result {
    std::vector<Row> rows;
    RowCursor next;
    bool restarted = false;
  };
  return withRetry(path_, [&] {
    // One read transaction: the generation and the rows come from one snapshot.
    const int rc = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) raiseSqlite(db_, path_, rc, "cannot start a read transaction");
    try {
      Result out;
      int64_t generation = -1;
      {
        Stmt g(db_, prepare("SELECT rows_generation FROM runs WHERE id = ?1"), path_);
        g.bind(1, run_id);
        if (g.step()) generation = g.int64(0);
      }
      if (generation < 0) { // no such run (any more)
        out.next = after;
      } else {
        out.restarted = after.generation >= 0 && after.generation != generation;
        const int64_t from = after.generation == generation ? after.rowid : 0;
        out.next = {from, generation};
        Stmt s(db_, prepare(sql), path_);
        s.bind(1, run_id).bind(2, from);
        while (s.step()) {
          out.next.rowid = s.int64(0);
          out.rows.push_back(readRow(s));
        }
      }
      const int c = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
      if (c != SQLITE_OK) raiseSqlite(db_, path_, c, "cannot end a read transaction");
      return out;
    } catch (...) {
      if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  });
}

PointsSince RunStore::pointsSince(int64_t run_id, const RowCursor& after) {
  const std::string sql = std::string("SELECT rowid, ") + kPointColumns +
                          " FROM metric_points WHERE run_id = ?1 AND rowid > ?2 ORDER BY rowid";
  auto read = rowsSince<MetricPoint>(sql.c_str(), run_id, after, [](const Stmt& s) { return pointAt(s, 1); });
  pointRowsRead_ += int64_t(read.rows.size());
  return {std::move(read.rows), read.next, read.restarted};
}

LogsSince RunStore::logsSince(int64_t run_id, const RowCursor& after) {
  const std::string sql = std::string("SELECT rowid, ") + kLogColumns +
                          " FROM log_events WHERE run_id = ?1 AND rowid > ?2 ORDER BY rowid";
  auto read = rowsSince<LogEvent>(sql.c_str(), run_id, after, [](const Stmt& s) { return logAt(s, 1); });
  return {std::move(read.rows), read.next, read.restarted};
}

std::vector<LogEvent> RunStore::logs(int64_t run_id) {
  return withRetry(path_, [&] {
    const std::string sql = std::string("SELECT ") + kLogColumns + " FROM log_events WHERE run_id = ?1 ORDER BY rowid";
    Stmt s(db_, prepare(sql.c_str()), path_);
    s.bind(1, run_id);
    std::vector<LogEvent> out;
    while (s.step()) out.push_back(logAt(s, 0));
    return out;
  });
}

// ---------------------------------------------------------------------------
// Artifacts

void RunStore::saveArtifact(int64_t run_id, const std::string& name, const std::string& bytes) {
  writeTransaction([&] {
    Stmt s(db_, prepare("INSERT OR REPLACE INTO artifacts(run_id, name, data) VALUES (?1, ?2, ?3)"),
           path_);
    s.bind(1, run_id).bind(2, name).bindBlob(3, bytes);
    s.run();
  });
}

std::optional<std::string> RunStore::loadArtifact(int64_t run_id, const std::string& name) {
  return withRetry(path_, [&]() -> std::optional<std::string> {
    Stmt s(db_, prepare("SELECT data FROM artifacts WHERE run_id = ?1 AND name = ?2"), path_);
    s.bind(1, run_id).bind(2, name);
    if (!s.step()) return std::nullopt;
    return s.blob(0);
  });
}

bool RunStore::hasArtifact(int64_t run_id, const std::string& name) {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("SELECT 1 FROM artifacts WHERE run_id = ?1 AND name = ?2"), path_);
    s.bind(1, run_id).bind(2, name);
    return s.step();
  });
}

// ---------------------------------------------------------------------------
// Forensic results

int64_t RunStore::addForensicResult(const std::string& kind, const std::string& suspect,
                                    const std::string& reference, const nlohmann::json& inputs,
                                    const nlohmann::json& result) {
  return writeTransaction([&] {
    Stmt s(db_, prepare("INSERT INTO forensic_results(kind, suspect, reference, created_at, inputs_json, result_json)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
           path_);
    s.bind(1, kind).bind(2, suspect).bind(3, reference).bind(4, nowIso8601()).bind(5, inputs.dump()).bind(6, result.dump());
    s.run();
    return int64_t(sqlite3_last_insert_rowid(db_));
  });
}

std::vector<ForensicResult> RunStore::forensicResults() {
  return withRetry(path_, [&] {
    Stmt s(db_, prepare("SELECT id, kind, suspect, reference, created_at, inputs_json, result_json"
                        " FROM forensic_results ORDER BY id"),
           path_);
    std::vector<ForensicResult> out;
    while (s.step()) {
      ForensicResult r;
      r.id = s.int64(0);
      r.kind = s.text(1);
      r.suspect = s.text(2);
      r.reference = s.text(3);
      r.created_at = s.text(4);
      // A damaged JSON cell reads as an empty object rather than throwing mid-listing.
      nlohmann::json in = nlohmann::json::parse(s.text(5), nullptr, false);
      r.inputs = in.is_discarded() ? nlohmann::json::object() : std::move(in);
      nlohmann::json res = nlohmann::json::parse(s.text(6), nullptr, false);
      r.result = res.is_discarded() ? nlohmann::json::object() : std::move(res);
      out.push_back(std::move(r));
    }
    return out;
  });
}

} // namespace distillery
