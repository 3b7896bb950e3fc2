#include "core/api/answer_cache.h"

#include "core/base/errors.h"

#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace distillery {

namespace {

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS answers(
  server TEXT NOT NULL,   -- api_server_identity: the served model and its output pipeline
  input TEXT NOT NULL,    -- SHA-256 of the input's bytes as sent
  classes INTEGER NOT NULL,
  probs BLOB NOT NULL,    -- float32 LE, one per class
  bought_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY(server, input)
) WITHOUT ROWID;
)sql";

} // namespace

ApiAnswerCache::ApiAnswerCache(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  path_ = (std::filesystem::path(dir) / "api-answers.sqlite").string();
  if (ec) fail("cannot create the folder (" + ec.message() + ")");
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK)
    fail(db_ ? sqlite3_errmsg(db_) : "cannot open");
  sqlite3_busy_timeout(db_, 30000); // runs in parallel write the same file
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec(kSchema);
}

ApiAnswerCache::~ApiAnswerCache() { sqlite3_close(db_); }

void ApiAnswerCache::fail(const std::string& what) {
  throw StoreError(path_ + ": answer cache: " + what);
}

void ApiAnswerCache::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    fail(message);
  }
}

std::vector<bool> ApiAnswerCache::lookup(const std::string& server, const std::vector<std::string>& hashes,
                                         int64_t classes, std::vector<float>& probs) {
  std::vector<bool> found(hashes.size(), false);
  probs.assign(hashes.size() * size_t(classes), 0.0f);
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT classes, probs FROM answers WHERE server = ?1 AND input = ?2", -1, &st.s,
                         nullptr) != SQLITE_OK)
    fail(sqlite3_errmsg(db_));
  sqlite3_bind_text(st.s, 1, server.c_str(), int(server.size()), SQLITE_TRANSIENT);
  for (size_t i = 0; i < hashes.size(); ++i) {
    sqlite3_bind_text(st.s, 2, hashes[i].c_str(), int(hashes[i].size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.s);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st.s, 0) == classes &&
        sqlite3_column_bytes(st.s, 1) == int(classes * int64_t(sizeof(float)))) {
      std::memcpy(&probs[i * size_t(classes)], sqlite3_column_blob(st.s, 1), size_t(classes) * sizeof(float));
      found[i] = true;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      fail(sqlite3_errmsg(db_));
    }
    sqlite3_reset(st.s);
  }
  return found;
}

void ApiAnswerCache::store(const std::string& server, const std::vector<std::string>& hashes,
                           const std::vector<float>& probs, int64_t classes) {
  if (probs.size() != hashes.size() * size_t(classes)) fail("internal: answers and inputs differ in number");
  exec("BEGIN IMMEDIATE");
  try {
    Statement st;
    if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO answers(server, input, classes, probs) VALUES (?1, ?2, ?3, ?4)",
                           -1, &st.s, nullptr) != SQLITE_OK)
      fail(sqlite3_errmsg(db_));
    sqlite3_bind_text(st.s, 1, server.c_str(), int(server.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 3, classes);
    for (size_t i = 0; i < hashes.size(); ++i) {
      sqlite3_bind_text(st.s, 2, hashes[i].c_str(), int(hashes[i].size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(st.s, 4, &probs[i * size_t(classes)], int(classes * int64_t(sizeof(float))), SQLITE_TRANSIENT);
      if (sqlite3_step(st.s) != SQLITE_DONE) fail(sqlite3_errmsg(db_));
      sqlite3_reset(st.s);
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int64_t ApiAnswerCache::count(const std::string& server) {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM answers WHERE server = ?1", -1, &st.s, nullptr) != SQLITE_OK)
    fail(sqlite3_errmsg(db_));
  sqlite3_bind_text(st.s, 1, server.c_str(), int(server.size()), SQLITE_TRANSIENT);
  return sqlite3_step(st.s) == SQLITE_ROW ? sqlite3_column_int64(st.s, 0) : 0;
}

std::string ApiAnswerCache::defaultDir() {
  if (const char* d = std::getenv("DISTILLERY_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/distillery";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/distillery";
}

} // namespace distillery
