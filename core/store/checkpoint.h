#pragma once
// A training checkpoint: everything the training loop needs to continue a run
// exactly where it stopped: the weights, the optimiser's state (Adam moments
// and step counts, SGD momentum), the position (step, epoch) and the cost
// counters at that step, and the best validation weights kept so far. It is
// stored as one artifact ("checkpoint"), overwritten each time, so it is
// always complete.
#include "core/store/cost_counters.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

inline constexpr const char* kCheckpointArtifact = "checkpoint";

// The position and cost counters are the loop's CostCounters at the checkpoint's step.
struct TrainingCheckpoint : CostCounters {
  double wall_s = 0.0;
  double lr = 0.0; // the learning rate the schedule had reached
  int64_t total_steps = 0;
  // Model selection so far.
  double best_val_accuracy = 0.0;
  double final_val_accuracy = 0.0;
  double final_val_agreement = -1.0;
  double final_val_kl = -1.0;
  double best_test_accuracy = -1.0;
  double best_test_agreement = -1.0;
  int64_t selected_step = 0;
  // Tensors, each a torch::save'd list: the model's parameters then buffers
  // (in module order), the optimiser, and the best weights (empty: none yet).
  std::string model_state;
  std::string optimizer_state;
  std::string best_state;
  std::string optimizer_name; // "adam" | "sgd": what optimizer_state holds
  // What only one training loop needs: the language-model loop keeps its
  // validation bookkeeping here (lm_trainer.cpp). Empty for image runs.
  nlohmann::json loop_state = nlohmann::json::object();
  // The loop's random generators (a torch::save'd list of their states), so
  // the batches drawn after resuming are the ones the run would have drawn.
  // Empty when the loop rebuilds them itself (image runs redraw their orders).
  std::string rng_state;
};

std::string encodeCheckpoint(const TrainingCheckpoint& checkpoint);
// Throws DataError(origin, ...) for bytes that are not a complete checkpoint.
TrainingCheckpoint decodeCheckpoint(const std::string& bytes, const std::string& origin);

} // namespace distillery
