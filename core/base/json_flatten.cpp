#include "core/base/json_flatten.h"

#include <cstdio>

namespace distillery {

std::string scalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  if (v.is_null()) return "";
  return v.dump();
}

namespace {
void flattenInto(const nlohmann::json& v, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it)
      flattenInto(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  out[prefix] = scalarText(v);
}
} // namespace

std::map<std::string, std::string> flattenJson(const nlohmann::json& json) {
  std::map<std::string, std::string> out;
  flattenInto(json, "", out);
  return out;
}

} // namespace distillery
