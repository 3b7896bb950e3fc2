#include "core/analysis/run_summary_table.h"

#include "core/base/number_format.h"

#include <cmath>
#include <cstdio>

namespace distillery {

const std::vector<SummaryColumn>& summaryColumns() {
  static const std::vector<SummaryColumn> columns = {
      {"best_val_accuracy", "Best val acc (%)"},
      {"final_val_accuracy", "Final val acc (%)"},
      {"test_accuracy", "Test acc (%)"},
      {"test_agreement", "Agreement (%)"},
      {"test_kl", "KL (nats)"},
      {"final_val_perplexity", "Val perplexity"},
      {"params", "Params"},
      {"flops_per_sample", "FLOPs/sample"},
      {"compression", "Compression"},
      {"wall_s", "Wall time (s)"},
      {"samples_per_s", "Samples/s"},
      {"train_flops", "Train FLOPs"},
      {"teacher_queries", "Teacher queries"},
      {"money", "Money"},
  };
  return columns;
}

std::string runLabel(int64_t run_id, const std::string& name) {
  return "#" + std::to_string(run_id) + (name.empty() ? std::string() : " " + name);
}

namespace {
std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}
} // namespace

RunSummaryRow summarizeRun(const RunRecord& run, const RunRecord* teacher) {
  RunSummaryRow row;
  row.run_id = run.id;
  row.name = run.name;
  row.task = run.task;
  const nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  if (run.summary.contains("method") && run.summary["method"].is_string())
    row.method = run.summary["method"].get<std::string>();
  else if (run.task == "distill" && config.is_object() && config.contains("method") && config["method"].is_object() &&
           config["method"].contains("name") && config["method"]["name"].is_string())
    row.method = config["method"]["name"].get<std::string>();

  for (const SummaryColumn& c : summaryColumns())
    if (auto v = number(run.summary, c.key.c_str())) row.values[c.key] = *v;
  // Language-model runs have no test split: their agreement and KL are the
  // validation ones (per token), shown in the same columns.
  if (run.task == "lm") {
    if (auto v = number(run.summary, "val_agreement")) row.values.emplace("test_agreement", *v);
    if (auto v = number(run.summary, "val_kl")) row.values.emplace("test_kl", *v);
  }

  // Compression against the teacher, when the summary lacks it but both sizes are known.
  if (!row.values.count("compression") && row.values.count("params") && row.values["params"] > 0) {
    std::optional<double> teacher_params = number(run.summary, "teacher_params");
    if (!teacher_params && teacher) teacher_params = number(teacher->summary, "params");
    if (teacher_params) row.values["compression"] = *teacher_params / row.values["params"];
  }
  return row;
}

std::vector<RunSummaryRow> summarizeRuns(RunStore& store, const std::vector<int64_t>& run_ids) {
  std::vector<RunSummaryRow> rows;
  for (int64_t id : run_ids) {
    const auto run = store.run(id);
    if (!run) continue;
    std::optional<RunRecord> teacher;
    if (run->teacher_run_id) teacher = store.run(run->teacher_run_id);
    RunSummaryRow row = summarizeRun(*run, teacher ? &*teacher : nullptr);

    // A cancelled, failed or running run has no summary yet: its points still
    // tell how far it got and what it cost.
    if (!row.values.count("best_val_accuracy") || !row.values.count("final_val_accuracy")) {
      double best = NAN, last = NAN;
      for (const MetricPoint& p : store.points(id, "val_accuracy")) {
        if (!std::isfinite(p.value)) continue;
        if (!(best >= p.value)) best = p.value;
        last = p.value;
      }
      if (std::isfinite(best) && !row.values.count("best_val_accuracy")) row.values["best_val_accuracy"] = best;
      if (std::isfinite(last) && !row.values.count("final_val_accuracy")) row.values["final_val_accuracy"] = last;
    }
    if (!row.values.count("wall_s") || !row.values.count("train_flops")) {
      const auto train = store.points(id, "train_loss");
      if (!train.empty()) {
        const MetricPoint& p = train.back();
        row.values.emplace("wall_s", p.wall_s);
        row.values.emplace("train_flops", p.flops);
        row.values.emplace("teacher_queries", p.teacher_queries);
        row.values.emplace("money", p.money);
        if (p.wall_s > 0) row.values.emplace("samples_per_s", p.samples / p.wall_s);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string formatSummaryValue(const std::string& key, std::optional<double> value) {
  if (!value) return "-";
  const double v = *value;
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  char buf[64];
  if (key == "best_val_accuracy" || key == "final_val_accuracy" || key == "test_accuracy" ||
      key == "test_agreement" || key == "val_agreement" || key == "teacher_test_accuracy") {
    std::snprintf(buf, sizeof buf, "%.2f", 100.0 * v);
    return buf;
  }
  if (key == "final_val_perplexity") {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
  }
  if (key == "test_kl" || key == "val_kl") {
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
  }
  if (key == "compression") {
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0fx" : "%.1fx", v);
    return buf;
  }
  if (key == "wall_s") {
    // Two significant digits below a second: a tiny run's 0.0203 s reads 0.020, not 0.0.
    std::snprintf(buf, sizeof buf, v >= 10 ? "%.0f" : v >= 1 || v <= 0 ? "%.1f" : "%#.2g", v);
    return buf;
  }
  return formatSi(v, 3);
}

TableData summaryTable(const std::vector<RunSummaryRow>& rows, const std::vector<std::string>& column_keys) {
  TableData t;
  t.caption = "Summary of runs";
  t.headers.push_back("Run");
  t.numeric.push_back(false);
  std::vector<std::string> keys;
  for (const std::string& key : column_keys) {
    for (const SummaryColumn& c : summaryColumns()) {
      if (c.key != key) continue;
      keys.push_back(key);
      t.headers.push_back(c.title);
      t.numeric.push_back(true);
    }
  }
  for (const RunSummaryRow& r : rows) {
    std::vector<std::string> cells{runLabel(r.run_id, r.name)};
    for (const std::string& key : keys) {
      const auto it = r.values.find(key);
      cells.push_back(formatSummaryValue(key, it == r.values.end() ? std::nullopt : std::optional<double>(it->second)));
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

TableData summaryTable(const std::vector<RunSummaryRow>& rows) {
  std::vector<std::string> keys;
  for (const SummaryColumn& c : summaryColumns()) keys.push_back(c.key);
  return summaryTable(rows, keys);
}

} // namespace distillery
