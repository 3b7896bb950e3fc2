#pragma once
// A teacher behind an HTTP API (`"teacher": {"api": {...}}`) and the queries
// the distiller sends it (`"queries": {...}`): the black-box case of issue 17.
// The run sees only what the API returns; evaluation may use a local copy of
// the undefended teacher (reference_run), which never reaches training.
#include "core/config/data_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace distillery {

struct ApiTeacherConfig {
  std::string url;                          // "http://host:port" of `distillery-cli serve` or a compatible server
  std::string key_env = "DISTILLERY_API_KEY"; // environment variable holding the Bearer key (never the config)
  int64_t max_queries = 0;                  // training answers bought: the attacker's budget
  int64_t batch = 256;                      // inputs per request
  // Evaluation only: a finished run holding the undefended teacher, for the
  // clone's fidelity (test agreement with it) and the benign cost. 0: none.
  int64_t reference_run = 0;
  // Send the test split once to measure the accuracy honest users get from
  // the defended answers (its queries are counted apart, as evaluation).
  bool measure_benign = true;
  int retries = 5;        // per request, on 5xx, timeouts and lost connections (exponential backoff)
  double timeout_s = 30;  // per request
  std::string cache_dir;  // the answer cache; empty: ApiAnswerCache::defaultDir()
};

// Which inputs the distiller buys answers for.
struct QueryConfig {
  // "train": the task's own training images; "transfer": another dataset's
  // images (data); "noise": uniform random inputs; "active": rounds that buy
  // the pool samples the current student is least certain of.
  std::string strategy = "train";
  std::optional<DataConfig> data; // transfer: required; active: the pool (default: the training split)
  int rounds = 4;                 // active: purchase rounds, spread over the epochs
  double initial = 0.25;          // active: fraction of the budget bought at random before the first round
};

// Throws ConfigError naming the field ("teacher.api.url", "queries.strategy", ...).
ApiTeacherConfig apiTeacherConfigFromJson(const nlohmann::json& json);
nlohmann::json toJson(const ApiTeacherConfig& api);
QueryConfig queryConfigFromJson(const nlohmann::json& json);
nlohmann::json toJson(const QueryConfig& queries);

// The access a method needs from its teacher (method_registry.h's
// teacher_access) against what an API output mode returns ("probs", "topk",
// "rounded", "label"): empty when it fits, else why not, naming the methods that fit.
std::string apiMethodMismatch(const std::string& method, const std::string& output_mode);

} // namespace distillery
