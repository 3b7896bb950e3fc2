#include "core/analysis/hyperparam_points.h"

#include "core/base/json_flatten.h"
#include "core/analysis/run_summary_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

namespace distillery {

namespace {

std::map<std::string, std::string> configFields(const RunRecord& run) {
  try {
    const nlohmann::json config = nlohmann::json::parse(run.config_json);
    if (config.is_object()) return flattenJson(config);
  } catch (const std::exception&) {
    // An unreadable config has no keys to plot.
  }
  return {};
}

std::optional<double> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A summary value by dotted key ("teacher_cache.rows"), when it is a finite number.
std::optional<double> metricValue(const RunRecord& run, const std::string& key) {
  if (!run.summary.is_object()) return std::nullopt;
  const auto it = run.summary.find(key);
  if (it != run.summary.end() && it->is_number()) {
    const double v = it->get<double>();
    if (std::isfinite(v)) return v;
    return std::nullopt;
  }
  const auto flat = flattenJson(run.summary);
  const auto f = flat.find(key);
  return f == flat.end() ? std::nullopt : number(f->second);
}

bool categoryLess(const std::string& a, const std::string& b) {
  const auto x = number(a), y = number(b);
  if (x && y) return *x < *y;
  if (x.has_value() != y.has_value()) return x.has_value();
  return a < b;
}

} // namespace

HyperparamScatter hyperparamScatter(const std::vector<RunRecord>& runs, const std::string& x_key,
                                    const std::string& y_metric) {
  HyperparamScatter out;
  out.x_key = x_key;
  out.y_metric = y_metric;
  for (const RunRecord& run : runs) {
    const auto fields = configFields(run);
    const auto x = fields.find(x_key);
    const auto y = metricValue(run, y_metric);
    if (x == fields.end() || !y) {
      out.missing.push_back(run.id);
      continue;
    }
    HyperparamPoint p;
    p.run_id = run.id;
    p.label = runLabel(run.id, run.name);
    p.x_text = x->second;
    p.y = *y;
    out.points.push_back(std::move(p));
  }
  for (const HyperparamPoint& p : out.points)
    if (!number(p.x_text)) out.x_numeric = false;
  if (out.x_numeric) {
    for (HyperparamPoint& p : out.points) p.x = *number(p.x_text);
    return out;
  }
  std::set<std::string> seen;
  for (const HyperparamPoint& p : out.points) seen.insert(p.x_text);
  out.categories.assign(seen.begin(), seen.end());
  std::sort(out.categories.begin(), out.categories.end(), categoryLess);
  for (HyperparamPoint& p : out.points)
    p.x = double(std::find(out.categories.begin(), out.categories.end(), p.x_text) - out.categories.begin());
  return out;
}

HyperparamKeys hyperparamKeys(const std::vector<RunRecord>& runs) {
  std::map<std::string, std::set<std::string>> values;
  std::map<std::string, size_t> present;
  std::set<std::string> metrics;
  for (const RunRecord& run : runs) {
    for (const auto& [key, value] : configFields(run)) {
      values[key].insert(value);
      ++present[key];
    }
    if (run.summary.is_object())
      for (const auto& [key, value] : flattenJson(run.summary))
        if (number(value)) metrics.insert(key);
  }
  HyperparamKeys keys;
  std::vector<std::string> constant;
  for (const auto& [key, seen] : values) {
    if (key == "name") continue; // one per run: nothing to plot against
    const bool varies = seen.size() > 1 || present[key] < runs.size();
    (varies ? keys.config_keys : constant).push_back(key);
  }
  keys.varying = keys.config_keys.size();
  keys.config_keys.insert(keys.config_keys.end(), constant.begin(), constant.end());
  keys.metrics.assign(metrics.begin(), metrics.end());
  return keys;
}

} // namespace distillery
