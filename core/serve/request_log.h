#pragma once
// The serve command's own SQLite store: a row per request (key name, time,
// endpoint, status, batch size, output mode) and a row per classified input
// (SHA-256 of its bytes as sent, and its sketch: input_sketch.h), and what
// idempotent requests need: the Idempotency-Key a request came with, and for a
// replay the request it repeats. Older logs are upgraded in place, a schema
// version at a time (meta schema_version; v1 had no idempotency columns). WAL with
// synchronous=NORMAL: a request's rows are committed before its answer is
// sent, and a committed transaction survives the server being killed
// (kill -9); only a power loss can take the last ones. One connection behind
// a mutex serves every HTTP thread. Errors are StoreErrors naming the file.
#include "core/serve/input_sketch.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace distillery {

struct LoggedInput {
  std::string sha256; // hex, of the input's bytes as sent (dtype and byte order included)
  InputSketch sketch;
};

struct LoggedRequest {
  int64_t time_ms = 0;  // Unix time, milliseconds
  std::string key;      // the key's name; empty when no valid key came
  std::string method, path, peer;
  int status = 0;
  int64_t batch = 0;    // inputs classified (0 when refused)
  std::string dtype, output_mode, error;
  std::string idempotency_key; // as sent; empty when none came
  int64_t replay_of = 0;       // a replay: the id of the request it answers again (0: none)
  std::vector<LoggedInput> inputs;
};

// The request a key first got a 200 for under an Idempotency-Key, and the
// hashes of its inputs in batch order.
struct IdempotentOriginal {
  int64_t id = 0;
  std::vector<std::string> sha256;
};

// The schema this build writes; older logs are upgraded to it on open.
constexpr int kRequestLogSchemaVersion = 2;

class RequestLog {
public:
  explicit RequestLog(const std::string& path);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // One transaction for the request and its inputs. Returns the request's id.
  int64_t append(const LoggedRequest& r);
  // Queries answered (status 200) per key name: what their budgets have spent.
  // Replays are logged with batch 0, so they spend nothing.
  std::map<std::string, int64_t> spentByKey();
  // The first answered, non-replayed request of `key` (a key's name) with this
  // Idempotency-Key, if there is one.
  std::optional<IdempotentOriginal> findIdempotent(const std::string& key, const std::string& idempotency_key);
  int64_t requestCount();
  const std::string& path() const { return path_; }

private:
  void upgrade();
  int schemaVersion();
  void exec(const char* sql);
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

} // namespace distillery
