#pragma once
// Sweeps: one base run config and a grid of values to vary, expanded into
// one run config per grid point.
//
// Sweep file format (JSON):
//
//   { "name": "fmnist-methods",
//     "base": { ...a full run config, e.g. task "distill"... },
//     "grid": { "method.name": ["kd", "none"],
//               "seed": [0, 1, 2],
//               "student": [{"zoo": "mlp", "hidden": [128]},
//                           {"zoo": "cnn", "channels": [16], "fc": 64}] } }
//
// Top-level keys: "name" (optional string, default "sweep"), "base" (required
// object) and "grid" (optional object); any other key is an error.
//
// Each grid key is a dotted path into the run config ("seed",
// "method.temperature", "data.train_limit", "student", ...) and maps to a
// non-empty list of JSON values; the value replaces whatever the base holds at
// that path (intermediate objects are created when missing). The sweep is the
// cartesian product of all lists. Keys are taken in alphabetical order (the
// order nlohmann::json iterates objects in); the first key varies slowest, so
// the expansion order is deterministic. "name" cannot be a grid key: each
// expanded run is named "<sweep name>/<key>=<value>,<key>=<value>..." with a
// short text for each value (strings unquoted, model specs as e.g. "mlp[128]").
//
// Setting "method.name" to a method other than the base's drops the base's
// method parameters that the new method does not accept, so a kd temperature
// in the base does not break a "none" entry. Every expanded config is checked
// with RunConfig::fromJson; an error names the grid entry and the field, e.g.
// "grid[method.name=magic]: method.name: unknown method ...".
//
// Shared teacher: when the expanded runs distill from a zoo teacher and no grid
// key touches "teacher", the sweep trains that teacher once, as a run of task
// "train" named "<sweep name>/teacher" (the base's data, seed, device and
// other settings; model, epochs, batch size and optimiser from the teacher
// spec), and every expanded run names it as {"run": ID}.
#include "core/config/run_config.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct SweepAxis {
  std::string key;                  // dotted config path
  std::vector<nlohmann::json> values; // non-empty
};

struct SweepSpec {
  std::string name = "sweep";
  nlohmann::json base = nlohmann::json::object(); // the base run config, as written
  std::vector<SweepAxis> grid;                    // in expansion order
  nlohmann::json source = nlohmann::json::object(); // the whole sweep document
};

// Checks the sweep document's shape; throws ConfigError naming the field
// ("base", "grid.seed", ...). Does not validate the expanded configs.
SweepSpec parseSweep(const nlohmann::json& json);
// Parses text; invalid JSON is a ConfigError on "sweep".
SweepSpec parseSweepText(const std::string& text);

// Number of grid points (product of the list sizes; 1 for an empty grid).
size_t sweepSize(const SweepSpec& spec);

// The expanded run configs, validated, in expansion order. Throws ConfigError
// naming the grid entry and the field.
std::vector<RunConfig> expandSweep(const SweepSpec& spec);

// What a sweep will execute: the optional shared teacher run (task "train")
// and the expanded runs. When a teacher is present the runs still hold the zoo
// teacher spec; the runner replaces it with the teacher's run id once queued.
struct SweepPlan {
  std::optional<RunConfig> teacher;
  std::vector<RunConfig> runs;
};
SweepPlan planSweep(const SweepSpec& spec);

// Short text for a grid value, as used in run names.
std::string sweepValueText(const nlohmann::json& value);

} // namespace distillery
