#include "core/training/teacher_sources.h"

#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/config/run_config.h"
#include "core/models/model_artifact.h"
#include "core/models/scripted_classifier.h"
#include "core/store/run_store.h"
#include "core/training/teacher_run.h"

namespace distillery {

TrainedModel teacherFromStoredRun(RunStore& store, int64_t teacher_run_id, const Dataset& data, torch::Device device) {
  const RunRecord record = finishedTeacherRun(store, teacher_run_id);
  auto bytes = store.loadArtifact(teacher_run_id, "model.pt");
  if (!bytes) throw ConfigError("teacher.run", "run " + std::to_string(teacher_run_id) + " has no saved model");
  RunConfig teacher_config = RunConfig::fromJsonText(record.config_json);
  TrainedModel t;
  t.run_id = teacher_run_id;
  t.spec = teacher_config.trainedModel();
  const std::string origin = "the model of run " + std::to_string(teacher_run_id);
  try {
    t.model = restoreTrainedModel(t.spec, data.shape, data.num_classes, *bytes, origin);
    if (auto* scripted = dynamic_cast<ScriptedClassifierImpl*>(t.model.get())) {
      probeClassifier(t.model, probeBatch(data), data.num_classes, origin);
      t.info = describeScripted(*scripted, data.shape);
    } else {
      t.info = describeModel(t.spec, data.shape.channels, data.shape.height, data.shape.width, data.num_classes);
    }
  } catch (const DataError& e) {
    throw ConfigError("teacher.run", std::string(e.what()) + "; this dataset has input " +
                                         std::to_string(data.shape.channels) + "x" + std::to_string(data.shape.height) +
                                         "x" + std::to_string(data.shape.width) + " and " +
                                         std::to_string(data.num_classes) + " classes");
  }
  t.model->to(device);
  return t;
}

TrainedModel teacherFromTorchScript(const ModelSpec& spec, const Dataset& data, torch::Device device) {
  TrainedModel t = prepareModel(spec, data, 0, "teacher");
  t.model->to(device);
  return t;
}

std::string teacherDigest(const TrainedModel& teacher) {
  Sha256 h;
  h.update(describe(teacher.spec));
  for (const auto& item : teacher.model->named_parameters()) {
    h.update(item.key());
    auto t = item.value().detach().to(torch::kCPU).contiguous();
    h.update(t.data_ptr(), size_t(t.numel() * t.element_size()));
  }
  for (const auto& item : teacher.model->named_buffers()) {
    h.update(item.key());
    auto t = item.value().detach().to(torch::kCPU).contiguous();
    h.update(t.data_ptr(), size_t(t.numel() * t.element_size()));
  }
  return h.hexDigest();
}

} // namespace distillery
