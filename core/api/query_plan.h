#pragma once
// What an API distiller sends (`"queries"`, api_teacher_config.h): the pool
// of candidate inputs of each strategy and the order they are bought in.
// - train: the task's own training images, in a seeded order;
// - transfer: another dataset's training images (Knockoff-style), preprocessed like the run's;
// - noise: uniform random pixels (tables: standard normal features), seeded;
// - active: the pool of train (or queries.data), a random start, then rounds
//   that buy the samples the current student is least certain of.
// The first B of a seeded order are the same for every budget B, so a run at
// 5k queries reuses the cached answers of one at 1k.
#include "core/config/api_teacher_config.h"
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"

#include <torch/torch.h>

namespace distillery {

struct QueryPool {
  torch::Tensor x;         // candidate inputs, preprocessed like the run's data
  torch::Tensor order;     // int64: the order random purchases follow
  std::string source;      // for the log and summary
};

// Throws ConfigError("teacher.api.max_queries") when a strategy's pool is
// smaller than the budget, DataError for an unreadable transfer dataset.
QueryPool makeQueryPool(const Dataset& data, const QueryConfig& queries, int64_t budget, uint64_t seed);

// Active learning's schedule: how many queries round r buys (round 0 at
// random), and the epoch it starts. Rounds spread evenly over the epochs.
int64_t activeRoundSize(const QueryConfig& queries, int64_t budget, int round);
int activeRoundEpoch(const QueryConfig& queries, int epochs, int round);

// The `count` rows of `candidates` (indices into x) where model's predictive
// entropy is highest, i.e. where the student is least certain; ties by index.
torch::Tensor leastCertain(const Classifier& model, const torch::Tensor& x, const torch::Tensor& candidates,
                           int64_t count, torch::Device device);

} // namespace distillery
