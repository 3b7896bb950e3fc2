#include "core/forensics/log_audit.h"

#include "core/base/errors.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>

namespace distillery {

namespace {

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

// Read-only: the server may still be writing it (WAL lets both go on).
sqlite3* openLog(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw StoreError(path + ": no such request log (the serve config's \"log\" file)");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw StoreError(path + ": cannot open the request log (" + why + ")");
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// Each answered (status 200) query of a request with id > after_id, in the
// order answered: fn(request id, key, query). One statement, so one snapshot:
// a request commits its rows in one transaction with an id above every earlier
// one, and the largest id returned is where the next read starts.
int64_t forEachLoggedQuery(sqlite3* db, const std::string& path, int64_t after_id,
                           const std::function<void(int64_t, const std::string&, PradaQuery&&)>& fn) {
  const char* sql =
      "SELECT r.id, r.key, i.sha256, i.sketch_h, i.sketch_w, i.sketch FROM requests r "
      "JOIN inputs i ON i.request_id = r.id WHERE r.id > ?1 AND r.status = 200 AND r.key IS NOT NULL "
      "ORDER BY r.id, i.idx";
  Statement s;
  if (sqlite3_prepare_v2(db, sql, -1, &s.s, nullptr) != SQLITE_OK)
    throw StoreError(path + ": not a request log of distillery-cli serve (" + sqlite3_errmsg(db) + ")");
  sqlite3_bind_int64(s.s, 1, after_id);
  int64_t top = after_id;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(s.s, 0);
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(s.s, 1));
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
    top = std::max(top, id);
    fn(id, key, std::move(q));
  }
  if (rc != SQLITE_DONE) throw StoreError(path + ": cannot read the request log (" + sqlite3_errmsg(db) + ")");
  return top;
}

} // namespace

std::map<std::string, std::vector<PradaQuery>> readLoggedQueries(const std::string& path,
                                                                 std::map<std::string, int64_t>* requests) {
  sqlite3* db = openLog(path);
  std::map<std::string, std::vector<PradaQuery>> out;
  int64_t last_request = -1;
  try {
    forEachLoggedQuery(db, path, 0, [&](int64_t id, const std::string& key, PradaQuery&& q) {
      if (requests && id != last_request) ++(*requests)[key];
      last_request = id;
      out[key].push_back(std::move(q));
    });
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
  sqlite3_close(db);
  return out;
}

LogAuditStream::LogAuditStream(const std::string& path, std::shared_ptr<const ShiftReference> reference,
                               const LogAuditOptions& options)
    : path_(path), reference_(std::move(reference)), options_(options), db_(openLog(path)) {}

LogAuditStream::~LogAuditStream() { sqlite3_close(db_); }

std::vector<std::string> LogAuditStream::readNew() {
  std::vector<std::string> grown;
  int64_t last_request = last_id_;
  KeyState* state = nullptr;
  std::string state_key;
  last_id_ = forEachLoggedQuery(db_, path_, last_id_, [&](int64_t id, const std::string& key, PradaQuery&& q) {
    if (!state || key != state_key) {
      auto it = keys_.find(key);
      if (it == keys_.end()) {
        it = keys_.emplace(key, KeyState(options_)).first;
        if (reference_)
          it->second.shift.emplace(*reference_, options_.shift_threshold, options_.shift_min_queries);
      }
      state = &it->second;
      state_key = key;
      if (grown.empty() || grown.back() != key) grown.push_back(key);
    }
    if (id != last_request) ++state->requests;
    last_request = id;
    state->scores.w.push_back(state->prada.add(q));
    if (state->shift) state->scores.shift.push_back(state->shift->add(q.sketch));
  });
  std::sort(grown.begin(), grown.end());
  grown.erase(std::unique(grown.begin(), grown.end()), grown.end());
  return grown;
}

const LogAuditStream::Scores* LogAuditStream::scores(const std::string& key) const {
  const auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second.scores;
}

KeyAudit LogAuditStream::audit(const std::string& key) const {
  KeyAudit a;
  a.key = key;
  const auto it = keys_.find(key);
  if (it != keys_.end()) {
    const KeyState& k = it->second;
    a.requests = k.requests;
    a.prada = k.prada.trace();
    a.prada_flag = a.prada.flagged_after > 0;
    if (k.shift) {
      a.shift = k.shift->trace().score;
      a.shift_flagged_after = k.shift->trace().flagged_after;
      a.shift_flag = a.shift_flagged_after > 0;
    }
  }
  if (a.prada_flag) a.verdict = "extraction?";
  else if (a.shift_flag) a.verdict = "shifted";
  else if (a.prada.w < 0) a.verdict = "too few queries";
  else a.verdict = "honest-looking";
  return a;
}

std::vector<KeyAudit> LogAuditStream::audits() const {
  std::vector<KeyAudit> out;
  for (const auto& entry : keys_) out.push_back(audit(entry.first));
  return out;
}

std::vector<KeyAudit> auditRequestLog(const std::string& path, const ShiftReference* reference,
                                      const LogAuditOptions& options) {
  // Not owned: the caller's reference outlives this call.
  LogAuditStream stream(path, std::shared_ptr<const ShiftReference>(reference, [](const ShiftReference*) {}), options);
  stream.readNew();
  return stream.audits();
}

} // namespace distillery
