#include "core/config/api_teacher_config.h"

#include "core/config/config_reader.h"
#include "core/methods/method_registry.h"

namespace distillery {

ApiTeacherConfig apiTeacherConfigFromJson(const nlohmann::json& json) {
  ConfigReader r(json, "teacher.api");
  ApiTeacherConfig a;
  if (!r.has("url")) throw ConfigError("teacher.api.url", "missing: the API's address, e.g. \"http://127.0.0.1:8311\"");
  a.url = r.string("url", a.url);
  if (a.url.rfind("http://", 0) != 0)
    throw ConfigError("teacher.api.url", "expected an http:// address such as \"http://127.0.0.1:8311\", got \"" +
                                              a.url + "\"" +
                                              (a.url.rfind("https://", 0) == 0 ? " (https is not supported: put a "
                                                                                 "TLS proxy in front, or tunnel)"
                                                                               : ""));
  while (!a.url.empty() && a.url.back() == '/') a.url.pop_back();
  a.key_env = r.string("key_env", a.key_env);
  if (a.key_env.empty()) throw ConfigError("teacher.api.key_env", "expected the name of an environment variable");
  if (!r.has("max_queries"))
    throw ConfigError("teacher.api.max_queries", "missing: how many training answers the run may buy");
  a.max_queries = r.integer("max_queries", 0, 1, int64_t(1) << 40);
  a.batch = r.integer("batch", a.batch, 1, 1 << 20);
  a.reference_run = r.integer("reference_run", 0, 0, INT64_MAX);
  a.measure_benign = r.boolean("measure_benign", a.measure_benign);
  a.retries = int(r.integer("retries", a.retries, 0, 100));
  a.timeout_s = r.number("timeout_s", a.timeout_s, 0.1, 3600.0);
  a.cache_dir = r.string("cache_dir", a.cache_dir);
  r.finish();
  return a;
}

nlohmann::json toJson(const ApiTeacherConfig& a) {
  nlohmann::json j = {{"url", a.url},           {"key_env", a.key_env},       {"max_queries", a.max_queries},
                      {"batch", a.batch},       {"measure_benign", a.measure_benign}, {"retries", a.retries},
                      {"timeout_s", a.timeout_s}};
  if (a.reference_run > 0) j["reference_run"] = a.reference_run;
  if (!a.cache_dir.empty()) j["cache_dir"] = a.cache_dir;
  return j;
}

QueryConfig queryConfigFromJson(const nlohmann::json& json) {
  ConfigReader r(json, "queries");
  QueryConfig q;
  q.strategy = r.oneOf("strategy", q.strategy, {"train", "transfer", "noise", "active"});
  if (r.has("data")) {
    if (q.strategy == "train" || q.strategy == "noise")
      throw ConfigError("queries.data", "used only by the strategies \"transfer\" and \"active\"");
    q.data = dataConfigFromJson(r.object("data"), "queries.data");
    if (q.data->augment.any()) throw ConfigError("queries.data.augment", "query inputs are not augmented");
  } else if (q.strategy == "transfer") {
    throw ConfigError("queries.data", "missing: strategy \"transfer\" sends another dataset's images, e.g. "
                                      "{\"dataset\": \"mnist\", \"path\": \"...\"}");
  }
  if (q.strategy == "active") {
    q.rounds = int(r.integer("rounds", q.rounds, 1, 1000));
    q.initial = r.number("initial", q.initial, 0.01, 1.0);
  } else {
    for (const char* key : {"rounds", "initial"})
      if (r.has(key)) throw ConfigError(std::string("queries.") + key, "used only by strategy \"active\"");
  }
  r.finish();
  return q;
}

nlohmann::json toJson(const QueryConfig& q) {
  nlohmann::json j = {{"strategy", q.strategy}};
  if (q.data) j["data"] = toJson(*q.data);
  if (q.strategy == "active") {
    j["rounds"] = q.rounds;
    j["initial"] = q.initial;
  }
  return j;
}

std::string apiMethodMismatch(const std::string& method, const std::string& output_mode) {
  const MethodInfo* info = findMethod(method);
  auto why = [&](const MethodInfo& m) -> std::string {
    if (!m.needs_teacher) return "learns from labels alone, and an API student sees no labels";
    if (m.needs_features) return "reads the teacher's intermediate features, which an API does not return";
    if (m.reads_raw_logits) return "regresses the teacher's raw logits; an API returns probabilities at most";
    if (m.teacher_access == "text") return "distills generated text (language models)";
    if (output_mode == "label" && m.teacher_access != "top1")
      return "needs the teacher's probabilities; this API returns only labels (output mode \"label\")";
    return {};
  };
  if (!info) return "unknown method \"" + method + "\"";
  const std::string reason = why(*info);
  if (reason.empty()) return {};
  std::string fitting;
  for (const MethodInfo* m : methodsForTask("distill"))
    if (why(*m).empty()) fitting += (fitting.empty() ? "" : ", ") + m->name;
  // Read from a config alone, the API's mode is not known yet: name what fits any API that returns probabilities.
  const std::string which = output_mode == "probs" ? std::string("an API that returns probabilities")
                                                   : "an API with output mode \"" + output_mode + "\"";
  return "method \"" + method + "\" " + reason + "; methods that fit " + which + ": " + fitting;
}

} // namespace distillery
