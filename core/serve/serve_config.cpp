#include "core/serve/serve_config.h"

#include "core/base/errors.h"
#include "core/config/config_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace distillery {

int64_t ServedInput::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

nlohmann::json ServedInput::toJson() const {
  return {{"shape", shape},
          {"classes", class_names},
          {"preprocessing", {{"divide_by", divide_by}, {"mean", mean}, {"std", std}}}};
}

namespace {

std::vector<double> numberList(const nlohmann::json& v, const std::string& field, size_t channels) {
  if (!v.is_array() || v.empty()) throw ConfigError(field, "expected a non-empty list of numbers");
  std::vector<double> out;
  for (const auto& x : v) {
    if (!x.is_number()) throw ConfigError(field, "expected numbers, got " + jsonTypeName(x));
    out.push_back(x.get<double>());
  }
  if (out.size() == 1) out.assign(channels, out[0]);
  if (out.size() != channels)
    throw ConfigError(field, "has " + std::to_string(out.size()) + " values; the input has " +
                                 std::to_string(channels) + " channels (give 1 value or " + std::to_string(channels) + ")");
  return out;
}

ServedInput readInput(const nlohmann::json& j, const std::string& path) {
  ConfigReader r(j, path);
  ServedInput in;
  r.accept("shape");
  if (!j.contains("shape") || !j["shape"].is_array() || j["shape"].empty() || j["shape"].size() > 3)
    throw ConfigError(r.field("shape"), "expected [C, H, W] for images or [F] for tables");
  for (const auto& d : j["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > 1 << 16)
      throw ConfigError(r.field("shape"), "expected positive integers");
    in.shape.push_back(d.get<int64_t>());
  }
  if (in.numel() > (int64_t(1) << 24)) throw ConfigError(r.field("shape"), "an input of over 16M values is too large");
  r.accept("classes");
  const auto* classes = j.contains("classes") ? &j["classes"] : nullptr;
  if (classes && classes->is_number_integer() && classes->get<int64_t>() >= 2 && classes->get<int64_t>() <= 100000) {
    for (int64_t c = 0; c < classes->get<int64_t>(); ++c) in.class_names.push_back(std::to_string(c));
  } else if (classes && classes->is_array() && classes->size() >= 2) {
    for (const auto& c : *classes) {
      if (!c.is_string()) throw ConfigError(r.field("classes"), "expected class names (strings)");
      in.class_names.push_back(c.get<std::string>());
    }
  } else {
    throw ConfigError(r.field("classes"), "expected the number of classes (at least 2) or their names");
  }
  const nlohmann::json& pre = r.object("preprocessing");
  ConfigReader p(pre, r.field("preprocessing"));
  in.divide_by = p.number("divide_by", 255.0, 1e-12, 1e12);
  const size_t channels = size_t(in.shape.size() == 3 ? in.shape[0] : in.shape.back());
  p.accept("mean");
  p.accept("std");
  in.mean = pre.contains("mean") ? numberList(pre["mean"], p.field("mean"), channels) : std::vector<double>(channels, 0.0);
  in.std = pre.contains("std") ? numberList(pre["std"], p.field("std"), channels) : std::vector<double>(channels, 1.0);
  for (double s : in.std)
    if (!(s > 0)) throw ConfigError(p.field("std"), "every value must be > 0");
  p.finish();
  r.finish();
  return in;
}

ApiKey readKey(const nlohmann::json& j, const std::string& path) {
  ConfigReader r(j, path);
  ApiKey k;
  k.name = r.string("name", "");
  if (k.name.empty()) throw ConfigError(r.field("name"), "expected a non-empty name (it is what the log records)");
  k.secret = r.string("key", "");
  if (k.secret.size() < 8) throw ConfigError(r.field("key"), "expected a secret of at least 8 characters");
  for (char c : k.secret)
    if (c <= ' ' || c > '~') throw ConfigError(r.field("key"), "expected printable ASCII without spaces");
  k.budget = r.integer("budget", 0, 0, int64_t(1) << 53);
  if (!r.has("budget")) throw ConfigError(r.field("budget"), "missing: the number of queries this key may make");
  k.rate_per_s = r.number("rate_per_s", 10, 1e-6, 1e9);
  k.burst = r.number("burst", std::max(1.0, 2 * k.rate_per_s), 1, 1e9);
  r.finish();
  return k;
}

} // namespace

ServeConfig ServeConfig::fromJson(const nlohmann::json& j, const std::string& config_path) {
  ConfigReader r(j, "");
  ServeConfig c;
  r.accept("keys");
  if (!j.contains("keys") || !j["keys"].is_array() || j["keys"].empty())
    throw ConfigError("keys", "expected a list of API keys: [{\"name\": ..., \"key\": ..., \"budget\": ...}]");
  std::set<std::string> names, secrets;
  for (size_t i = 0; i < j["keys"].size(); ++i) {
    const std::string field = "keys[" + std::to_string(i) + "]";
    ApiKey k = readKey(j["keys"][i], field);
    if (!names.insert(k.name).second) throw ConfigError(field + ".name", "\"" + k.name + "\" is used twice");
    if (!secrets.insert(k.secret).second) throw ConfigError(field + ".key", "the same secret is used twice");
    c.keys.push_back(std::move(k));
  }
  c.price_per_1000 = r.number("price_per_1000", 0, 0, 1e12);
  c.currency = r.string("currency", "USD");
  c.max_batch = r.integer("max_batch", 256, 1, 1 << 20);
  c.max_body_bytes = r.integer("max_body_bytes", 16 << 20, 1024, int64_t(1) << 32);
  c.threads = int(r.integer("threads", 8, 1, 256));
  r.accept("output"); // known even when absent: finish() lists them among the allowed keys
  r.accept("input");
  if (r.has("output")) c.output = r.object("output");
  if (r.has("input")) c.input = readInput(r.object("input"), "input");
  const std::filesystem::path config(config_path);
  const std::string log = r.string("log", "");
  if (log.empty()) {
    c.log_path = (config.parent_path() / (config.stem().string() + ".log.sqlite")).string();
  } else {
    const std::filesystem::path p(log);
    c.log_path = p.is_absolute() ? p.string() : (config.parent_path() / p).string();
  }
  r.finish();
  return c;
}

ServeConfig ServeConfig::fromJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, std::string("cannot read the serve config (") + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path, "not valid JSON (" + jsonErrorText(e) + ")");
  }
  try {
    return fromJson(j, path);
  } catch (const ConfigError& e) { // "serve.json: keys[0].budget: ..."
    const std::string what = e.what();
    throw ConfigError(path + ": " + e.field(), what.substr(e.field().size() + 2));
  }
}

} // namespace distillery
