#pragma once
// The teacher server's endpoints, without HTTP or LibTorch: given a request's
// method, path, peer, Authorization header and body, the reply's status,
// headers and JSON body. The HTTP wiring (serve/http_server.h) only moves
// bytes; the model is a function from a parsed request to probabilities
// (core/serve/served_model.h provides it). Every request is logged before its
// reply leaves, so a reply the caller saw always has its row.
//
// Order of checks for POST /v1/classify: key (401), rate (429 + Retry-After),
// body size (413), body (400, or 413 for too large a batch), budget (402),
// then the forward pass and the output pipeline.
#include "core/serve/classify_request.h"
#include "core/serve/key_ledger.h"
#include "core/serve/output_modes.h"
#include "core/serve/prob_batch.h"
#include "core/serve/request_log.h"
#include "core/serve/serve_config.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace distillery {

struct ServeRequest {
  std::string method, path, peer, authorization;
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
