#include "core/models/model_artifact.h"

#include "core/base/errors.h"
#include "core/models/scripted_classifier.h"

#include <map>
#include <string>
#include <vector>

namespace distillery {

namespace {

// Every parameter's and buffer's shape, by name.
std::map<std::string, std::vector<int64_t>> tensorShapes(const Classifier& model) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : model->named_parameters()) shapes[item.key()] = item.value().sizes().vec();
  for (const auto& item : model->named_buffers()) shapes[item.key()] = item.value().sizes().vec();
  return shapes;
}

std::string shapeText(const std::vector<int64_t>& sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "]";
}

} // namespace

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
  const auto doesNotFit = [&](const std::string& why) {
    return DataError(origin, "does not fit a " + describe(spec) + " for input " + std::to_string(shape.channels) + "x" +
                                 std::to_string(shape.height) + "x" + std::to_string(shape.width) + " and " +
                                 std::to_string(classes) + " classes (" + why + ")");
  };
  // torch::load replaces each tensor whatever its shape: remember the shapes
  // this data needs and compare, or a mismatch only shows in a forward pass.
  const auto expected = tensorShapes(model);
  try {
    loadModelBytes(model, bytes);
  } catch (const c10::Error& e) {
    throw doesNotFit(e.what_without_backtrace());
  }
  const auto loaded = tensorShapes(model); // same names: loading replaces tensors, not modules
  for (const auto& [name, sizes] : expected) {
    const auto& got = loaded.at(name);
    if (got != sizes) throw doesNotFit(name + " is " + shapeText(got) + " in the file, " + shapeText(sizes) + " here");
  }
  return model;
}

} // namespace distillery
