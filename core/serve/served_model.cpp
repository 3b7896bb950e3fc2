#include "core/serve/served_model.h"

#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/data/dataset_formats.h"
#include "core/data/preprocessing.h"
#include "core/models/scripted_classifier.h"
#include "core/models/stored_model.h"
#include "core/serve/mad_defense.h"
#include "core/serve/mad_surrogate.h"
#include "core/store/run_store.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <mutex>

namespace distillery {

namespace {

bool allDigits(const std::string& s) {
  return !s.empty() && s.size() < 18 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(uint8_t(c)); });
}

// The run's input as its summary recorded it: data.input_shape, class_names, preprocessing.
ServedInput runInput(const nlohmann::json& summary, int64_t run_id) {
  const std::string run = "run " + std::to_string(run_id);
  if (!summary.contains("data") || !summary["data"].contains("preprocessing") || !summary.contains("input_shape"))
    throw ConfigError("TEACHER", run + " does not record its preprocessing (data.preprocessing in its summary)");
  const auto& data = summary["data"];
  const auto& pre = data["preprocessing"];
  ServedInput in;
  const auto shape = summary["input_shape"].get<std::vector<int64_t>>();
  // Tables are recorded as {1, 1, F} and their models take rows [N, F].
  if (data.value("dataset", "") == "csv") in.shape = {shape.back()};
  else in.shape = shape;
  in.divide_by = pre.at("divide_by").get<double>();
  in.mean = pre.at("mean").get<std::vector<double>>();
  in.std = pre.at("std").get<std::vector<double>>();
  const int64_t classes = summary.at("num_classes").get<int64_t>();
  const DatasetFormat* format = findDatasetFormat(data.value("dataset", ""));
  if (format && int64_t(format->class_names.size()) == classes) // runs stored before the table named them
    in.class_names = format->class_names;
  else if (data.contains("class_names") && int64_t(data["class_names"].size()) == classes)
    in.class_names = data["class_names"].get<std::vector<std::string>>();
  else
    for (int64_t c = 0; c < classes; ++c) in.class_names.push_back(std::to_string(c));
  return in;
}

// One model shared by the HTTP threads: a forward pass at a time.
struct SharedModel {
  Classifier model;
  Normalisation normalisation;
  std::vector<int64_t> shape;
  int64_t classes = 0;
  std::mutex mutex;

  ProbBatch forward(const ClassifyRequest& request) {
    std::vector<int64_t> sizes{request.batch};
    sizes.insert(sizes.end(), shape.begin(), shape.end());
    // The raw values, as a dataset reader holds them; normalise() is the dataset's own path.
    torch::Tensor raw = torch::from_blob(const_cast<float*>(request.values.data()), sizes, torch::kFloat32);
    torch::Tensor x = normalise(raw, normalisation);
    torch::Tensor probs;
    {
      std::lock_guard<std::mutex> lock(mutex);
      torch::NoGradGuard no_grad;
      probs = torch::softmax(model->forward(x).to(torch::kFloat64), 1).contiguous();
    }
    if (probs.dim() != 2 || probs.size(0) != request.batch || probs.size(1) != classes)
      throw std::runtime_error("the model's output is not [batch, classes]");
    ProbBatch out;
    out.rows = request.batch;
    out.classes = classes;
    out.p.assign(probs.data_ptr<double>(), probs.data_ptr<double>() + probs.numel());
    return out;
  }
};

} // namespace

