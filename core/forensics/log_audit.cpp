#include "core/forensics/log_audit.h"

#include "core/base/errors.h"

#include <sqlite3.h>

#include <cstring>
#include <filesystem>

namespace distillery {

namespace {

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

} // namespace

std::map<std::string, std::vector<PradaQuery>> readLoggedQueries(const std::string& path,
                                                                 std::map<std::string, int64_t>* requests) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw StoreError(path + ": no such request log (the serve config's \"log\" file)");
  Db db;
  // Read-only: the server may still be writing it (WAL lets both go on).
  if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw StoreError(path + ": cannot open the request log (" +
                     std::string(db.db ? sqlite3_errmsg(db.db) : "out of memory") + ")");
  sqlite3_busy_timeout(db.db, 5000);
  const char* sql =
      "SELECT r.id, r.key, i.sha256, i.sketch_h, i.sketch_w, i.sketch FROM requests r "
      "JOIN inputs i ON i.request_id = r.id WHERE r.status = 200 AND r.key IS NOT NULL ORDER BY r.id, i.idx";
  Statement s;
  if (sqlite3_prepare_v2(db.db, sql, -1, &s.s, nullptr) != SQLITE_OK)
    throw StoreError(path + ": not a request log of distillery-cli serve (" + sqlite3_errmsg(db.db) + ")");
  std::map<std::string, std::vector<PradaQuery>> out;
  int64_t last_request = -1;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(s.s, 0);
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 1));
    if (requests && id != last_request) ++(*requests)[key];
    last_request = id;
    PradaQuery q;
    if (const auto* h = sqlite3_column_text(s.s, 2)) q.sha256 = reinterpret_cast<const char*>(h);
    q.sketch.height = sqlite3_column_int64(s.s, 3);
    q.sketch.width = sqlite3_column_int64(s.s, 4);
    const int bytes = sqlite3_column_bytes(s.s, 5);
    if (q.sketch.height < 1 || q.sketch.width < 1 || bytes != int(q.sketch.height * q.sketch.width * 4))
      throw StoreError(path + ": request " + std::to_string(id) + ": a sketch of " + std::to_string(bytes) +
                       " bytes is not " + std::to_string(q.sketch.height) + "x" + std::to_string(q.sketch.width) +
                       " float32 values");
    q.sketch.cells.resize(size_t(q.sketch.height * q.sketch.width));
    // float32 little-endian, as written (input_sketch.h); this machine is little-endian too.
    std::memcpy(q.sketch.cells.data(), sqlite3_column_blob(s.s, 5), size_t(bytes));
    out[key].push_back(std::move(q));
  }
  if (rc != SQLITE_DONE) throw StoreError(path + ": cannot read the request log (" + sqlite3_errmsg(db.db) + ")");
  return out;
}

std::vector<KeyAudit> auditRequestLog(const std::string& path, const ShiftReference* reference,
                                      const LogAuditOptions& options) {
  std::map<std::string, int64_t> requests;
  const auto queries = readLoggedQueries(path, &requests);
  std::vector<KeyAudit> out;
  for (const auto& [key, qs] : queries) {
    KeyAudit a;
    a.key = key;
    a.requests = requests[key];
    a.prada = pradaTrace(qs, options.prada);
    a.prada_flag = a.prada.flagged_after > 0;
    if (reference) {
      std::vector<InputSketch> sketches;
      sketches.reserve(qs.size());
      for (const auto& q : qs) sketches.push_back(q.sketch);
      const ShiftTrace shift = shiftTrace(sketches, *reference, options.shift_threshold, options.shift_min_queries);
      a.shift = shift.score;
      a.shift_flagged_after = shift.flagged_after;
      a.shift_flag = shift.flagged_after > 0;
    }
    if (a.prada_flag) a.verdict = "extraction?";
    else if (a.shift_flag) a.verdict = "shifted";
    else if (a.prada.w < 0) a.verdict = "too few queries";
    else a.verdict = "honest-looking";
    out.push_back(std::move(a));
  }
  return out;
}

} // namespace distillery
