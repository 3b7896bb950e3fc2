#include "core/api/api_teacher.h"
#include "core/base/number_format.h"

#include "core/api/answer_cache.h"
#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/base/stop_token.h"
#include "serve/api_client.h"

#include <cstdlib>
#include <sstream>

namespace distillery {

namespace {

std::string shapeText(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

// One input's shape as the API names it: [C, H, W] for images, [F] for tables.
std::vector<int64_t> inputShape(const torch::Tensor& x) {
  std::vector<int64_t> s(x.sizes().begin() + 1, x.sizes().end());
  return s;
}

} // namespace

ApiTeacher::ApiTeacher(const ApiTeacherConfig& config, const Dataset& data, const StopToken& stop, LogFn log)
    : config_(config), data_(data), stop_(stop), log_(std::move(log)) {
  const char* key = std::getenv(config_.key_env.c_str());
  if (!key || !*key)
    throw ConfigError("teacher.api.key_env", "the environment variable " + config_.key_env +
                                                 " is not set; it must hold the API key (export " + config_.key_env +
                                                 "=KEY)");
  ApiClientOptions options;
  options.retries = config_.retries;
  options.timeout_s = config_.timeout_s;
  options.note = [this](const std::string& m) {
    if (log_) log_("warning", "teacher API " + config_.url + ": " + m);
  };
  client_ = std::make_unique<ApiClient>(config_.url, key, options, &stop_);
  info_ = ApiServerInfo::fromJson(client_->info(), config_.url);
  const std::vector<int64_t> want = inputShape(data_.train.x.defined() && data_.train.size() > 0 ? data_.train.x
                                                                                                   : data_.test.x);
  const std::string differs = info_.mismatchWith(want, data_.num_classes);
  if (!differs.empty())
    throw ApiError(config_.url, "the API " + differs + "; the run's data (" + data_.path + ") has shape " +
                                    shapeText(want) + " and " + std::to_string(data_.num_classes) + " classes");
  cache_ = std::make_unique<ApiAnswerCache>(config_.cache_dir.empty() ? ApiAnswerCache::defaultDir() : config_.cache_dir);
  if (log_)
    log_("info", "teacher API " + config_.url + ": " + info_.defenseLabel() + ", " + std::to_string(info_.classes) +
                     " classes, " + plainNumber(info_.price_per_1000) + " " + info_.currency +
                     " per 1,000 queries" +
                     (info_.budget_remaining >= 0 ? ", " + std::to_string(info_.budget_remaining) + " queries left on the key"
                                                  : std::string()) +
                     "; answers cached in " + cache_->path() + " (" + std::to_string(cache_->count(info_.identity)) +
                     " held for this server)");
}

ApiTeacher::~ApiTeacher() = default;

const std::string& ApiTeacher::cachePath() const { return cache_->path(); }

std::string ApiTeacher::rawBytes(const torch::Tensor& x, std::string& dtype) const {
  // Undo the run's preprocessing, x = (raw / divide_by - mean[c]) / std[c], channel c on dimension 1.
  const auto& n = data_.normalisation;
  const int64_t channels = x.size(1);
  std::vector<int64_t> view(size_t(x.dim()), 1);
  view[1] = channels;
  auto expand = [&](const std::vector<double>& v) {
    std::vector<float> out(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) out[size_t(c)] = float(v.size() == 1 ? v[0] : v[size_t(c)]);
    return torch::tensor(out).view(view);
  };
  torch::Tensor raw = ((x.to(torch::kFloat) * expand(n.std) + expand(n.mean)) * n.divide_by).contiguous();
  const torch::Tensor rounded = raw.round();
  const bool pixels = info_.accepts_uint8 && x.dim() == 4 && (raw - rounded).abs().max().item<float>() < 1e-2f &&
                      rounded.min().item<float>() >= 0 && rounded.max().item<float>() <= 255;
  if (pixels) {
    dtype = "uint8";
    const torch::Tensor bytes = rounded.to(torch::kUInt8).contiguous();
    return std::string(static_cast<const char*>(bytes.data_ptr()), size_t(bytes.numel()));
  }
  dtype = "float32";
  return std::string(static_cast<const char*>(raw.data_ptr()), size_t(raw.numel()) * sizeof(float));
}

torch::Tensor ApiTeacher::probabilities(const torch::Tensor& x, const ProgressFn& progress) {
  const int64_t rows = x.size(0), classes = info_.classes;
  torch::Tensor out = torch::empty({rows, classes}, torch::kFloat);
  const int64_t batch = std::max<int64_t>(1, std::min(config_.batch, info_.max_batch));
  int64_t done = 0;
  for (int64_t begin = 0; begin < rows; begin += batch) {
    if (stop_.stopRequested()) throw RunCancelled{};
    const int64_t end = std::min(rows, begin + batch);
    std::string dtype;
    const std::string bytes = rawBytes(x.slice(0, begin, end), dtype);
    const size_t per_input = bytes.size() / size_t(end - begin);
    std::vector<std::string> hashes;
    for (int64_t i = 0; i < end - begin; ++i) hashes.push_back(sha256Hex(bytes.substr(size_t(i) * per_input, per_input)));
    std::vector<float> probs;
    const std::vector<bool> found = cache_->lookup(info_.identity, hashes, classes, probs);
    // The inputs the cache lacks go out as one request.
    std::string missing_bytes;
    std::vector<std::string> missing_hashes;
    std::vector<int64_t> missing_rows;
    for (int64_t i = 0; i < end - begin; ++i)
      if (!found[size_t(i)]) {
        missing_bytes += bytes.substr(size_t(i) * per_input, per_input);
        missing_hashes.push_back(hashes[size_t(i)]);
        missing_rows.push_back(i);
      }
    from_cache_ += (end - begin) - int64_t(missing_rows.size());
    if (!missing_rows.empty()) {
      std::vector<int64_t> shape = {int64_t(missing_rows.size())};
      for (int64_t d : info_.input_shape) shape.push_back(d);
      const nlohmann::json reply = client_->classify(dtype, shape, missing_bytes);
      const std::vector<float> answers =
          answersToProbabilities(reply, int64_t(missing_rows.size()), classes, config_.url);
      cache_->store(info_.identity, missing_hashes, answers, classes); // paid for: kept before anything else
      // A replay repeats a purchase whose reply never reached the cache (the
      // run was killed in between, or the reply was lost and the request
      // retried): the server did not charge it again.
      const auto replayed = reply.find("replayed");
      if (replayed != reply.end() && replayed->is_boolean() && replayed->get<bool>()) {
        replayed_ += int64_t(missing_rows.size());
        if (log_)
          log_("info", "teacher API " + config_.url + ": " + std::to_string(missing_rows.size()) +
                           " answers replayed free (bought before an interruption, never cached)");
      } else {
        bought_ += int64_t(missing_rows.size());
      }
      for (size_t k = 0; k < missing_rows.size(); ++k)
        std::copy(answers.begin() + long(k * size_t(classes)), answers.begin() + long((k + 1) * size_t(classes)),
                  probs.begin() + long(size_t(missing_rows[k]) * size_t(classes)));
    }
    std::memcpy(out[begin].data_ptr<float>(), probs.data(), probs.size() * sizeof(float));
    done = end;
    if (progress) progress(done, rows);
  }
  return out;
}

torch::Tensor answersAsLogits(const torch::Tensor& probabilities) {
  return probabilities.clamp_min(1e-8).log();
}

} // namespace distillery
