#include "core/forensics/forensic_model.h"

#include "core/api/api_teacher.h"
#include "core/base/errors.h"
#include "core/base/stop_token.h"
#include "core/models/scripted_classifier.h"
#include "core/models/stored_model.h"
#include "core/store/run_store.h"
#include "core/training/trainer.h"

#include <algorithm>
#include <memory>

namespace distillery {

namespace {

std::string shapeText(const InputShape& s) {
  return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

} // namespace

ForensicModel localForensicModel(Classifier model, const std::string& id, const std::string& description) {
  ForensicModel m;
  m.id = id;
  m.description = description;
  m.local = model;
  m.answer = [model](const torch::Tensor& x) {
    return torch::softmax(predictLogits(model, x, torch::kCPU).to(torch::kFloat), 1);
  };
  return m;
}

ForensicModel forensicModelFromRun(RunStore& store, int64_t run_id, const Dataset& data, const std::string& field) {
  StoredModel stored = loadStoredModel(store, run_id, field);
  const InputShape& s = stored.shape;
  if (s.channels != data.shape.channels || s.height != data.shape.height || s.width != data.shape.width ||
      stored.num_classes != data.num_classes)
    throw ConfigError(field, "run " + std::to_string(run_id) + " takes " + shapeText(s) + " inputs and gives " +
                                 std::to_string(stored.num_classes) + " classes, the teacher's data (" + data.name +
                                 ") has " + shapeText(data.shape) + " inputs and " +
                                 std::to_string(data.num_classes) + " classes: its outputs cannot be compared");
  const auto run = store.run(run_id);
  const std::string task = run ? run->task : std::string();
  return localForensicModel(stored.model, "run:" + std::to_string(run_id),
                            "run " + std::to_string(run_id) + (task.empty() ? "" : " (" + task + ")"));
}

ForensicModel forensicModelFromTorchScript(const std::string& path, const Dataset& data) {
  const int64_t n = std::min<int64_t>(4, data.test.size());
  if (n < 1) throw DataError(data.path, "the test split is empty: nothing to probe " + path + " with");
  Classifier model = loadCheckedTorchScript(path, data.test.x.slice(0, 0, n), data.num_classes).ptr();
  model->eval();
  return localForensicModel(model, path, "TorchScript " + path);
}

ForensicModel forensicModelFromApi(const std::string& url, const std::string& key_env, const Dataset& data) {
  // ApiTeacher holds references to its stop token and data: both live as
  // long as the answering function, in one shared holder.
  struct Holder {
    StopToken stop;
    std::unique_ptr<ApiTeacher> api;
  };
  auto holder = std::make_shared<Holder>();
  ApiTeacherConfig config;
  config.url = url;
  config.key_env = key_env;
  holder->api = std::make_unique<ApiTeacher>(config, data, holder->stop, ApiTeacher::LogFn{});
  ForensicModel m;
  m.id = url;
  m.labels_only = holder->api->info().output_mode == "label";
  m.description = "API " + url + " (" + holder->api->info().defenseLabel() + ")";
  m.answer = [holder](const torch::Tensor& x) { return holder->api->probabilities(x); };
  return m;
}

} // namespace distillery
