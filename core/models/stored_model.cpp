#include "core/models/stored_model.h"

#include "core/base/errors.h"
#include "core/models/model_artifact.h"
#include "core/store/run_store.h"

namespace distillery {

StoredModel loadStoredModel(RunStore& store, int64_t run_id, const std::string& field) {
  const std::string run = "run " + std::to_string(run_id);
  auto record = store.run(run_id);
  if (!record) throw ConfigError(field, run + " does not exist in the store");
  if (record->status != RunStatus::Finished)
    throw ConfigError(field, run + " is " + toString(record->status) + "; only a finished run has a trained model");
  auto bytes = store.loadArtifact(run_id, "model.pt");
  if (!bytes) throw ConfigError(field, run + " has no saved model");
  const RunConfig config = RunConfig::fromJsonText(record->config_json);
  StoredModel stored;
  stored.run_id = run_id;
  stored.spec = config.trainedModel();
  const auto& summary = record->summary;
  if (!summary.contains("input_shape") || !summary["input_shape"].is_array() || summary["input_shape"].size() != 3 ||
      !summary.contains("num_classes"))
    throw ConfigError(field, run + " does not record its input shape and class count");
  stored.shape = InputShape{summary["input_shape"][0].get<int64_t>(), summary["input_shape"][1].get<int64_t>(),
                            summary["input_shape"][2].get<int64_t>()};
  stored.num_classes = summary["num_classes"].get<int64_t>();
  stored.model = restoreTrainedModel(stored.spec, stored.shape, stored.num_classes, *bytes, "the model of " + run);
  stored.model->eval();
  return stored;
}

} // namespace distillery
