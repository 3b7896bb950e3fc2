#include "core/config/sweep_spec.h"

#include "core/config/config_reader.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"

namespace distillery {

namespace {

// Beyond this a sweep is almost certainly a typo in the grid.
constexpr size_t kMaxSweepRuns = 10000;

std::vector<std::string> splitKey(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool startsWithPath(const std::string& key, const std::string& prefix) {
  return key == prefix || key.rfind(prefix + ".", 0) == 0;
}

// The message of a ConfigError without its "field: " prefix.
std::string detailOf(const ConfigError& e) {
  const std::string text = e.what();
  const std::string prefix = e.field() + ": ";
  return text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : text;
}

// Sets root[a][b]...[z] = value for the dotted key "a.b...z"; missing
// intermediate objects are created.
void setPath(nlohmann::json& root, const std::string& key, const nlohmann::json& value,
             const std::string& where) {
  const auto parts = splitKey(key);
  nlohmann::json* node = &root;
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path += (path.empty() ? "" : ".") + parts[i];
    nlohmann::json& child = (*node)[parts[i]];
    if (child.is_null()) child = nlohmann::json::object();
    if (!child.is_object())
      throw ConfigError(where + ": " + path, "is " + jsonTypeName(child) + " in the base, so \"" + key +
                                                 "\" cannot be set inside it");
    node = &child;
  }
  (*node)[parts.back()] = value;
}

std::string methodNameOf(const nlohmann::json& config) {
  auto m = config.find("method");
  if (m != config.end() && m->is_object()) {
    auto n = m->find("name");
    if (n != m->end() && n->is_string()) return n->get<std::string>();
  }
  return MethodConfig{}.name;
}

// Keeps only "name" and the parameters the method's schema lists.
void dropForeignMethodParams(nlohmann::json& config) {
  auto m = config.find("method");
  if (m == config.end() || !m->is_object()) return;
  const MethodInfo* info = findMethod(methodNameOf(config));
  if (!info) return; // validation reports the unknown name
  for (auto it = m->begin(); it != m->end();) {
    if (it.key() != "name" && !info->param(it.key()))
      it = m->erase(it);
    else
      ++it;
  }
}

struct Entry {
  std::string label; // "key=value,key=value"
  nlohmann::json config;
};

std::vector<Entry> expandJson(const SweepSpec& spec) {
  const size_t total = sweepSize(spec);
  const std::string base_method = methodNameOf(spec.base);
  std::vector<Entry> out;
  out.reserve(total);
  std::vector<size_t> index(spec.grid.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    Entry e;
    e.config = spec.base;
    bool method_switched = false;
    for (size_t k = 0; k < spec.grid.size(); ++k) {
      const SweepAxis& axis = spec.grid[k];
      const nlohmann::json& value = axis.values[index[k]];
      e.label += (k ? "," : "") + axis.key + "=" + sweepValueText(value);
      if (axis.key == "method.name" && !(value.is_string() && value.get<std::string>() == base_method))
        method_switched = true;
    }
    const std::string where = spec.grid.empty() ? "base" : "grid[" + e.label + "]";
    if (!e.config.is_object()) throw ConfigError("base", "expected an object");
    for (size_t k = 0; k < spec.grid.size(); ++k) setPath(e.config, spec.grid[k].key, spec.grid[k].values[index[k]], where);
    if (method_switched) dropForeignMethodParams(e.config);
    e.config["name"] = spec.grid.empty() ? spec.name : spec.name + "/" + e.label;
    out.push_back(std::move(e));
    // Odometer: the last key varies fastest.
    for (size_t k = spec.grid.size(); k-- > 0;) {
      if (++index[k] < spec.grid[k].values.size()) break;
      index[k] = 0;
    }
  }
  return out;
}

nlohmann::json optimJson(const OptimConfig& o) {
  nlohmann::json j = {{"name", o.name}, {"lr", o.lr}, {"weight_decay", o.weight_decay}};
  if (o.name == "sgd") j["momentum"] = o.momentum;
  return j;
}

} // namespace

std::string sweepValueText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("zoo")) {
    try {
      return describe(modelSpecFromJson(value, "value"));
    } catch (const std::exception&) {
      // Not a valid model spec: validation will say so; show it as written.
    }
  }
  // A method object: its name, then its parameters, e.g. "dkd(warmup=1)".
  if (value.is_object() && value.contains("name") && value["name"].is_string()) {
    std::string text = value["name"].get<std::string>();
    std::string params;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key() == "name") continue;
      params += (params.empty() ? "" : ",") + it.key() + "=" + sweepValueText(it.value());
    }
    return params.empty() ? text : text + "(" + params + ")";
  }
  return value.dump();
}

