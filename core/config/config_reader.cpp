#include "core/config/config_reader.h"
#include "core/base/number_format.h"

#include <cmath>
#include <sstream>

namespace distillery {

std::string jsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
  case nlohmann::json::value_t::null: return "null";
  case nlohmann::json::value_t::boolean: return "a boolean";
  case nlohmann::json::value_t::string: return "a string";
  case nlohmann::json::value_t::array: return "an array";
  case nlohmann::json::value_t::object: return "an object";
  default: return "a number";
  }
}

std::string jsonErrorText(const nlohmann::json::exception& e) {
  std::string text = e.what();
  const size_t tag = text.find("] ");
  if (text.rfind("[json.exception.", 0) == 0 && tag != std::string::npos) text.erase(0, tag + 2);
  if (text.rfind("parse error ", 0) == 0) text.erase(0, 12); // "at line 1, column 11: ..."
  const size_t syntax = text.find("syntax error while parsing ");
  const size_t dash = syntax == std::string::npos ? syntax : text.find(" - ", syntax);
  if (dash != std::string::npos) text.erase(syntax, dash + 3 - syntax);
  return text;
}

namespace {
const nlohmann::json& emptyObject() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}
} // namespace

ConfigReader::ConfigReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object())
    throw ConfigError(path_.empty() ? "config" : path_,
                      "expected an object, got " + jsonTypeName(object_));
}

std::string ConfigReader::field(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool ConfigReader::has(const std::string& key) const { return object_.contains(key); }

const nlohmann::json* ConfigReader::get(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

void ConfigReader::accept(const std::string& key) { known_.insert(key); }

std::string ConfigReader::string(const std::string& key, const std::string& fallback) {
  const auto* v = get(key);
  if (!v) return fallback;
  if (!v->is_string()) throw ConfigError(field(key), "expected a string, got " + jsonTypeName(*v));
  return v->get<std::string>();
}

std::string ConfigReader::oneOf(const std::string& key, const std::string& fallback,
                                std::initializer_list<const char*> allowed) {
  std::string value = string(key, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  throw ConfigError(field(key), "unknown value \"" + value + "\"; allowed: " + list);
}

std::string ConfigReader::oneOf(const std::string& key, const std::string& fallback,
                                const std::vector<std::string>& allowed) {
  std::string value = string(key, fallback);
  std::string list;
  for (const std::string& a : allowed) {
    if (value == a) return value;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  throw ConfigError(field(key), "unknown value \"" + value + "\"; allowed: " + list);
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  const auto* v = get(key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw ConfigError(field(key), "expected true or false, got " + jsonTypeName(*v));
  return v->get<bool>();
}

double ConfigReader::number(const std::string& key, double fallback, double min, double max) {
  const auto* v = get(key);
  if (!v) return fallback;
  if (!v->is_number()) throw ConfigError(field(key), "expected a number, got " + jsonTypeName(*v));
  double value = v->get<double>();
  if (!std::isfinite(value) || value < min || value > max)
    throw ConfigError(field(key), "value " + plainNumber(value) + " is out of range [" +
                                      plainNumber(min) + ", " + plainNumber(max) + "]");
  return value;
}

int64_t ConfigReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const auto* v = get(key);
  if (!v) return fallback;
  if (!v->is_number_integer())
    throw ConfigError(field(key), "expected an integer, got " +
                                      (v->is_number() ? std::string("a fractional number") : jsonTypeName(*v)));
  int64_t value = v->get<int64_t>();
  if (value < min || value > max)
    throw ConfigError(field(key), "value " + std::to_string(value) + " is out of range [" +
                                      std::to_string(min) + ", " + std::to_string(max) + "]");
  return value;
}

std::vector<int> ConfigReader::intList(const std::string& key, const std::vector<int>& fallback,
                                       int min, int max) {
  const auto* v = get(key);
  if (!v) return fallback;
  if (!v->is_array())
    throw ConfigError(field(key), "expected an array of integers, got " + jsonTypeName(*v));
  std::vector<int> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    std::string f = field(key) + "[" + std::to_string(i) + "]";
    if (!e.is_number_integer()) throw ConfigError(f, "expected an integer, got " + jsonTypeName(e));
    int64_t x = e.get<int64_t>();
    if (x < min || x > max)
      throw ConfigError(f, "value " + std::to_string(x) + " is out of range [" + std::to_string(min) +
                               ", " + std::to_string(max) + "]");
    out.push_back(int(x));
  }
  return out;
}

const nlohmann::json& ConfigReader::object(const std::string& key) {
  const auto* v = get(key);
  if (!v) return emptyObject();
  if (!v->is_object()) throw ConfigError(field(key), "expected an object, got " + jsonTypeName(*v));
  return *v;
}

void ConfigReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (known_.count(it.key())) continue;
    std::string allowed;
    for (const auto& k : known_) allowed += (allowed.empty() ? "" : ", ") + k;
    throw ConfigError(field(it.key()), "unknown key; allowed here: " + allowed);
  }
}

} // namespace distillery
