#include "core/training/prepared_model.h"

#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/models/scripted_classifier.h"

#include <mutex>

namespace distillery {

Classifier buildSeeded(const ModelSpec& spec, const Dataset& data, uint64_t seed) {
  std::lock_guard<std::mutex> lock(modelInitMutex());
  torch::manual_seed(seed);
  return buildModel(spec, data.shape, data.num_classes);
}

TrainedModel prepareModel(const ModelSpec& spec, const Dataset& data, uint64_t seed, const std::string& role) {
  TrainedModel t;
  t.spec = spec;
  if (!spec.isTorchScript()) {
    t.model = buildSeeded(spec, data, seed);
    t.info = describeModel(spec, data.shape.channels, data.shape.height, data.shape.width, data.num_classes);
    return t;
  }
  try {
    ScriptedClassifier scripted = loadCheckedTorchScript(spec.torchscript, probeBatch(data), data.num_classes);
    // The preflight refuses these too; a run queued without it must not train on them either.
    const std::string batch_norm = fixedBatchNormProblem(scripted->script(), role != "teacher");
    if (!batch_norm.empty()) throw DataError(spec.torchscript, batch_norm);
    t.info = describeScripted(*scripted, data.shape);
    t.model = scripted.ptr();
    t.sha256 = sha256OfFile(spec.torchscript);
  } catch (const DataError& e) {
    throw ConfigError(role + ".torchscript", e.what());
  }
  return t;
}

nlohmann::json torchScriptSource(const TrainedModel& t) {
  return {{"kind", "torchscript"}, {"path", t.spec.torchscript}, {"sha256", t.sha256}};
}

} // namespace distillery
