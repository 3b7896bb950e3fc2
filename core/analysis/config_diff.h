#pragma once
// Configs of several runs side by side, key by key, with the keys whose
// values differ flagged, for the "only what differs" view and its exports.
#include "core/export/table_data.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace distillery {

struct RunRecord;

// A run's stored config with the run's current name in "name" (a rename
// changes the run, not the config it was created with); an unreadable config
// gives an empty object, shown as missing keys.
nlohmann::json currentRunConfig(const RunRecord& run);

struct ConfigDiffRow {
  std::string key;                 // dotted, e.g. "method.params.temperature"
  std::vector<std::string> values; // one per run; "" where a run lacks the key
  bool differs = false;
};

// Rows sorted by key. With only_differing, keys equal across all runs are left out.
std::vector<ConfigDiffRow> diffConfigs(const std::vector<nlohmann::json>& configs, bool only_differing);

// As a table: first column the key, then one column per run (headers given).
TableData configDiffTable(const std::vector<ConfigDiffRow>& rows, const std::vector<std::string>& run_headers);

} // namespace distillery
