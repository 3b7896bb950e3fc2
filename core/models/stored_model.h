#pragma once
// The trained model of a stored run, restored from its "model.pt" artifact:
// the student of a distill run, the model of a train run.
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"
#include "core/config/run_config.h"

#include <cstdint>
#include <string>

namespace distillery {

class RunStore;

struct StoredModel {
  Classifier model; // on the CPU, eval mode
  ModelSpec spec;
  InputShape shape; // from the run's summary
  int64_t num_classes = 0;
  int64_t run_id = 0;
};

// `field` names the config field or CLI argument in errors, e.g. "export".
// Throws ConfigError when the run does not exist, is not finished or has no
// model, DataError when the model does not load.
StoredModel loadStoredModel(RunStore& store, int64_t run_id, const std::string& field);

} // namespace distillery
