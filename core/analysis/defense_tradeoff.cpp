#include "core/analysis/defense_tradeoff.h"

#include "core/analysis/run_summary_table.h"
#include "core/export/run_palette.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace distillery {

namespace {

const nlohmann::json* member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const nlohmann::json& object, const char* key) {
  const nlohmann::json* v = member(object, key);
  if (!v || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

std::optional<int64_t> count(const nlohmann::json& object, const char* key) {
  const auto d = number(object, key);
  if (!d || *d < 0) return std::nullopt;
  return int64_t(std::llround(*d));
}

std::string text(const nlohmann::json& object, const char* key) {
  const nlohmann::json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// A parameter value as a person writes it: 0.7, 3, true, "x".
std::string paramText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.dump();
}

// "name(a=1, b=2)", or "name" without parameters.
std::string describeStage(const nlohmann::json& stage, const char* name_key) {
  std::string name = text(stage, name_key);
  if (name.empty()) name = "?";
  std::string params;
  if (stage.is_object())
    for (const auto& [key, value] : stage.items()) {
      if (key == name_key) continue;
      params += (params.empty() ? "" : ", ") + key + "=" + paramText(value);
    }
  return params.empty() ? name : name + "(" + params + ")";
}

std::string methodOf(const RunRecord& run) {
  const nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  if (const nlohmann::json* method = member(config, "method")) {
    const std::string name = text(*method, "name");
    if (!name.empty()) return name;
  }
  const std::string from_summary = text(run.summary, "method");
  return from_summary.empty() ? "unknown method" : from_summary;
}

std::string percent(const std::optional<double>& fraction, int decimals) {
  if (!fraction) return "\u2013";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *fraction * 100);
  return buf;
}

// train (in-distribution) first: the usual attack and the usual reference; unknown last.
int strategyRank(const std::string& strategy) {
  static const char* const known[] = {"train", "transfer", "noise", "active"};
  for (int i = 0; i < 4; ++i)
    if (strategy == known[i]) return i;
  return strategy.empty() ? 5 : 4;
}

bool strategyBefore(const std::string& a, const std::string& b) {
  const int ra = strategyRank(a), rb = strategyRank(b);
  return ra != rb ? ra < rb : a < b;
}

} // namespace

std::string strategyLabel(const std::string& strategy) {
  return strategy.empty() ? "unknown strategy" : strategy;
}

std::string attackerLabel(const std::string& method, bool label_only) {
  return method + (label_only ? " (labels only)" : " (soft labels)");
}

std::string describeApiOutput(const nlohmann::json& output) {
  if (!output.is_object()) return {};
  std::string out;
  if (const nlohmann::json* transforms = member(output, "transforms"); transforms && transforms->is_array())
    for (const nlohmann::json& t : *transforms) out += describeStage(t, "name") + " + ";
  nlohmann::json mode = output;
  mode.erase("transforms");
  if (!mode.contains("mode")) mode["mode"] = "probs"; // the server's default mode
  return out + describeStage(mode, "mode");
}

std::vector<size_t> DefenseTradeoff::orderedPoints() const {
  std::vector<size_t> out;
  for (const DefenseSeries& s : series) out.insert(out.end(), s.points.begin(), s.points.end());
  return out;
}

