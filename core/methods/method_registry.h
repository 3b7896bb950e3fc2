#pragma once
// Distillation methods and their parameter schemas. The GUI form and the CLI
// validation are generated from these entries, so a new method touches no GUI code.
// Torch-free; each entry's loss is the entry of the same name in
// core/methods/method_losses.h (tst_losses checks that none lacks one).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct MethodParam {
  std::string name;
  // "number" | "integer" | "layer": the name of a layer of the teacher or the
  // student (core/models/feature_taps.h); a text value, empty for the model's default.
  std::string type = "number";
  double default_value = 0.0; // "number" and "integer" only, like min and max
  double min = 0.0;
  double max = 1.0;
  std::string help;
  std::string default_text; // "layer" only

  bool isText() const { return type == "layer"; }
};

struct MethodInfo {
  std::string name;
  std::string title;
  std::string description;
  std::string teacher_access; // "none", "logits", "top1", "topk", "text" (generated text only)
  bool needs_teacher = true;
  std::vector<MethodParam> params;
  // The runs it applies to: "distill" (image classification), "lm" (language
  // models, core/lm/lm_losses.h) or "any" (both, e.g. "none").
  std::string task = "distill";
  // Reads intermediate activations ("teacher_layer", "student_layer"): the
  // teacher runs live on every batch, its outputs are never cached.
  bool needs_features = false;
  // Regresses the teacher's raw logits (not only their softmax): an API that
  // returns probabilities cannot teach it (core/config/api_teacher_config.h).
  bool reads_raw_logits = false;

  bool appliesTo(const std::string& run_task) const { return task == "any" || task == run_task; }

  const MethodParam* param(const std::string& key) const;
  // Schema defaults overlaid with the given values: numeric parameters, then text ones.
  std::map<std::string, double> resolve(const std::map<std::string, double>& given) const;
  std::map<std::string, std::string> resolveText(const std::map<std::string, std::string>& given) const;
};

// Every method, image and language-model ones alike; names are unique.
const std::vector<MethodInfo>& methodRegistry();
const MethodInfo* findMethod(const std::string& name);
std::vector<std::string> methodNames();
// The methods a run of this task ("distill" or "lm") may use, in registry order.
std::vector<const MethodInfo*> methodsForTask(const std::string& task);
std::vector<std::string> methodNamesForTask(const std::string& task);

} // namespace distillery
