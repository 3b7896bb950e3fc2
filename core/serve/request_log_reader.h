#pragma once
// A read-only view of a request log (request_log.h) for whoever watches the
// traffic while the server writes it: its own connection (one per thread),
// read incrementally, so each poll costs what arrived since the last one.
// Errors are StoreErrors naming the file.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace distillery {

// The requests of one key (empty: none valid) with one status, among those read.
struct LoggedTraffic {
  std::string key;
  int status = 0;
  int64_t requests = 0;
  int64_t queries = 0; // inputs classified (the batch sizes summed; a replay's batch is 0: it cost nothing)
};

class RequestLogReader {
public:
  explicit RequestLogReader(const std::string& path);
  ~RequestLogReader();
  RequestLogReader(const RequestLogReader&) = delete;
  RequestLogReader& operator=(const RequestLogReader&) = delete;

  // The rows appended since the last call (all of them on the first), per key and status.
  std::vector<LoggedTraffic> readNew();

private:
  std::string path_;
  sqlite3* db_ = nullptr;
  int64_t last_id_ = 0;
};

} // namespace distillery
