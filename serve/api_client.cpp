#include "serve/api_client.h"
#include "core/base/number_format.h"

#include "core/base/base64.h"
#include "core/base/errors.h"
#include "core/base/sha256.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

namespace distillery {

struct ApiClient::Connection {
  httplib::Client client;
  explicit Connection(const std::string& url) : client(url) {}
};

namespace {

std::string errorMessage(const httplib::Result& res) {
  if (!res) return "no reply (" + httplib::to_string(res.error()) + ")";
  std::string message;
  try {
    const auto j = nlohmann::json::parse(res->body);
    message = j.at("error").at("message").get<std::string>();
  } catch (const std::exception&) {
    message = res->body.substr(0, 200);
  }
  return "HTTP " + std::to_string(res->status) + (message.empty() ? "" : ": " + message);
}

} // namespace

ApiClient::ApiClient(std::string url, std::string key, ApiClientOptions options, const StopToken* stop)
    : url_(std::move(url)), key_(std::move(key)), options_(std::move(options)), stop_(stop) {
  const auto host_start = url_.find("://");
  if (url_.rfind("http://", 0) != 0 || url_.size() <= 7 || url_.find('/', host_start + 3) != std::string::npos)
    throw ApiError(url_, "expected an address such as http://127.0.0.1:8311, without a path");
  connection_ = std::make_unique<Connection>(url_);
  auto& c = connection_->client;
  const auto whole = std::chrono::duration<double>(options_.timeout_s);
  c.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(whole));
  c.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(whole));
  c.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(whole));
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_bearer_token_auth(key_);
}

ApiClient::~ApiClient() = default;

void ApiClient::sleepFor(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (stop_ && stop_->stopRequested()) throw RunCancelled{};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

nlohmann::json ApiClient::send(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& idempotency_key) {
  int failures = 0;
  double backoff = 0.5;
  for (;;) {
    if (stop_ && stop_->stopRequested()) throw RunCancelled{};
    httplib::Headers headers;
    if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
    auto res = method == "GET" ? connection_->client.Get(path, headers)
                               : connection_->client.Post(path, headers, body, "application/json");
    if (res && res->status == 200) {
      try {
        return nlohmann::json::parse(res->body);
      } catch (const nlohmann::json::exception&) {
        throw ApiError(url_, method + " " + path + ": the reply is not JSON");
      }
    }
    if (res && res->status == 429) { // the key's rate: wait as told, not a failure
      double wait = 1.0;
      try {
        wait = std::stod(res->get_header_value("Retry-After"));
      } catch (const std::exception&) {
      }
      ++waits_;
      if (options_.note) options_.note("rate limited (429); waiting " + plainNumber(wait) + " s as Retry-After says");
      sleepFor(std::clamp(wait, 0.05, 600.0));
      continue;
    }
    const bool transient = !res || res->status >= 500;
    const std::string error = errorMessage(res);
    if (!transient) {
      std::string hint;
      if (res->status == 401) hint = " (check the key in teacher.api.key_env)";
      if (res->status == 402) hint = " (the key's query budget is spent; the answers bought so far are cached)";
      throw ApiError(url_, method + " " + path + ": " + error + hint);
    }
    if (failures >= options_.retries)
      throw ApiError(url_, method + " " + path + ": " + error + " (after " + std::to_string(failures) + " retr" +
                               (failures == 1 ? "y" : "ies") + "; is the server running at this address?" +
                               (options_.retries > 0 ? " A run can be resumed once it is back: the answers it "
                                                       "bought are cached)"
                                                     : ")"));
    ++failures;
    ++retries_;
    if (options_.note)
      options_.note(method + " " + path + ": " + error + "; retry " + std::to_string(failures) + " of " +
                    std::to_string(options_.retries) + " in " + plainNumber(backoff) + " s");
    sleepFor(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff_s);
  }
}

nlohmann::json ApiClient::info() { return send("GET", "/v1/info", "", ""); }

std::string batchIdempotencyKey(const std::string& dtype, const std::vector<int64_t>& shape, const std::string& bytes) {
  std::string text = dtype + " [";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  text += "]";
  const int64_t n = shape.empty() ? 0 : shape[0];
  const size_t per_input = n > 0 ? bytes.size() / size_t(n) : 0;
  for (int64_t i = 0; i < n; ++i) text += " " + sha256Hex(bytes.substr(size_t(i) * per_input, per_input));
  return sha256Hex(text);
}

nlohmann::json ApiClient::classify(const std::string& dtype, const std::vector<int64_t>& shape,
                                   const std::string& bytes) {
  const nlohmann::json body = {{"dtype", dtype}, {"shape", shape}, {"data", encodeBase64(bytes)}};
  // The same batch always carries the same key, so the server answers it once
  // and replays it free after that: a retry after a timeout (the server may
  // have answered and charged), or a resumed run sending the batch whose reply
  // never reached the answer cache, pays nothing twice.
  return send("POST", "/v1/classify", body.dump(), batchIdempotencyKey(dtype, shape, bytes));
}

} // namespace distillery
