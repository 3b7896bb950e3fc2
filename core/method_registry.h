#pragma once
// Distillation methods and their parameter schemas. The GUI form and the CLI
// validation are generated from these entries, so a new method touches no GUI code.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct MethodParam {
  std::string name;
  std::string type = "number"; // "number" | "integer"
  double default_value = 0.0;
  double min = 0.0;
  double max = 1.0;
  std::string help;
};

struct MethodInfo {
  std::string name;
  std::string title;
  std::string description;
  std::string teacher_access; // "none", "logits", "top1", "topk", "text" (generated text only)
  bool needs_teacher = true;
  std::vector<MethodParam> params;
  // The runs it applies to: "distill" (image classification), "lm" (language
  // models, core/lm_losses.h) or "any" (both, e.g. "none").
  std::string task = "distill";

  bool appliesTo(const std::string& run_task) const { return task == "any" || task == run_task; }

  const MethodParam* param(const std::string& key) const;
  // Schema defaults overlaid with the given values.
  std::map<std::string, double> resolve(const std::map<std::string, double>& given) const;
};

// Every method, image and language-model ones alike; names are unique.
const std::vector<MethodInfo>& methodRegistry();
const MethodInfo* findMethod(const std::string& name);
std::vector<std::string> methodNames();
// The methods a run of this task ("distill" or "lm") may use, in registry order.
std::vector<const MethodInfo*> methodsForTask(const std::string& task);
std::vector<std::string> methodNamesForTask(const std::string& task);

} // namespace distillery
