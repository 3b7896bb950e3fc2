#pragma once
// The audit of a teacher server's request log (core/serve/request_log.h),
// per API key: PRADA over the key's answered queries in order (prada.h), the
// shift of its queries from the task's data (distribution_shift.h) when a
// reference is given, exact repeats, and a verdict. What `distillery-cli
// audit-log` prints.
#include "core/forensics/distribution_shift.h"
#include "core/forensics/prada.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace distillery {

struct KeyAudit {
  std::string key;
  int64_t requests = 0;
  PradaTrace prada;         // queries, distinct, repeats, W, when it flagged
  double shift = -1;        // the shift score over every query; -1 without a reference
  int64_t shift_flagged_after = 0; // queries seen when the running score first passed the threshold
  bool prada_flag = false;
  bool shift_flag = false;
  std::string verdict;      // "extraction?", "shifted", "honest-looking", "too few queries"
};

struct LogAuditOptions {
  PradaOptions prada;
  double shift_threshold = 1.5; // a key whose running shift score passes it is "shifted"
  int64_t shift_min_queries = 20; // the running score counts from this many queries on
};

// Every key's answered (status 200) queries from the log at `path`, in the
// order they were answered, keyed by key name.
std::map<std::string, std::vector<PradaQuery>> readLoggedQueries(const std::string& path,
                                                                 std::map<std::string, int64_t>* requests = nullptr);

// The audit of a log the server is still writing (the GUI's traffic panel):
// its own read-only connection, and per key the detectors' state, extended by
// each readNew() with the rows answered since the last, so a poll costs what
// arrived, not the whole log. After any readNew(), audits() is what
// auditRequestLog() gives on the rows read so far; scores() are W and the shift
// score after each of the key's queries. Errors are StoreErrors naming the file.
class LogAuditStream {
public:
  // `reference` may be null (no shift score); it is shared, not copied.
  LogAuditStream(const std::string& path, std::shared_ptr<const ShiftReference> reference,
                 const LogAuditOptions& options = {});
  ~LogAuditStream();
  LogAuditStream(const LogAuditStream&) = delete;
  LogAuditStream& operator=(const LogAuditStream&) = delete;

  // Reads what was answered since the last call (everything on the first);
  // returns the keys that gained queries, in name order.
  std::vector<std::string> readNew();

  std::vector<KeyAudit> audits() const; // by key name
  KeyAudit audit(const std::string& key) const; // an empty audit for a key not seen
  struct Scores {
    std::vector<double> w;     // PRADA's W after each query; NaN while too few distances
    std::vector<double> shift; // the running shift score after each query; empty without a reference
  };
  const Scores* scores(const std::string& key) const; // null for a key not seen
  bool hasReference() const { return reference_ != nullptr; }
  const LogAuditOptions& options() const { return options_; }

private:
  struct KeyState {
    explicit KeyState(const LogAuditOptions& o) : prada(o.prada) {}
    int64_t requests = 0;
    PradaStream prada;
    std::optional<ShiftStream> shift;
    Scores scores;
  };
  std::string path_;
  std::shared_ptr<const ShiftReference> reference_;
  LogAuditOptions options_;
  sqlite3* db_ = nullptr;
  int64_t last_id_ = 0;
  std::map<std::string, KeyState> keys_;
};

// Throws StoreError naming the file when it cannot be opened or is not a request log.
std::vector<KeyAudit> auditRequestLog(const std::string& path, const ShiftReference* reference,
                                      const LogAuditOptions& options = {});

} // namespace distillery
