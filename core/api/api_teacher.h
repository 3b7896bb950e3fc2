#pragma once
// A teacher the run sees only through an HTTP API: the run's preprocessed
// inputs go back to the raw units the API takes (uint8 pixels when they are
// whole numbers 0-255, else float32), answers come from the on-disk answer
// cache when it holds them and are bought otherwise, a batch per request, each
// purchase committed to the cache as soon as it arrives. Answers come back as
// probabilities; a method reads log-probabilities as the teacher's logits
// (softmax of them is the answer).
#include "core/api/api_server_info.h"
#include "core/config/api_teacher_config.h"
#include "core/data/dataset.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

namespace distillery {

class ApiAnswerCache;
class ApiClient;
class StopToken;

class ApiTeacher {
public:
  using LogFn = std::function<void(const std::string& level, const std::string& message)>;
  // (answers obtained so far, answers wanted) while buying.
  using ProgressFn = std::function<void(int64_t done, int64_t total)>;

  // Reads the key from config.key_env and asks /v1/info. Throws ConfigError
  // (teacher.api.key_env: unset) or ApiError (unreachable, key refused, an
  // input shape or class count other than data's).
  ApiTeacher(const ApiTeacherConfig& config, const Dataset& data, const StopToken& stop, LogFn log);
  ~ApiTeacher();

  const ApiServerInfo& info() const { return info_; }

  // Probabilities [rows, classes] (float, CPU) the API gives for x (inputs
  // preprocessed as data's). Counts what came from the cache and what was bought.
  torch::Tensor probabilities(const torch::Tensor& x, const ProgressFn& progress = {});

  int64_t bought() const { return bought_; }        // answers paid for by this object
  int64_t fromCache() const { return from_cache_; } // answers the cache already held
  // Answers the server replayed free: bought earlier under the same Idempotency-Key, lost before the cache.
  int64_t replayed() const { return replayed_; }
  const std::string& cachePath() const;
  double money(double queries) const { return queries * info_.price_per_1000 / 1000.0; }

private:
  // Raw bytes and dtype of rows [begin, end) of x, as the API takes them.
  std::string rawBytes(const torch::Tensor& x, std::string& dtype) const;

  ApiTeacherConfig config_;
  const Dataset& data_;
  const StopToken& stop_;
  LogFn log_;
  ApiServerInfo info_;
  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<ApiAnswerCache> cache_;
  int64_t bought_ = 0, from_cache_ = 0, replayed_ = 0;
};

// Log-probabilities of answers, floored so a zero probability stays finite.
torch::Tensor answersAsLogits(const torch::Tensor& probabilities);

} // namespace distillery
