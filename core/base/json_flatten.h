#pragma once
// Nested JSON as dotted keys ("method.params.temperature" -> "4"), for
// config diffs, table filters and group-by. Arrays keep their JSON text
// ("student.hidden" -> "[128,64]") so a list stays one comparable value.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace distillery {

std::map<std::string, std::string> flattenJson(const nlohmann::json& json);
// Scalars as a researcher would type them: strings unquoted, numbers short.
std::string scalarText(const nlohmann::json& value);

} // namespace distillery
