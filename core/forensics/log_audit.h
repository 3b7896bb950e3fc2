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
#include <string>
#include <vector>

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

// Throws StoreError naming the file when it cannot be opened or is not a request log.
std::vector<KeyAudit> auditRequestLog(const std::string& path, const ShiftReference* reference,
                                      const LogAuditOptions& options = {});

} // namespace distillery
