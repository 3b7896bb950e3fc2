#include "core/serve/classify_service.h"

#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/base/version.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <optional>

namespace distillery {

double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Why a request's Authorization found no key: absent, another scheme (curl -u sends
// Basic), or a Bearer token that is no key's secret.
std::string authorizationProblem(const std::string& authorization) {
  const std::string how = "send \"Authorization: Bearer KEY\"";
  if (authorization.empty()) return "missing; " + how;
  std::string scheme = authorization.substr(0, std::min(authorization.find(' '), size_t(24)));
  std::string lower = scheme;
  for (char& c : lower) c = char(std::tolower(uint8_t(c)));
  if (lower != "bearer") return "expected a Bearer token, got the \"" + scheme + "\" scheme; " + how;
  return "unknown API key";
}

// Why an Idempotency-Key header is refused, or empty when it is fine.
std::string idempotencyKeyProblem(const std::string& value) {
  if (value.size() < 8 || value.size() > 128)
    return std::to_string(value.size()) + " characters; send 8 to 128 printable ASCII characters";
  for (char c : value)
    if (uint8_t(c) < 0x20 || uint8_t(c) > 0x7E) return "not printable ASCII; send 8 to 128 printable ASCII characters";
  return "";
}

} // namespace

// Holds one (key, Idempotency-Key) pair for the request that checks it, from
// the log lookup until its row is written; a second request waits its turn.
class ClassifyService::IdempotencyClaim {
public:
  IdempotencyClaim(ClassifyService& service, std::pair<std::string, std::string> pair)
      : service_(service), pair_(std::move(pair)) {
    std::unique_lock<std::mutex> lock(service_.claims_mutex_);
    service_.claims_changed_.wait(lock, [&] { return service_.claims_.count(pair_) == 0; });
    service_.claims_.insert(pair_);
  }
  ~IdempotencyClaim() {
    {
      std::lock_guard<std::mutex> lock(service_.claims_mutex_);
      service_.claims_.erase(pair_);
    }
    service_.claims_changed_.notify_all();
  }
  IdempotencyClaim(const IdempotencyClaim&) = delete;
  IdempotencyClaim& operator=(const IdempotencyClaim&) = delete;

private:
  ClassifyService& service_;
  std::pair<std::string, std::string> pair_;
};

ClassifyService::ClassifyService(const ServeConfig& config, ServedInput input, nlohmann::json teacher, Forward forward,
                                 RequestLog& log)
    : config_(config), input_(std::move(input)), teacher_(std::move(teacher)), forward_(std::move(forward)),
      log_(log), ledger_(config.keys, log.spentByKey(), steadySeconds()),
      output_(buildOutputPipeline(config.output, int64_t(input_.class_names.size()))) {}

LoggedRequest ClassifyService::row(const ServeRequest& request, const ApiKey* key) const {
  LoggedRequest r;
  r.time_ms = unixMillis();
  r.key = key ? key->name : "";
  r.method = request.method;
  r.path = request.path;
  r.peer = request.peer;
  return r;
}

void ClassifyService::record(LoggedRequest& row, int status) {
  row.status = status;
  log_.append(row);
}

ServeReply ClassifyService::error(const ServeRequest&, LoggedRequest& row, int status, const std::string& field,
                                  const std::string& message) {
  row.error = field.empty() ? message : field + ": " + message;
  record(row, status);
  ServeReply reply;
  reply.status = status;
  nlohmann::json e = {{"status", status}, {"message", row.error}};
  if (!field.empty()) e["field"] = field;
  reply.body = nlohmann::json{{"error", e}}.dump();
  if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"distillery\"");
  return reply;
}

// The first two checks of every priced endpoint: a known key (401), then its
// rate (429 with Retry-After). Empty when the request may go on.
std::optional<ServeReply> ClassifyService::admit(const ServeRequest& request, const ApiKey* key, LoggedRequest& r) {
  if (!key) return error(request, r, 401, "Authorization", authorizationProblem(request.authorization));
  const Admission rate = ledger_.admitRequest(*key, steadySeconds());
  if (rate.status == 200) return std::nullopt;
  ServeReply reply = error(request, r, rate.status, "", rate.message);
  reply.headers.emplace_back("Retry-After", std::to_string(int64_t(std::ceil(rate.retry_after_s))));
  return reply;
}