ServedModel loadServedModel(const std::string& teacher, const std::string& store_path,
                            const std::optional<ServedInput>& config_input) {
  ServedModel served;
  auto shared = std::make_shared<SharedModel>();
  if (allDigits(teacher)) {
    if (config_input)
      throw ConfigError("input", "the teacher is a run, which records its input shape, classes and preprocessing; "
                                 "leave \"input\" out");
    const int64_t run_id = std::stoll(teacher);
    std::error_code ec;
    if (store_path != ":memory:" && !std::filesystem::exists(store_path, ec))
      throw ConfigError("--db", "no run store at " + store_path + " (TEACHER " + teacher + " is a run id)");
    RunStore store(store_path);
    const auto record = store.run(run_id);
    // A language-model run has no image or table input to serve; say so before loading it.
    if (record && record->status == RunStatus::Finished && !record->summary.contains("input_shape"))
      throw ConfigError("TEACHER", "run " + teacher + " is not an image or table classifier (task " + record->task +
                                       "); serve answers classification queries");
    StoredModel stored = loadStoredModel(store, run_id, "TEACHER");
    served.input = runInput(record->summary, run_id);
    shared->model = stored.model;
    served.teacher = {{"run", run_id}, {"model", toJson(stored.spec)}};
  } else {
    if (!config_input)
      throw ConfigError("input", "a TorchScript teacher records no input: give \"input\": {\"shape\": [C, H, W], "
                                 "\"classes\": N, \"preprocessing\": {\"divide_by\", \"mean\", \"std\"}}");
    served.input = *config_input;
    std::vector<int64_t> probe_shape{2};
    probe_shape.insert(probe_shape.end(), served.input.shape.begin(), served.input.shape.end());
    ScriptedClassifier model = loadCheckedTorchScript(teacher, torch::zeros(probe_shape),
                                                      int64_t(served.input.class_names.size()));
    if (!findFixedBatchNorm(model->script()).train_mode.empty())
      throw ConfigError("TEACHER", teacher + ": BatchNorm was traced in train mode, so answers would depend on the "
                                             "batch; trace the model in eval mode");
    model->eval();
    shared->model = Classifier(model.ptr());
    served.teacher = {{"torchscript", teacher}, {"sha256", sha256OfFile(teacher)}};
  }
  shared->model->eval();
  shared->normalisation = {served.input.divide_by, served.input.mean, served.input.std};
  shared->shape = served.input.shape;
  shared->classes = int64_t(served.input.class_names.size());
  served.forward = [shared](const ClassifyRequest& r) { return shared->forward(r); };
  return served;
}

void attachEngineDefenses(ServedModel& served, const nlohmann::json& output, const std::string& path) {
  if (!output.is_object() || !output.contains("transforms") || !output["transforms"].is_array()) return;
  struct Mad {
    MadSurrogate surrogate;
    double epsilon;
  };
  std::vector<Mad> stages;
  const auto& list = output["transforms"];
  const int64_t classes = int64_t(served.input.class_names.size());
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object() || list[i].value("name", "") != "mad") continue;
    const std::string at = path + ".transforms[" + std::to_string(i) + "]";
    nlohmann::json reported;
    const MadSpec spec = madSpecFromJson(list[i], at, reported);
    stages.push_back({MadSurrogate(spec.surrogate, spec.seed, served.input.shape, classes, at + ".surrogate"),
                      spec.epsilon});
  }
  if (stages.empty()) return;
  const Normalisation normalisation{served.input.divide_by, served.input.mean, served.input.std};
  const std::vector<int64_t> shape = served.input.shape;
  served.forward = [inner = std::move(served.forward), stages, normalisation, shape](const ClassifyRequest& r) {
    ProbBatch y = inner(r);
    std::vector<int64_t> sizes{r.batch};
    sizes.insert(sizes.end(), shape.begin(), shape.end());
    // The query as the model saw it: the same normalise() on the raw values.
    const torch::Tensor raw = torch::from_blob(const_cast<float*>(r.values.data()), sizes, torch::kFloat32);
    const torch::Tensor x = normalise(raw, normalisation).to(torch::kFloat32).contiguous();
    for (const Mad& m : stages)
      y = madDefense(std::move(y), m.surrogate.lastLayer(x.data_ptr<float>(), r.batch), m.epsilon);
    return y;
  };
}

} // namespace distillery
