#include "core/serve/request_log.h"

#include "core/base/errors.h"

#include <sqlite3.h>

#include <ctime>
#include <string>

namespace distillery {

namespace {

// A prepared statement that finalises itself.
struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

std::string isoTime(int64_t ms) {
  const std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, int(ms % 1000));
  return out;
}

// Version 1, created when absent; kUpgrades then takes it to the current one.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS requests(
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,          -- UTC, ISO 8601 with milliseconds
  time_ms INTEGER NOT NULL,    -- Unix time in milliseconds
  key TEXT,                    -- the API key's name; NULL without a valid key
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  peer TEXT,
  status INTEGER NOT NULL,
  batch INTEGER NOT NULL,      -- inputs classified (0 when refused)
  dtype TEXT,
  output_mode TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS requests_key ON requests(key, status);
CREATE TABLE IF NOT EXISTS inputs(
  request_id INTEGER NOT NULL REFERENCES requests(id),
  idx INTEGER NOT NULL,        -- position in the batch
  sha256 TEXT NOT NULL,        -- of the input's bytes as sent
  sketch_h INTEGER NOT NULL,
  sketch_w INTEGER NOT NULL,
  sketch BLOB NOT NULL,        -- float32 LE grey thumbnail, sketch_h x sketch_w (input_sketch.h)
  PRIMARY KEY(request_id, idx)
);
CREATE INDEX IF NOT EXISTS inputs_hash ON inputs(sha256);
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES('schema_version', '1');
INSERT OR IGNORE INTO meta VALUES('sketch', 'channel mean, area-averaged to at most 8x8, raw units, float32 LE');
)sql";

// kUpgrades[v - 1] takes a log from schema version v to v + 1, inside the
// opening transaction: a log is never left half upgraded.
constexpr const char* kUpgrades[] = {
    // 1 -> 2: idempotent requests (POST /v1/classify's Idempotency-Key).
    R"sql(
ALTER TABLE requests ADD COLUMN idempotency_key TEXT;   -- as sent; NULL when none came
ALTER TABLE requests ADD COLUMN replay_of INTEGER;      -- a replay: the id of the request answered again
CREATE INDEX IF NOT EXISTS requests_idempotency ON requests(key, idempotency_key);
UPDATE meta SET value = '2' WHERE name = 'schema_version';
)sql",
};
static_assert(sizeof kUpgrades / sizeof kUpgrades[0] == kRequestLogSchemaVersion - 1, "one upgrade per version step");

} // namespace

RequestLog::RequestLog(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(path + ": cannot open the request log (" + why + ")");
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("BEGIN IMMEDIATE");
    try {
      exec(kSchema);
      upgrade();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

RequestLog::~RequestLog() {
  if (db_) sqlite3_close(db_);
}

int RequestLog::schemaVersion() {
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE name = 'schema_version'", -1, &s.s, nullptr) != SQLITE_OK)
    fail("prepare");
  const std::string text = sqlite3_step(s.s) == SQLITE_ROW && sqlite3_column_text(s.s, 0)
                               ? reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0))
                               : "";
  try {
    size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size() && v >= 1) return v;
  } catch (const std::exception&) {
  }
  throw StoreError(path_ + ": request log: meta schema_version is \"" + text + "\", not a version number");
}

void RequestLog::upgrade() {
  int version = schemaVersion();
  if (version > kRequestLogSchemaVersion)
    throw StoreError(path_ + ": request log: schema_version " + std::to_string(version) +
                     " was written by a newer distillery (this one reads up to " +
                     std::to_string(kRequestLogSchemaVersion) + ")");
  for (; version < kRequestLogSchemaVersion; ++version) exec(kUpgrades[version - 1]);
}

void RequestLog::fail(const std::string& what) {
  throw StoreError(path_ + ": request log: " + what + " (" + sqlite3_errmsg(db_) + ")");
}

void RequestLog::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw StoreError(path_ + ": request log: " + why);
  }
}

