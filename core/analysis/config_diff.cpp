#include "core/analysis/config_diff.h"

#include "core/base/json_flatten.h"
#include "core/store/run_store.h"

#include <map>
#include <set>

namespace distillery {

nlohmann::json currentRunConfig(const RunRecord& run) {
  nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return nlohmann::json::object();
  if (config.contains("name")) config["name"] = run.name;
  return config;
}

std::vector<ConfigDiffRow> diffConfigs(const std::vector<nlohmann::json>& configs, bool only_differing) {
  std::vector<std::map<std::string, std::string>> flat;
  flat.reserve(configs.size());
  std::set<std::string> keys; // sorted, so rows come out sorted by key
  for (const nlohmann::json& c : configs) {
    flat.push_back(flattenJson(c));
    for (const auto& kv : flat.back()) keys.insert(kv.first);
  }

  std::vector<ConfigDiffRow> rows;
  for (const std::string& key : keys) {
    ConfigDiffRow row;
    row.key = key;
    // A run lacking the key differs from one that has it, even with an empty value.
    std::vector<bool> present;
    for (const auto& f : flat) {
      const auto it = f.find(key);
      present.push_back(it != f.end());
      row.values.push_back(it != f.end() ? it->second : std::string());
    }
    for (size_t i = 1; i < row.values.size() && !row.differs; ++i)
      row.differs = row.values[i] != row.values[0] || present[i] != present[0];
    if (only_differing && !row.differs) continue;
    rows.push_back(std::move(row));
  }
  return rows;
}

TableData configDiffTable(const std::vector<ConfigDiffRow>& rows, const std::vector<std::string>& run_headers) {
  TableData t;
  t.headers.push_back("Config key");
  t.numeric.push_back(false);
  for (const std::string& h : run_headers) {
    t.headers.push_back(h);
    t.numeric.push_back(false);
  }
  for (const ConfigDiffRow& r : rows) {
    std::vector<std::string> cells{r.key};
    for (size_t i = 0; i < run_headers.size(); ++i) cells.push_back(i < r.values.size() ? r.values[i] : std::string());
    t.rows.push_back(std::move(cells));
  }
  // Rows mix keys of every type, so no column is numeric: all cells align left.
  return t;
}

} // namespace distillery
