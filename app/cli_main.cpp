// distillery-cli: the headless runner. Links the core only, no Qt.
#include "core/engine.h"
#include "core/errors.h"
#include "core/method_registry.h"
#include "core/paths.h"
#include "core/run_store.h"
#include "core/sweep_runner.h"
#include "core/sweep_spec.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace distillery;

namespace {

StopToken* g_stop = nullptr;
void onSignal(int) {
  if (g_stop) g_stop->requestStop();
}

// Routes Ctrl-C and SIGTERM to a stop token while it lives, so runs end as cancelled.
class SignalStopScope {
public:
  explicit SignalStopScope(StopToken& stop) {
    g_stop = &stop;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
  }
  ~SignalStopScope() { g_stop = nullptr; }
  SignalStopScope(const SignalStopScope&) = delete;
  SignalStopScope& operator=(const SignalStopScope&) = delete;
};

// Progress on stderr, at most a line a second, so logs stay readable.
class StderrObserver : public RunObserver {
public:
  void onRunCreated(int64_t run_id, int64_t parent) override {
    std::cerr << "run " << parent << ": created run " << run_id << " for the teacher\n";
  }
  void onProgress(const RunProgress& p) override {
    auto now = std::chrono::steady_clock::now();
    if (p.phase == last_phase_ && p.fraction < 1.0 && now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    last_phase_ = p.phase;
    std::cerr << "run " << p.run_id << ": " << p.phase << " " << std::fixed << std::setprecision(1)
              << 100.0 * p.fraction << "% step " << p.step << "/" << p.total_steps << " epoch "
              << std::setprecision(2) << p.epoch;
    if (p.eta_s >= 0) std::cerr << " eta " << std::setprecision(0) << p.eta_s << "s";
    std::cerr << std::defaultfloat << "\n";
  }
  void onLog(const LogEvent& e) override { std::cerr << "run " << e.run_id << ": " << e.level << ": " << e.message << "\n"; }

private:
  std::chrono::steady_clock::time_point last_{};
  std::string last_phase_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "cannot read the config file");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string summaryValue(const nlohmann::json& v) {
  if (v.is_number_float()) {
    std::ostringstream out;
    out << std::setprecision(6) << v.get<double>();
    return out.str();
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

nlohmann::json recordJson(const RunRecord& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"task", r.task},
          {"status", toString(r.status)},
          {"created_at", r.created_at},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"error", r.error},
          {"teacher_run_id", r.teacher_run_id},
          {"parent_run_id", r.parent_run_id},
          {"sweep_id", r.sweep_id},
          {"config", nlohmann::json::parse(r.config_json, nullptr, false)},
          {"summary", r.summary}};
}

int cmdRun(const std::string& config_path, bool use_default, bool baseline, const std::string& db) {
  RunConfig config = use_default ? RunConfig::defaultDistill() : RunConfig::fromJsonText(readFile(config_path));
  if (baseline) config = config.baseline();
  RunStore store(resolveStorePath(db));
  const int64_t id = queueRun(store, config);
  std::cerr << "run " << id << ": " << config.name << " queued in " << store.path() << "\n";
  StopToken stop;
  StderrObserver observer;
  RunOutcome outcome;
  {
    SignalStopScope signals(stop);
    outcome = executeRun(store, id, config, observer, stop);
  }
  std::cout << "run_id=" << id << "\n";
  std::cout << "status=" << toString(outcome.kind) << "\n";
  for (const auto& key : {"teacher_run_id", "teacher_test_accuracy", "test_accuracy", "best_val_accuracy",
                          "test_agreement", "test_kl", "params", "teacher_params", "compression", "wall_s",
                          "samples_per_s", "train_flops", "teacher_queries"})
    if (outcome.summary.contains(key)) std::cout << key << "=" << summaryValue(outcome.summary[key]) << "\n";
  if (outcome.kind == RunOutcome::Kind::Failed) {
    std::cerr << "error: run " << id << " failed: " << outcome.message << "\n";
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Cancelled) {
    std::cerr << "run " << id << ": cancelled\n";
    return 130;
  }
  return 0;
}

// A sweep file: --dry-run lists the runs it expands to; otherwise runs them
// and prints one line per run on stdout.
int cmdSweep(const std::string& sweep_path, int parallel, bool dry_run, const std::string& db) {
  SweepSpec spec = parseSweepText(readFile(sweep_path));
  SweepPlan plan = planSweep(spec);
  if (dry_run) {
    if (plan.teacher) std::cerr << "teacher trained once for the sweep: " << plan.teacher->name << "\n";
    for (const auto& c : plan.runs) std::cout << c.name << "\n";
    return 0;
  }
  if (parallel < 1) throw ConfigError("--parallel", "expected at least 1");
  const std::string path = resolveStorePath(db);
  std::cerr << "sweep " << spec.name << ": " << plan.runs.size() << " runs" << (plan.teacher ? " and 1 teacher" : "")
            << ", " << parallel << " at a time, in " << path << "\n";
  StopToken stop;
  StderrObserver observer;
  SweepOutcome outcome;
  {
    SignalStopScope signals(stop);
    outcome = runSweep(path, spec, parallel, observer, stop);
  }
  std::cout << "sweep_id=" << outcome.sweep_id << "\n";
  if (outcome.teacher_run_id) std::cout << "teacher_run_id=" << outcome.teacher_run_id << "\n";
  for (const auto& r : outcome.runs) {
    // The status word the store recorded for this outcome.
    const RunStatus status = r.outcome.kind == RunOutcome::Kind::Success     ? RunStatus::Finished
                             : r.outcome.kind == RunOutcome::Kind::Cancelled ? RunStatus::Cancelled
                                                                             : RunStatus::Failed;
    auto value = [&](const char* key) {
      return r.outcome.summary.contains(key) ? summaryValue(r.outcome.summary[key]) : std::string("-");
    };
    std::cout << "run_id=" << r.run_id << " name=" << r.name << " status=" << toString(status)
              << " test_accuracy=" << value("test_accuracy") << " test_agreement=" << value("test_agreement") << "\n";
    if (r.outcome.kind == RunOutcome::Kind::Failed)
      std::cerr << "error: run " << r.run_id << " failed: " << r.outcome.message << "\n";
  }
  if (outcome.teacher_run_id && outcome.teacher.kind == RunOutcome::Kind::Failed)
    std::cerr << "error: teacher run " << outcome.teacher_run_id << " failed: " << outcome.teacher.message << "\n";
  if (outcome.anyFailed()) return 1;
  if (outcome.anyCancelled()) {
    std::cerr << "sweep " << outcome.sweep_id << ": cancelled\n";
    return 130;
  }
  return 0;
}

int cmdRuns(const std::string& db, bool json) {
  RunStore store(resolveStorePath(db));
  auto runs = store.runs();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) out.push_back(recordJson(r));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(6) << "id" << std::setw(24) << "name" << std::setw(8) << "task" << std::setw(12)
            << "status" << std::setw(10) << "test_acc" << "agreement\n";
  for (const auto& r : runs) {
    auto fmt = [&](const char* key) {
      return r.summary.contains(key) ? summaryValue(r.summary[key]) : std::string("-");
    };
    std::cout << std::setw(6) << r.id << std::setw(24) << r.name.substr(0, 23) << std::setw(8) << r.task
              << std::setw(12) << toString(r.status) << std::setw(10) << fmt("test_accuracy") << fmt("test_agreement")
              << "\n";
  }
  return 0;
}

