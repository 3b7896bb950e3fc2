#pragma once
// The optimiser settings of a training phase; shared by image runs (run_config.h)
// and language-model runs (lm_config.h).
#include <string>

namespace distillery {

struct OptimConfig {
  std::string name = "adam"; // "adam" | "sgd"
  double lr = 1e-3;
  double momentum = 0.9;     // sgd only
  double weight_decay = 0.0;
  std::string schedule = "constant"; // "constant" | "cosine" (decays to 0 over the run's steps)
};

} // namespace distillery