ServeReply ClassifyService::classify(const ServeRequest& request, const std::string& body) {
  const ApiKey* key = ledger_.authenticate(request.authorization);
  LoggedRequest r = row(request, key);
  r.output_mode = output_.mode;
  if (auto refused = admit(request, key, r)) return *refused;
  if (int64_t(body.size()) > config_.max_body_bytes)
    return error(request, r, 413, "body",
                 std::to_string(body.size()) + " bytes; at most " + std::to_string(config_.max_body_bytes));
  if (request.idempotency_key) {
    const std::string problem = idempotencyKeyProblem(*request.idempotency_key);
    if (!problem.empty()) return error(request, r, 400, "Idempotency-Key", problem);
    r.idempotency_key = *request.idempotency_key;
  }
  ClassifyRequest parsed;
  try {
    parsed = parseClassifyRequest(body, input_.shape, config_.max_batch);
  } catch (const RequestError& e) {
    const std::string what = e.what();
    return error(request, r, e.status(), e.field(), what.substr(e.field().size() + 2));
  }
  r.dtype = parsed.dtype;
  std::vector<std::string> hashes;
  for (int64_t i = 0; i < parsed.batch; ++i) hashes.push_back(sha256Hex(parsed.inputBytes(i)));

  // From the lookup until this request's row is written, no other request of
  // the key may use the same Idempotency-Key: two would both be charged.
  std::optional<IdempotencyClaim> claim;
  if (!r.idempotency_key.empty()) {
    claim.emplace(*this, std::make_pair(key->name, r.idempotency_key));
    if (const auto original = log_.findIdempotent(key->name, r.idempotency_key)) {
      if (original->sha256 != hashes) {
        std::string how;
        if (original->sha256.size() != hashes.size()) {
          how = std::to_string(original->sha256.size()) + " inputs then, " + std::to_string(hashes.size()) + " now";
        } else {
          size_t i = 0;
          while (original->sha256[i] == hashes[i]) ++i;
          how = "input " + std::to_string(i) + " differs";
        }
        return error(request, r, 409, "Idempotency-Key",
                     "already used for request " + std::to_string(original->id) + " with other inputs (" + how +
                         "); a new batch needs a new key");
      }
      return replay(*key, r, parsed, original->id);
    }
  }
  const Admission budget = ledger_.reserve(*key, parsed.batch);
  if (budget.status != 200) return error(request, r, budget.status, "", budget.message);

  nlohmann::json outputs;
  try {
    outputs = output_.apply(forward_(parsed));
    if (int64_t(outputs.size()) != parsed.batch) throw std::runtime_error("the model answered the wrong number of inputs");
  } catch (const std::exception& e) { // the worker boundary: a model failure is this request's 500
    ledger_.refund(*key, parsed.batch);
    return error(request, r, 500, "", std::string("the model failed: ") + e.what());
  }
  r.batch = parsed.batch;
  for (int64_t i = 0; i < parsed.batch; ++i)
    r.inputs.push_back({hashes[size_t(i)], sketchInput(parsed.values.data() + i * parsed.inputNumel(), input_.shape)});
  try {
    record(r, 200);
  } catch (const StoreError& e) { // unlogged means unanswered: the caller is not charged
    ledger_.refund(*key, parsed.batch);
    ServeReply reply;
    reply.status = 500;
    reply.body = nlohmann::json{{"error", {{"status", 500}, {"message", e.what()}}}}.dump();
    return reply;
  }
  ServeReply reply;
  reply.body = nlohmann::json{{"outputs", outputs},
                              {"output", output_.parameters},
                              {"queries", parsed.batch},
                              {"cost", double(parsed.batch) * config_.price_per_1000 / 1000.0},
                              {"remaining_budget", ledger_.remaining(*key)},
                              {"replayed", false}}
                   .dump();
  return reply;
}

// The same answers as request `original` gave, computed again (the model and
// the output pipeline are deterministic), neither charged nor counted as inputs.
ServeReply ClassifyService::replay(const ApiKey& key, LoggedRequest& r, const ClassifyRequest& parsed,
                                   int64_t original) {
  r.replay_of = original;
  nlohmann::json outputs;
  try {
    outputs = output_.apply(forward_(parsed));
    if (int64_t(outputs.size()) != parsed.batch) throw std::runtime_error("the model answered the wrong number of inputs");
  } catch (const std::exception& e) { // the worker boundary, as for a fresh request
    return error({}, r, 500, "", std::string("the model failed: ") + e.what());
  }
  record(r, 200); // batch 0, no inputs rows: spends no budget, on restart too
  ServeReply reply;
  reply.body = nlohmann::json{{"outputs", outputs},
                              {"output", output_.parameters},
                              {"queries", 0},
                              {"cost", 0.0},
                              {"remaining_budget", ledger_.remaining(key)},
                              {"replayed", true}}
                   .dump();
  return reply;
}

ServeReply ClassifyService::info(const ServeRequest& request) {
  const ApiKey* key = ledger_.authenticate(request.authorization);
  LoggedRequest r = row(request, key);
  if (auto refused = admit(request, key, r)) return *refused;
  record(r, 200);
  nlohmann::json j;
  j["api_version"] = "v1";
  j["server"] = "distillery " + appVersion();
  j["teacher"] = teacher_;
  j["input"] = {{"shape", input_.shape},
                {"dtypes", {"uint8", "float32"}},
                {"preprocessing", {{"divide_by", input_.divide_by}, {"mean", input_.mean}, {"std", input_.std}}}};
  j["classes"] = input_.class_names;
  j["output"] = output_.parameters;
  j["price"] = {{"per_1000_queries", config_.price_per_1000}, {"currency", config_.currency}};
  j["limits"] = {{"max_batch", config_.max_batch},
                 {"max_body_bytes", config_.max_body_bytes},
                 {"rate_per_s", key->rate_per_s},
                 {"burst", key->burst}};
  j["key"] = key->name;
  j["budget"] = {{"total", key->budget}, {"remaining", ledger_.remaining(*key)}};
  return {200, j.dump(), {}};
}

ServeReply ClassifyService::health(const ServeRequest& request) {
  LoggedRequest r = row(request, ledger_.authenticate(request.authorization));
  record(r, 200);
  return {200, nlohmann::json{{"status", "ok"}}.dump(), {}};
}

ServeReply ClassifyService::wrongMethod(const ServeRequest& request, const std::string& allow) {
  LoggedRequest r = row(request, ledger_.authenticate(request.authorization));
  ServeReply reply = error(request, r, 405, "method", request.method + " is not served on " + request.path + "; use " + allow);
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

void ClassifyService::logUnrouted(const ServeRequest& request, int status, const std::string& error) {
  LoggedRequest r = row(request, ledger_.authenticate(request.authorization));
  r.error = error;
  record(r, status);
}

} // namespace distillery