int64_t RequestLog::append(const LoggedRequest& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  exec("BEGIN IMMEDIATE");
  try {
    Statement req;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO requests(time, time_ms, key, method, path, peer, status, batch, dtype, "
                           "output_mode, error, idempotency_key, replay_of) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &req.s, nullptr) != SQLITE_OK)
      fail("prepare");
    const std::string time = isoTime(r.time_ms);
    auto text = [&](int i, const std::string& v) {
      if (v.empty()) sqlite3_bind_null(req.s, i);
      else sqlite3_bind_text(req.s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    };
    text(1, time);
    sqlite3_bind_int64(req.s, 2, r.time_ms);
    text(3, r.key);
    text(4, r.method);
    text(5, r.path);
    text(6, r.peer);
    sqlite3_bind_int(req.s, 7, r.status);
    sqlite3_bind_int64(req.s, 8, r.batch);
    text(9, r.dtype);
    text(10, r.output_mode);
    text(11, r.error);
    text(12, r.idempotency_key);
    if (r.replay_of > 0) sqlite3_bind_int64(req.s, 13, r.replay_of);
    else sqlite3_bind_null(req.s, 13);
    if (sqlite3_step(req.s) != SQLITE_DONE) fail("insert request");
    const int64_t id = sqlite3_last_insert_rowid(db_);
    if (!r.inputs.empty()) {
      Statement in;
      if (sqlite3_prepare_v2(db_, "INSERT INTO inputs VALUES(?,?,?,?,?,?)", -1, &in.s, nullptr) != SQLITE_OK)
        fail("prepare");
      for (size_t i = 0; i < r.inputs.size(); ++i) {
        const auto& x = r.inputs[i];
        const std::string blob = x.sketch.bytes();
        sqlite3_reset(in.s);
        sqlite3_bind_int64(in.s, 1, id);
        sqlite3_bind_int64(in.s, 2, int64_t(i));
        sqlite3_bind_text(in.s, 3, x.sha256.data(), int(x.sha256.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(in.s, 4, x.sketch.height);
        sqlite3_bind_int64(in.s, 5, x.sketch.width);
        sqlite3_bind_blob(in.s, 6, blob.data(), int(blob.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(in.s) != SQLITE_DONE) fail("insert input");
      }
    }
    exec("COMMIT");
    return id;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::map<std::string, int64_t> RequestLog::spentByKey() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT key, SUM(batch) FROM requests WHERE status = 200 AND key IS NOT NULL GROUP BY key",
                         -1, &s.s, nullptr) != SQLITE_OK)
    fail("prepare");
  std::map<std::string, int64_t> out;
  while (sqlite3_step(s.s) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(s.s, 0))] = sqlite3_column_int64(s.s, 1);
  return out;
}

std::optional<IdempotentOriginal> RequestLog::findIdempotent(const std::string& key,
                                                             const std::string& idempotency_key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id FROM requests WHERE key = ?1 AND idempotency_key = ?2 AND status = 200 AND "
                         "replay_of IS NULL ORDER BY id LIMIT 1",
                         -1, &s.s, nullptr) != SQLITE_OK)
    fail("prepare");
  sqlite3_bind_text(s.s, 1, key.data(), int(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 2, idempotency_key.data(), int(idempotency_key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s.s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("find idempotency key");
  IdempotentOriginal out;
  out.id = sqlite3_column_int64(s.s, 0);
  Statement in;
  if (sqlite3_prepare_v2(db_, "SELECT sha256 FROM inputs WHERE request_id = ? ORDER BY idx", -1, &in.s, nullptr) !=
      SQLITE_OK)
    fail("prepare");
  sqlite3_bind_int64(in.s, 1, out.id);
  int step;
  while ((step = sqlite3_step(in.s)) == SQLITE_ROW)
    out.sha256.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(in.s, 0)));
  if (step != SQLITE_DONE) fail("read inputs");
  return out;
}

int64_t RequestLog::requestCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM requests", -1, &s.s, nullptr) != SQLITE_OK) fail("prepare");
  return sqlite3_step(s.s) == SQLITE_ROW ? sqlite3_column_int64(s.s, 0) : 0;
}

} // namespace distillery
