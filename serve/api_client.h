#pragma once
// The distiller's side of the teacher API: GET /v1/info and POST
// /v1/classify over cpp-httplib, with what a long run needs from a paid,
// rate-limited service. 5xx replies, timeouts and lost connections are retried
// with exponential backoff (0.5 s, 1 s, 2 s, ... capped at 8 s) up to
// `retries` times; a 429 waits its Retry-After and does not count as a retry;
// 401, 402, 400 and the rest fail at once. Every wait polls the stop token.
// classify sends an Idempotency-Key derived from the batch, so a request sent
// again (a retry, a resumed run) is replayed by the server, not charged again.
// Failures are ApiErrors naming the URL and the last error. No LibTorch, no Qt.
#include "core/base/stop_token.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace distillery {

struct ApiClientOptions {
  int retries = 5;
  double timeout_s = 30;
  double max_backoff_s = 8;
  // Told about every retry and wait, e.g. for the run's log.
  std::function<void(const std::string&)> note;
};

class ApiClient {
public:
  // url: "http://host:port" (no path). Throws ApiError for anything else.
  ApiClient(std::string url, std::string key, ApiClientOptions options, const StopToken* stop = nullptr);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  nlohmann::json info();
  // n inputs of dtype "uint8" or "float32" with `shape` = [n, ...input shape], raw bytes back to back.
  // A reply with "replayed": true repeats answers this key already paid for.
  nlohmann::json classify(const std::string& dtype, const std::vector<int64_t>& shape, const std::string& bytes);

  const std::string& url() const { return url_; }
  int64_t retries() const { return retries_; }        // requests sent again after a failure
  int64_t rateLimitWaits() const { return waits_; }   // 429s honoured

private:
  nlohmann::json send(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& idempotency_key);
  void sleepFor(double seconds);

  std::string url_, key_;
  ApiClientOptions options_;
  const StopToken* stop_;
  struct Connection;
  std::unique_ptr<Connection> connection_;
  int64_t retries_ = 0, waits_ = 0;
};

// classify's Idempotency-Key: SHA-256 (hex) of the dtype, the shape and the
// SHA-256 of each input's bytes in order, so it names the batch and nothing else.
std::string batchIdempotencyKey(const std::string& dtype, const std::vector<int64_t>& shape, const std::string& bytes);

} // namespace distillery
