#include "core/serve/request_log_reader.h"

#include "core/base/errors.h"

#include <sqlite3.h>

namespace distillery {

RequestLogReader::RequestLogReader(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(path + ": cannot open the request log to read (" + why + ")");
  }
  // The server holds its write lock only for one request's rows.
  sqlite3_busy_timeout(db_, 2000);
}

RequestLogReader::~RequestLogReader() { sqlite3_close(db_); }

std::vector<LoggedTraffic> RequestLogReader::readNew() {
  // Bounded by the largest id seen at the start, so rows committed while the
  // statement runs are counted next time, not twice or never.
  sqlite3_stmt* s = nullptr;
  const char* sql =
      "WITH top AS (SELECT COALESCE(MAX(id), 0) AS id FROM requests) "
      "SELECT COALESCE(key, ''), status, COUNT(*), COALESCE(SUM(batch), 0), (SELECT id FROM top) "
      "FROM requests WHERE id > ?1 AND id <= (SELECT id FROM top) GROUP BY 1, 2 "
      "UNION ALL SELECT NULL, 0, 0, 0, (SELECT id FROM top)";
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_finalize(s);
    throw StoreError(path_ + ": cannot read the request log (" + why + ")");
  }
  sqlite3_bind_int64(s, 1, last_id_);
  std::vector<LoggedTraffic> out;
  int64_t top = last_id_;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    top = sqlite3_column_int64(s, 4);
    if (sqlite3_column_type(s, 0) == SQLITE_NULL) continue; // the row that carries the top id alone
    LoggedTraffic t;
    t.key = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    t.status = sqlite3_column_int(s, 1);
    t.requests = sqlite3_column_int64(s, 2);
    t.queries = sqlite3_column_int64(s, 3);
    out.push_back(std::move(t));
  }
  const std::string why = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) throw StoreError(path_ + ": cannot read the request log (" + why + ")");
  last_id_ = top;
  return out;
}

} // namespace distillery