DefenseTradeoff defenseTradeoff(const std::vector<RunRecord>& runs) {
  DefenseTradeoff t;
  for (const RunRecord& run : runs) {
    const nlohmann::json* api = member(run.summary, "api");
    if (!api || !api->is_object()) {
      t.not_api.push_back(run.id);
      continue;
    }
    DefensePoint p;
    p.run_id = run.id;
    p.run_label = runLabel(run.id, run.name);
    p.defense = text(*api, "defense");
    if (p.defense.empty())
      if (const nlohmann::json* output = member(*api, "output")) p.defense = describeApiOutput(*output);
    if (p.defense.empty()) p.defense = "unknown defense";
    p.method = methodOf(run);
    p.label_only = p.method == "hard_label";
    p.strategy = text(*api, "strategy");
    p.queries = count(*api, "queries");
    p.queries_bought = count(*api, "queries_bought");
    p.money = number(*api, "money");
    p.currency = text(*api, "currency");
    p.benign_accuracy = number(*api, "benign_accuracy");
    p.reference_test_accuracy = number(*api, "reference_test_accuracy");
    if (p.benign_accuracy && p.reference_test_accuracy) p.benign_cost = *p.reference_test_accuracy - *p.benign_accuracy;
    p.fidelity = number(*api, "fidelity");
    p.clone_accuracy = number(run.summary, "test_accuracy");
    t.points.push_back(std::move(p));
  }

  for (const DefensePoint& p : t.points)
    if (std::find(t.strategies.begin(), t.strategies.end(), p.strategy) == t.strategies.end())
      t.strategies.push_back(p.strategy);
  std::sort(t.strategies.begin(), t.strategies.end(), strategyBefore);

  // Series keyed by (defense, label-only, method, strategy): soft-label attackers first within a
  // defense. One line through runs of different strategies would jump between two attacks.
  std::map<std::tuple<std::string, bool, std::string, int, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < t.points.size(); ++i) {
    const DefensePoint& p = t.points[i];
    groups[{p.defense, p.label_only, p.method, strategyRank(p.strategy), p.strategy}].push_back(i);
  }
  std::map<std::string, uint32_t> defense_rgb;
  for (auto& [key, indices] : groups) {
    const auto& [defense, label_only, method, rank, strategy] = key;
    if (!defense_rgb.count(defense)) defense_rgb[defense] = runRgb(int64_t(defense_rgb.size()));
    // By queries, runs without a count last; ties by run id, so the order does not depend on the selection's.
    std::stable_sort(indices.begin(), indices.end(), [&](size_t a, size_t b) {
      const DefensePoint& pa = t.points[a];
      const DefensePoint& pb = t.points[b];
      if (pa.queries.has_value() != pb.queries.has_value()) return pa.queries.has_value();
      if (pa.queries && *pa.queries != *pb.queries) return *pa.queries < *pb.queries;
      return pa.run_id < pb.run_id;
    });
    DefenseSeries s;
    s.defense = defense;
    s.method = method;
    s.label_only = label_only;
    s.strategy = strategy;
    s.other_strategy = strategy != t.strategies.front();
    s.label = defense + " \u00b7 " + method;
    if (t.mixedStrategies()) s.label += ", " + strategyLabel(strategy);
    s.rgb = defense_rgb[defense];
    s.points = indices;
    t.series.push_back(std::move(s));
  }
  return t;
}

DefenseTradeoff defenseTradeoffFromStore(RunStore& store, const std::vector<int64_t>& run_ids) {
  std::vector<RunRecord> runs;
  for (int64_t id : run_ids)
    if (auto run = store.run(id)) runs.push_back(std::move(*run));
  return defenseTradeoff(runs);
}

TableData defenseTable(const DefenseTradeoff& tradeoff) {
  TableData table;
  table.caption = "Defenses: benign cost against clone fidelity";
  table.headers = {"Run", "Defense", "Attacker", "Strategy", "Queries", "Benign cost (pp)", "Clone accuracy (%)",
                   "Fidelity (%)"};
  table.numeric = {false, false, false, false, true, true, true, true};
  for (size_t i : tradeoff.orderedPoints()) {
    const DefensePoint& p = tradeoff.points[i];
    table.rows.push_back({p.run_label, p.defense, attackerLabel(p.method, p.label_only),
                          p.strategy.empty() ? "\u2013" : p.strategy,
                          p.queries ? std::to_string(*p.queries) : "\u2013", percent(p.benign_cost, 2),
                          percent(p.clone_accuracy, 2), percent(p.fidelity, 2)});
  }
  return table;
}

} // namespace distillery