int cmdShow(const std::string& db, int64_t id, bool json) {
  RunStore store(resolveStorePath(db));
  auto r = store.run(id);
  if (!r) {
    std::cerr << "error: run " << id << " does not exist in " << store.path() << "\n";
    return 1;
  }
  if (json) {
    std::cout << recordJson(*r).dump(2) << "\n";
    return 0;
  }
  std::cout << "id: " << r->id << "\nname: " << r->name << "\ntask: " << r->task << "\nstatus: " << toString(r->status)
            << "\ncreated: " << r->created_at << "\nstarted: " << r->started_at << "\nfinished: " << r->finished_at
            << "\n";
  if (r->teacher_run_id) std::cout << "teacher run: " << r->teacher_run_id << "\n";
  if (r->parent_run_id) std::cout << "parent run: " << r->parent_run_id << "\n";
  if (r->sweep_id) std::cout << "sweep: " << r->sweep_id << "\n";
  if (!r->error.empty()) std::cout << "error: " << r->error << "\n";
  for (auto it = r->summary.begin(); it != r->summary.end(); ++it)
    std::cout << it.key() << ": " << summaryValue(it.value()) << "\n";
  std::cout << "config: " << nlohmann::json::parse(r->config_json, nullptr, false).dump(2) << "\n";
  return 0;
}

