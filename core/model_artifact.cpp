#include "core/model_artifact.h"

#include "core/errors.h"
#include "core/scripted_classifier.h"

namespace distillery {

std::string saveTrainedModel(const Classifier& model) {
  if (auto* scripted = dynamic_cast<ScriptedClassifierImpl*>(model.get())) return scripted->saveBytes();
  return saveModelBytes(model);
}

Classifier restoreTrainedModel(const ModelSpec& spec, const InputShape& shape, int64_t classes,
                               const std::string& bytes, const std::string& origin) {
  if (spec.isTorchScript()) return loadScriptedBytes(bytes, origin).ptr();
  Classifier model;
  {
    // Building draws (soon overwritten) initial weights from the global generator.
    std::lock_guard<std::mutex> lock(modelInitMutex());
    model = buildModel(spec, shape, classes);
  }
  try {
    loadModelBytes(model, bytes);
  } catch (const c10::Error& e) {
    throw DataError(origin, "does not fit a " + describe(spec) + " for input " + std::to_string(shape.channels) + "x" +
                                std::to_string(shape.height) + "x" + std::to_string(shape.width) + " and " +
                                std::to_string(classes) + " classes (" + e.what_without_backtrace() + ")");
  }
  return model;
}

} // namespace distillery
