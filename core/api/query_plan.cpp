#include "core/api/query_plan.h"

#include "core/base/errors.h"
#include "core/methods/transfer_set.h"
#include "core/training/chunked_inference.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace distillery {

namespace {

torch::Tensor seededOrder(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9e3779b97f4a7c15ull);
  return torch::randperm(n, gen, torch::kLong);
}

// Uniform raw pixels 0-255 preprocessed as the run's (tables: N(0, 1) in normalised units).
torch::Tensor noiseInputs(const Dataset& data, int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x6e6f697365ull);
  const torch::Tensor& like = data.train.x;
  std::vector<int64_t> shape(like.sizes().begin(), like.sizes().end());
  shape[0] = n;
  if (like.dim() != 4) return torch::randn(shape, gen, torch::kFloat);
  torch::Tensor raw = torch::randint(0, 256, shape, gen, torch::kFloat);
  const auto& norm = data.normalisation;
  const int64_t channels = shape[1];
  std::vector<float> mean(static_cast<size_t>(channels)), sd(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    mean[size_t(c)] = float(norm.mean.size() == 1 ? norm.mean[0] : norm.mean[size_t(c)]);
    sd[size_t(c)] = float(norm.std.size() == 1 ? norm.std[0] : norm.std[size_t(c)]);
  }
  return ((raw / float(norm.divide_by)) - torch::tensor(mean).view({1, channels, 1, 1})) /
         torch::tensor(sd).view({1, channels, 1, 1});
}

} // namespace

QueryPool makeQueryPool(const Dataset& data, const QueryConfig& q, int64_t budget, uint64_t seed) {
  QueryPool pool;
  if (q.strategy == "noise") {
    pool.x = noiseInputs(data, budget, seed);
    pool.source = "uniform random inputs";
  } else if (q.data) { // transfer, or an active pool of another dataset
    TransferConfig other;
    other.data = q.data;
    pool.x = makeTransferSet(data, other, seed).train.x;
    pool.source = q.data->dataset + " images from " + q.data->path;
  } else {
    pool.x = data.train.x;
    pool.source = "the task's training images (" + data.path + ")";
  }
  const int64_t n = pool.x.size(0);
  if (n < budget)
    throw ConfigError("teacher.api.max_queries", std::to_string(budget) + " queries, but strategy \"" + q.strategy +
                                                     "\" has only " + std::to_string(n) + " inputs to send (" +
                                                     pool.source + ")");
  pool.order = seededOrder(n, seed);
  return pool;
}

int64_t activeRoundSize(const QueryConfig& q, int64_t budget, int round) {
  if (q.rounds <= 1) return round == 0 ? budget : 0;
  const int64_t first = std::clamp<int64_t>(std::llround(q.initial * double(budget)), 1, budget);
  if (round == 0) return first;
  const int64_t rest = budget - first, later = q.rounds - 1;
  // Spread the rest evenly; the first rounds take the remainder.
  return rest / later + (round - 1 < rest % later ? 1 : 0);
}

int activeRoundEpoch(const QueryConfig& q, int epochs, int round) {
  return int((int64_t(round) * epochs) / std::max(1, q.rounds));
}

torch::Tensor leastCertain(const Classifier& model, const torch::Tensor& x, const torch::Tensor& candidates,
                           int64_t count, torch::Device device) {
  count = std::min<int64_t>(count, candidates.size(0));
  if (count <= 0) return torch::empty({0}, torch::kLong);
  const torch::Tensor logits = inferInChunks(model, x.index_select(0, candidates), device, 256, {0, 0});
  const torch::Tensor logp = torch::log_softmax(logits.to(torch::kDouble), 1);
  const torch::Tensor entropy = -(logp.exp() * logp).sum(1);
  // Stable: equal entropies keep the candidates' order.
  const torch::Tensor by_entropy = std::get<1>(entropy.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  return candidates.index_select(0, by_entropy.slice(0, 0, count));
}

} // namespace distillery