int cmdMetrics(const std::string& db, int64_t id, const std::string& metric) {
  RunStore store(resolveStorePath(db));
  if (!store.run(id)) {
    std::cerr << "error: run " << id << " does not exist in " << store.path() << "\n";
    return 1;
  }
  std::cout << "run_id,metric,step,epoch,wall_s,samples,flops,teacher_queries,value\n";
  std::cout << std::setprecision(10);
  for (const auto& p : store.points(id, metric))
    std::cout << p.run_id << "," << p.metric << "," << p.step << "," << p.epoch << "," << p.wall_s << "," << p.samples
              << "," << p.flops << "," << p.teacher_queries << "," << p.value << "\n";
  return 0;
}

int cmdMethods(bool json) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : methodRegistry()) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : m.params) {
      auto value = [&](double v) { return p.type == "integer" ? nlohmann::json(int64_t(v)) : nlohmann::json(v); };
      params.push_back({{"name", p.name}, {"type", p.type}, {"default", value(p.default_value)},
                        {"min", value(p.min)}, {"max", value(p.max)}, {"help", p.help}});
    }
    out.push_back({{"name", m.name}, {"title", m.title}, {"description", m.description},
                   {"teacher_access", m.teacher_access}, {"needs_teacher", m.needs_teacher}, {"params", params}});
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& m : out) {
    std::cout << m["name"].get<std::string>() << ": " << m["title"].get<std::string>() << "\n";
    for (const auto& p : m["params"])
      std::cout << "  " << p["name"].get<std::string>() << " (" << p["type"].get<std::string>() << ", default "
                << p["default"] << ", range [" << p["min"] << ", " << p["max"] << "])\n";
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distillery: knowledge-distillation runs from the command line"};
  app.require_subcommand(1);
  std::string db;
  app.add_option("--db", db, "Run store (default: $DISTILLERY_DB or " + defaultStorePath() + ")");

  std::string config_path;
  bool use_default = false;
  auto* run = app.add_subcommand("run", "Execute a run from a JSON config");
  run->add_option("config", config_path, "Run config (JSON)");
  run->add_flag("--default", use_default, "Run the embedded default distillation");
  bool baseline = false;
  run->add_flag("--baseline", baseline, "Same student, no teacher: train the config's student on labels only");
  run->add_option("--db", db, "Run store");

  bool json = false;
  auto* runs = app.add_subcommand("runs", "List the runs in the store");
  runs->add_flag("--json", json, "Machine-readable output");
  runs->add_option("--db", db, "Run store");

  int64_t id = 0;
  auto* show = app.add_subcommand("show", "Show one run: status, summary and config");
  show->add_option("id", id, "Run id")->required();
  show->add_flag("--json", json, "Machine-readable output");
  show->add_option("--db", db, "Run store");

  bool csv = false;
  std::string metric;
  auto* metrics = app.add_subcommand("metrics", "Print a run's metric points");
  metrics->add_option("id", id, "Run id")->required();
  metrics->add_flag("--csv", csv, "CSV output (the only format)");
  metrics->add_option("--metric", metric, "Only this metric");
  metrics->add_option("--db", db, "Run store");

  std::string sweep_path;
  int parallel = 1;
  bool dry_run = false;
  auto* sweep = app.add_subcommand("sweep", "Run every config of a sweep file (a base config and a grid)");
  sweep->add_option("sweep", sweep_path, "Sweep file (JSON)")->required();
  sweep->add_option("--parallel", parallel, "Runs executed at once (default 1)");
  sweep->add_flag("--dry-run", dry_run, "Print the names of the expanded runs and exit");
  sweep->add_option("--db", db, "Run store");

  auto* methods = app.add_subcommand("methods", "List distillation methods and their parameters");
  methods->add_flag("--json", json, "Machine-readable output");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*run) {
      if (!use_default && config_path.empty()) {
        std::cerr << "error: run needs a CONFIG.json or --default\n";
        return 2;
      }
      const std::string path = resolveStorePath(db);
      const auto parent = std::filesystem::path(path).parent_path();
      std::error_code ec;
      if (!parent.empty() && path != ":memory:") std::filesystem::create_directories(parent, ec);
      return cmdRun(config_path, use_default, baseline, db);
    }
    if (*sweep) {
      if (!dry_run) {
        const std::string path = resolveStorePath(db);
        const auto parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty() && path != ":memory:") std::filesystem::create_directories(parent, ec);
      }
      return cmdSweep(sweep_path, parallel, dry_run, db);
    }
    if (*runs) return cmdRuns(db, json);
    if (*show) return cmdShow(db, id, json);
    if (*metrics) return cmdMetrics(db, id, metric);
    if (*methods) return cmdMethods(json);
  } catch (const ConfigError& e) {
    const std::string& file = config_path.empty() ? sweep_path : config_path;
    std::cerr << "error: " << (file.empty() ? "" : file + ": ") << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
