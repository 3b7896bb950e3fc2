#include "core/method_registry.h"

namespace distillery {

const MethodParam* MethodInfo::param(const std::string& key) const {
  for (const auto& p : params)
    if (p.name == key) return &p;
  return nullptr;
}

std::map<std::string, double> MethodInfo::resolve(const std::map<std::string, double>& given) const {
  std::map<std::string, double> out;
  for (const auto& p : params) {
    auto it = given.find(p.name);
    out[p.name] = it == given.end() ? p.default_value : it->second;
  }
  return out;
}

const std::vector<MethodInfo>& methodRegistry() {
  static const std::vector<MethodInfo> registry = {
      {"kd", "Hinton KD",
       "alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)", "logits", true,
       {{"temperature", "number", 4.0, 0.05, 100.0, "Softmax temperature T for both models"},
        {"alpha", "number", 0.9, 0.0, 1.0, "Weight of the soft (teacher) term; 1 - alpha weighs CE"}}},
      {"none", "No teacher (from scratch)",
       "Cross-entropy on labels only: the baseline a distilled student must beat", "none", false, {}},
  };
  return registry;
}

const MethodInfo* findMethod(const std::string& name) {
  for (const auto& m : methodRegistry())
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> methodNames() {
  std::vector<std::string> names;
  for (const auto& m : methodRegistry()) names.push_back(m.name);
  return names;
}

} // namespace distillery