SweepSpec parseSweep(const nlohmann::json& json) {
  if (!json.is_object())
    throw ConfigError("sweep", "expected an object with \"name\", \"base\" and \"grid\", got " + jsonTypeName(json));
  for (auto it = json.begin(); it != json.end(); ++it)
    if (it.key() != "name" && it.key() != "base" && it.key() != "grid")
      throw ConfigError(it.key(), "unknown key in the sweep file; allowed: name, base, grid");
  SweepSpec spec;
  spec.source = json;
  if (json.contains("name")) {
    const auto& name = json["name"];
    if (!name.is_string() || name.get<std::string>().empty())
      throw ConfigError("name", "expected a non-empty string, got " +
                                    (name.is_string() ? std::string("an empty string") : jsonTypeName(name)));
    spec.name = name.get<std::string>();
  }
  if (!json.contains("base"))
    throw ConfigError("base", "required: the run config every sweep entry starts from");
  if (!json["base"].is_object())
    throw ConfigError("base", "expected a run config object, got " + jsonTypeName(json["base"]));
  spec.base = json["base"];
  if (json.contains("grid")) {
    const auto& grid = json["grid"];
    if (!grid.is_object())
      throw ConfigError("grid", "expected an object mapping config keys to lists of values, got " +
                                    jsonTypeName(grid));
    size_t total = 1;
    for (auto it = grid.begin(); it != grid.end(); ++it) {
      const std::string field = "grid." + it.key();
      if (it.key().empty()) throw ConfigError("grid", "a key is empty; expected a config path such as \"seed\"");
      for (const auto& part : splitKey(it.key()))
        if (part.empty())
          throw ConfigError(field, "not a config path; expected dotted keys such as \"method.temperature\"");
      if (it.key() == "name")
        throw ConfigError(field, "run names are generated from the sweep name and the grid values");
      if (!it.value().is_array())
        throw ConfigError(field, "expected a list of values, got " + jsonTypeName(it.value()));
      if (it.value().empty()) throw ConfigError(field, "expected at least one value, got an empty list");
      SweepAxis axis;
      axis.key = it.key();
      for (const auto& v : it.value()) axis.values.push_back(v);
      total *= axis.values.size();
      if (total > kMaxSweepRuns)
        throw ConfigError("grid", "expands to more than " + std::to_string(kMaxSweepRuns) + " runs");
      spec.grid.push_back(std::move(axis));
    }
  }
  return spec;
}

SweepSpec parseSweepText(const std::string& text) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range for a number like 1e400
    throw ConfigError("sweep", std::string("not valid JSON (") + e.what() + ")");
  }
  return parseSweep(json);
}

size_t sweepSize(const SweepSpec& spec) {
  size_t total = 1;
  for (const auto& axis : spec.grid) total *= axis.values.size();
  return total;
}

std::vector<RunConfig> expandSweep(const SweepSpec& spec) {
  std::vector<RunConfig> out;
  for (const Entry& e : expandJson(spec)) {
    const std::string where = spec.grid.empty() ? "base" : "grid[" + e.label + "]";
    try {
      out.push_back(RunConfig::fromJson(e.config));
    } catch (const ConfigError& err) {
      throw ConfigError(where + ": " + err.field(), detailOf(err));
    } catch (const std::exception& err) {
      throw ConfigError(where, err.what());
    }
  }
  return out;
}

// Keys that change what the teacher's inputs look like (scaling, size,
// channels, classes): a teacher trained once could not serve every run.
static bool variesTeacherInputs(const std::string& key) {
  for (const char* k : {"data.mean", "data.std", "data.divide_by", "data.image_size", "data.channels", "data.labels",
                        "data.label_column", "data.separator", "data.header"})
    if (startsWithPath(key, k)) return true;
  return false;
}

SweepPlan planSweep(const SweepSpec& spec) {
  SweepPlan plan;
  plan.runs = expandSweep(spec);
  // A grid that varies the teacher, or the dataset it learns from, keeps the
  // engine's per-run teacher.
  for (const auto& axis : spec.grid)
    if (startsWithPath(axis.key, "teacher") || axis.key == "data" || startsWithPath(axis.key, "data.path") ||
        startsWithPath(axis.key, "data.dataset") || variesTeacherInputs(axis.key))
      return plan;
  const RunConfig* first = nullptr;
  for (const RunConfig& c : plan.runs)
    if (c.isDistill() && c.teacher.kind == TeacherSource::Kind::Zoo) {
      first = &c;
      break;
    }
  if (!first) return plan;

  nlohmann::json t = spec.base;
  for (const char* key : {"teacher", "student", "method", "teacher_cache", "transfer"}) t.erase(key);
  t["task"] = "train";
  t["name"] = spec.name + "/teacher";
  t["model"] = toJson(first->teacher.model);
  t["epochs"] = first->teacher.train_epochs;
  t["batch_size"] = first->teacher.train_batch_size;
  t["optim"] = optimJson(first->teacher.train_optim);
  try {
    plan.teacher = RunConfig::fromJson(t);
  } catch (const ConfigError& err) {
    throw ConfigError("teacher (trained once for the sweep): " + err.field(), detailOf(err));
  }
  return plan;
}

} // namespace distillery
