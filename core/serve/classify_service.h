#pragma once
// The teacher server's endpoints, without HTTP or LibTorch: given a request's
// method, path, peer, Authorization header and body, the reply's status,
// headers and JSON body. The HTTP wiring (serve/http_server.h) only moves
// bytes; the model is a function from a parsed request to probabilities
// (core/serve/served_model.h provides it). Every request is logged before its
// reply leaves, so a reply the caller saw always has its row.
//
// Order of checks for POST /v1/classify: key (401), rate (429 + Retry-After),
// body size (413), Idempotency-Key (400), body (400, or 413 for too large a
// batch), a repeated Idempotency-Key (409 with other inputs, else a replay),
// budget (402), then the forward pass and the output pipeline.
//
// Idempotent requests: a key that repeats an Idempotency-Key it already got a
// 200 for, with the same inputs, is answered again without being charged (no
// budget, no inputs rows; its row says replay_of). The answers are recomputed:
// the model and the output pipeline are deterministic for a server's lifetime.
// A client that lost a reply (killed, timed out) can so ask again safely.
#include "core/serve/classify_request.h"
#include "core/serve/key_ledger.h"
#include "core/serve/output_modes.h"
#include "core/serve/prob_batch.h"
#include "core/serve/request_log.h"
#include "core/serve/serve_config.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace distillery {

struct ServeRequest {
  std::string method, path, peer, authorization;
  std::optional<std::string> idempotency_key; // the Idempotency-Key header, when one came (even empty)
};

struct ServeReply {
  int status = 200;
  std::string body; // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

class ClassifyService {
public:
  using Forward = std::function<ProbBatch(const ClassifyRequest&)>;

  // `teacher` describes the model for /v1/info (e.g. {"run": 3} or {"torchscript": PATH, "sha256": ...}).
  ClassifyService(const ServeConfig& config, ServedInput input, nlohmann::json teacher, Forward forward,
                  RequestLog& log);

  ServeReply classify(const ServeRequest& request, const std::string& body);
  ServeReply info(const ServeRequest& request);
  ServeReply health(const ServeRequest& request);
  // An endpoint asked with a method it does not serve: 405 with "Allow: ALLOW", logged.
  ServeReply wrongMethod(const ServeRequest& request, const std::string& allow);
  // A request answered before reaching an endpoint (unknown path, body over
  // the limit): logged with the status the HTTP layer gave it.
  void logUnrouted(const ServeRequest& request, int status, const std::string& error);

  const OutputPipeline& output() const { return output_; }

private:
  std::optional<ServeReply> admit(const ServeRequest& request, const ApiKey* key, LoggedRequest& row);
  ServeReply error(const ServeRequest& request, LoggedRequest& row, int status, const std::string& field,
                   const std::string& message);
  LoggedRequest row(const ServeRequest& request, const ApiKey* key) const;
  void record(LoggedRequest& row, int status);
  ServeReply replay(const ApiKey& key, LoggedRequest& row, const ClassifyRequest& parsed, int64_t original);

  // (key name, Idempotency-Key) pairs a request is being answered under: a
  // second request with the same pair waits for the first (a client's retry
  // after a timeout while the server still works), then finds its row.
  class IdempotencyClaim;
  std::mutex claims_mutex_;
  std::condition_variable claims_changed_;
  std::set<std::pair<std::string, std::string>> claims_;

  ServeConfig config_;
  ServedInput input_;
  nlohmann::json teacher_;
  Forward forward_;
  RequestLog& log_;
  KeyLedger ledger_;
  OutputPipeline output_;
};

// Seconds on the steady clock (token buckets), and Unix time in milliseconds (the log).
double steadySeconds();
int64_t unixMillis();

} // namespace distillery
