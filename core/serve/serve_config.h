#pragma once
// The serve config (`distillery-cli serve TEACHER --config serve.json`): API
// keys with their budgets and rate limits, the price, request limits, the
// output mode, where the request log goes, and (for a TorchScript teacher,
// which records none of it) the input shape, classes and preprocessing.
// Read through ConfigReader: unknown keys and bad values are ConfigErrors
// naming the field, e.g. "keys[1].rate_per_s".
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct ApiKey {
  std::string name;   // logged and reported; the secret never is
  std::string secret; // what the caller sends as "Authorization: Bearer SECRET"
  int64_t budget = 0; // queries (inputs) this key may classify over the log's lifetime
  double rate_per_s = 10; // requests per second, refilled continuously
  double burst = 20;      // bucket size: requests allowed at once
};

// What the served model expects, and how raw inputs become its input:
// x = (raw / divide_by - mean[c]) / std[c], c along the first input dimension.
struct ServedInput {
  std::vector<int64_t> shape; // one input: [C, H, W] for images, [F] for tables
  std::vector<std::string> class_names;
  double divide_by = 255.0;
  std::vector<double> mean, std; // one per channel (feature for tables)

  int64_t numel() const;
  nlohmann::json toJson() const;
};

struct ServeConfig {
  std::vector<ApiKey> keys;
  double price_per_1000 = 0; // in `currency` per 1,000 queries
  std::string currency = "USD";
  int64_t max_batch = 256;
  int64_t max_body_bytes = 16 << 20;
  int threads = 8;                      // HTTP worker threads
  nlohmann::json output = {{"mode", "probs"}}; // see output_modes.h
  std::string log_path;                 // resolved: absolute or relative to the config file
  std::optional<ServedInput> input;     // required for a TorchScript teacher, refused for a run

  // `config_path` resolves a relative "log" and the default log,
  // CONFIG_STEM.log.sqlite beside the config.
  static ServeConfig fromJson(const nlohmann::json& j, const std::string& config_path);
  static ServeConfig fromJsonFile(const std::string& path);
};

} // namespace distillery
