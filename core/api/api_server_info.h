#pragma once
// What a teacher API says about itself (GET /v1/info, docs/api.md) as the
// distiller needs it: the input it takes, the classes, the output mode and
// defenses, the price, its limits and the caller's budget; and the identity
// under which its answers are cached (the served model and its output
// pipeline, not its address, so a server moved to another port keeps its cache).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct ApiServerInfo {
  std::string url;
  std::vector<int64_t> input_shape; // one input: [C, H, W] or [F]
  int64_t classes = 0;
  std::vector<std::string> class_names;
  bool accepts_uint8 = false;
  double divide_by = 255.0;           // the server's preprocessing of raw inputs
  std::vector<double> mean, std;
  nlohmann::json output;              // {"mode": ..., parameters, "transforms": [...]}
  std::string output_mode;            // "probs", "topk", "rounded", "label"
  nlohmann::json teacher;             // what the server says it serves
  double price_per_1000 = 0;
  std::string currency = "USD";
  int64_t max_batch = 256;
  int64_t budget_remaining = -1;      // -1: not reported
  std::string identity;               // hex SHA-256 of teacher, input, classes and output

  // "reverse_sigmoid(beta=0.7, gamma=0.3) + probs", "topk(k=3)", "probs".
  std::string defenseLabel() const;

  // How the API differs from a run's data: "takes inputs of shape [1, 28, 28]
  // and answers over 100 classes"; empty when it fits. An empty shape or
  // classes <= 0 is not known and not compared. The preflight and the engine
  // both refuse a run with it, so they say the same.
  std::string mismatchWith(const std::vector<int64_t>& shape, int64_t classes) const;

  // Throws ApiError naming the URL and the field that is missing or wrong.
  static ApiServerInfo fromJson(const nlohmann::json& info, const std::string& url);
};

// The outputs of one /v1/classify reply as probability rows (n x classes,
// row-major): probs and rounded answers renormalised to sum 1; a top-k answer
// keeps its k probabilities and spreads what is left evenly over the other
// classes; a label-only answer is one-hot. Throws ApiError (url) when the reply
// does not hold n well-formed outputs.
std::vector<float> answersToProbabilities(const nlohmann::json& reply, int64_t n, int64_t classes,
                                          const std::string& url);

} // namespace distillery
