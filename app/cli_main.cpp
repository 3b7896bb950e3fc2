// distillery-cli: the headless runner. Links the core (and distillery_render for PNG/PDF exports); includes no Qt header.
#include "core/store/resume_check.h"
#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/distributed/launch_scratch_store.h"
#include "core/distributed/local_launcher.h"
// exports (issue 3): tables, charts, reports
#include "core/export/chart_file_export.h"
#include "core/export/cost_chart.h"
#include "core/analysis/config_diff.h"
#include "core/base/file_output.h"
#include "core/export/point_export.h"
#include "core/export/report_content.h"
#include "core/analysis/run_summary_table.h"
#include "core/export/table_export.h"
#include "core/export/text_report.h"
#ifdef DISTILLERY_HAVE_RENDER
#include "render/chart_export.h"
#include "render/offscreen_gui.h"
#include "render/qt_version.h"
#include "render/report_export.h"
#endif
#include "core/lm/generation_comparison.h"
#include "core/methods/method_registry.h"
#include "core/models/model_card.h"   // issue 4: model-card
#include "core/models/model_export.h" // issue 4: export
#include "core/base/paths.h"
#include "core/training/run_preflight.h"
#include "core/store/run_store.h"
#include "core/training/sweep_runner.h"
#include "core/config/sweep_spec.h"
#include "core/base/version.h"
#include "core/serve/served_teacher.h" // issue 17: serve
#include "serve/serve_teacher.h"
#include "core/forensics/log_audit.h" // issue 18: audit-log
#include "core/forensics/forensic_session.h" // issue 18: forensics (shared with the GUI)
#include "core/forensics/detection_harness.h" // issue 18: forensics-roc
#include "core/forensics/watermark_detection.h" // issue 18: watermark-test
#include "core/cluster/job_store.h"      // issue 19: submit --slurm, the job's store
#include "core/cluster/slurm_cancel.h"   // issue 19: cancel
#include "core/cluster/slurm_job_state.h"
#include "core/cluster/slurm_refresh.h"
#include "core/cluster/slurm_submit.h"
#include "core/cluster/sbatch_script.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

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
    std::cerr << "run " << parent << ": its teacher trains as run " << run_id << "\n";
  }
  void onProgress(const RunProgress& p) override {
    auto now = std::chrono::steady_clock::now();
    if (p.phase == last_phase_ && p.fraction < 1.0 && now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    last_phase_ = p.phase;
    // "run 1: 17.3% overall; teacher phase step 37/40, epoch 1.03; eta 12s": the percentage
    // and the ETA count the whole run, the steps the phase alone (README, "Progress lines").
    std::cerr << "run " << p.run_id << ": " << std::fixed << std::setprecision(1) << 100.0 * p.fraction
              << "% overall; " << p.phase << " phase";
    if (p.phase_steps > 0)
      std::cerr << " step " << p.phase_step << "/" << p.phase_steps << ", epoch " << std::setprecision(2) << p.epoch;
    if (p.eta_s >= 0) std::cerr << "; eta " << std::setprecision(0) << p.eta_s << "s";
    std::cerr << std::defaultfloat << "\n";
  }
  void onLog(const LogEvent& e) override { std::cerr << "run " << e.run_id << ": " << e.level << ": " << e.message << "\n"; }
  // Points reach observers after they are committed to the store.
  void onPoints(const std::vector<MetricPoint>& points) override {
    for (const auto& p : points) ++committed_[p.run_id];
  }
  int64_t committedPoints(int64_t run_id) const {
    auto it = committed_.find(run_id);
    return it == committed_.end() ? 0 : it->second;
  }

private:
  std::map<int64_t, int64_t> committed_;
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
          {"tags", r.tags},
          {"notes", r.notes},
          {"starred", r.starred},
          {"config", nlohmann::json::parse(r.config_json, nullptr, false)},
          {"summary", r.summary},
          {"slurm_job_id", r.slurm_job_id},
          {"job_dir", r.job_dir}};
}

// ---- runs submitted to Slurm (issue 19, core/cluster/) ---------------------------------

// What the run table shows for a run while Slurm has its job: queued while pending, else running.
std::string displayedStatus(const RunRecord& r, const std::map<int64_t, SlurmJobState>& active) {
  const auto it = active.find(r.id);
  return it != active.end() && it->second.known() ? it->second.runStatusWord() : toString(r.status);
}

// "slurm job 12: RUNNING", or why its state is unknown.
std::string slurmJobText(const RunRecord& r, const std::map<int64_t, SlurmJobState>& active) {
  const auto it = active.find(r.id);
  std::string text = "slurm job " + std::to_string(r.slurm_job_id);
  if (it == active.end()) return text;
  if (it->second.known()) return text + ": " + it->second.state;
  std::string why = it->second.detail;
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return text + ": state unknown (" + why + ")";
}

// What `run` and `resume` print on stdout when a run ends: key=value lines for scripts.
void printOutcome(int64_t id, const RunOutcome& outcome, int64_t points) {
  std::cout << "run_id=" << id << "\n";
  std::cout << "status=" << toString(outcome.kind) << "\n";
  std::cout << "points=" << points << "\n";
  for (const auto& key : {"teacher_run_id", "teacher_test_accuracy", "test_accuracy", "best_val_accuracy",
                          "test_agreement", "test_kl", "params", "teacher_params", "teacher_flops_per_sample", "compression",
                          "steps", "wall_s", "samples_per_s", "train_flops", "teacher_inference_flops", "teacher_inference_s",
                          "teacher_queries", "money",
                          // language-model runs
                          "teacher_val_perplexity", "best_val_perplexity", "final_val_perplexity",
                          "initial_val_agreement", "val_agreement", "val_kl", "tokens_per_s"})
    if (outcome.summary.contains(key)) std::cout << key << "=" << summaryValue(outcome.summary[key]) << "\n";
  if (outcome.summary.contains("teacher_cache")) {
    const auto& tc = outcome.summary["teacher_cache"];
    if (tc.contains("status")) std::cout << "teacher_cache=" << tc["status"].get<std::string>() << "\n";
    if (tc.contains("seconds")) std::cout << "teacher_cache_s=" << summaryValue(tc["seconds"]) << "\n";
  }
}

int cmdRun(const std::string& config_path, bool use_default, bool baseline, const std::string& db,
           bool use_default_lm = false) {
  RunConfig config = use_default_lm ? defaultLmConfig()
                     : use_default  ? RunConfig::defaultDistill()
                                    : RunConfig::fromJsonFile(config_path);
  if (baseline) config = config.baseline();
  RunStore store(resolveStorePath(db));
  preflightRun(config, &store); // a config that cannot start leaves no failed row
  const int64_t id = queueRun(store, config);
  std::cerr << "run " << id << ": " << config.name << " queued in " << store.path() << "\n";
  StopToken stop;
  StderrObserver observer;
  RunOutcome outcome;
  {
    SignalStopScope signals(stop);
    outcome = executeRun(store, id, config, observer, stop);
  }
  printOutcome(id, outcome, observer.committedPoints(id));
  if (outcome.kind == RunOutcome::Kind::Diverged) {
    std::cerr << "error: run " << id << " " << outcome.message << "\n"; // "diverged: ... at step N; hint"
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Failed) {
    std::cerr << "error: run " << id << " failed: " << outcome.message << "\n";
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Interrupted) { // a data-parallel rank was lost
    std::cerr << "error: run " << id << " interrupted: " << outcome.message << "\n";
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
    const RunStatus status = storedStatus(r.outcome.kind);
    auto value = [&](const char* key) {
      return r.outcome.summary.contains(key) ? summaryValue(r.outcome.summary[key]) : std::string("-");
    };
    std::cout << "run_id=" << r.run_id << " name=" << r.name << " status=" << toString(status)
              << " test_accuracy=" << value("test_accuracy") << " test_agreement=" << value("test_agreement") << "\n";
    if (r.outcome.failed())
      std::cerr << "error: run " << r.run_id << " " << toString(status) << ": " << r.outcome.message << "\n";
  }
  if (outcome.teacher_run_id && outcome.teacher.failed())
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
  const SlurmRefresh slurm = refreshSlurmRuns(store, runs, std::cerr);
  if (slurm.settled) runs = store.runs();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs) {
      out.push_back(recordJson(r));
      if (slurm.active.count(r.id)) {
        out.back()["status"] = displayedStatus(r, slurm.active);
        out.back()["slurm_state"] = slurm.active.at(r.id).state;
      }
    }
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
              << std::setw(12) << displayedStatus(r, slurm.active) << std::setw(10) << fmt("test_accuracy")
              << fmt("test_agreement");
    if (slurm.active.count(r.id)) std::cout << "  " << slurmJobText(r, slurm.active);
    std::cout << "\n";
  }
  return 0;
}

// After a crash or a full disk: is the store intact, and which runs did it stop?
int cmdCheck(const std::string& db) {
  RunStore store(resolveStorePath(db));
  const std::string integrity = store.integrityCheck();
  std::cout << "store: " << store.path() << "\n"
            << "schema: " << store.schemaVersion() << "\n"
            << "integrity: " << integrity << "\n";
  if (store.recoveredInterrupted() > 0)
    std::cout << "marked interrupted now: " << store.recoveredInterrupted() << " run(s) whose process is gone\n";
  std::map<std::string, int> counts;
  std::vector<int64_t> resumable;
  for (const auto& r : store.runs()) {
    ++counts[toString(r.status)];
    // The runs `resume` will take (a failed one only past its first checkpoint: a full disk, say).
    if (canResume(r.status) && resumeRefusal(store, r).empty()) resumable.push_back(r.id);
  }
  for (const auto& [status, n] : counts) std::cout << status << ": " << n << "\n";
  if (!resumable.empty()) {
    std::cout << "resume with: distillery-cli resume ID (";
    for (size_t i = 0; i < resumable.size(); ++i) std::cout << (i ? ", " : "") << resumable[i];
    std::cout << ")\n";
  }
  return integrity == "ok" ? 0 : 1;
}

int cmdShow(const std::string& db, int64_t id, bool json) {
  RunStore store(resolveStorePath(db));
  auto r = store.run(id);
  if (!r) {
    std::cerr << "error: run " << id << " does not exist in " << store.path() << "\n";
    return 1;
  }
  std::vector<RunRecord> one = {*r};
  const SlurmRefresh slurm = refreshSlurmRuns(store, one, std::cerr);
  r = one.front();
  if (json) {
    nlohmann::json out = recordJson(*r);
    if (slurm.active.count(r->id)) {
      out["status"] = displayedStatus(*r, slurm.active);
      out["slurm_state"] = slurm.active.at(r->id).state;
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "id: " << r->id << "\nname: " << r->name << "\ntask: " << r->task
            << "\nstatus: " << displayedStatus(*r, slurm.active) << "\ncreated: " << r->created_at
            << "\nstarted: " << r->started_at << "\nfinished: " << r->finished_at << "\n";
  if (r->slurm_job_id) {
    std::cout << slurmJobText(*r, slurm.active);
    if (slurm.active.count(r->id) && slurm.active.at(r->id).known())
      std::cout << " (from " << slurm.active.at(r->id).source << ")";
    std::cout << "\njob folder: " << r->job_dir << "\n";
  }
  if (r->teacher_run_id) std::cout << "teacher run: " << r->teacher_run_id << "\n";
  if (r->parent_run_id) std::cout << "parent run: " << r->parent_run_id << "\n";
  if (r->sweep_id) std::cout << "sweep: " << r->sweep_id << "\n";
  if (!r->error.empty()) std::cout << "error: " << r->error << "\n";
  // The researcher's annotations, as the GUI shows them.
  std::cout << "starred: " << (r->starred ? "yes" : "no") << "\n";
  if (!r->tags.empty()) {
    std::cout << "tags: ";
    for (size_t i = 0; i < r->tags.size(); ++i) std::cout << (i ? ", " : "") << r->tags[i];
    std::cout << "\n";
  }
  if (!r->notes.empty()) {
    // Multi-line notes stay readable: continuation lines are indented.
    std::string notes = r->notes;
    for (size_t at = notes.find('\n'); at != std::string::npos; at = notes.find('\n', at + 3)) notes.insert(at + 1, "  ");
    std::cout << "notes: " << notes << "\n";
  }
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
  std::cout << "run_id,metric,step,epoch,wall_s,samples,flops,teacher_queries,money,value\n";
  std::cout << std::setprecision(10);
  for (const auto& p : store.points(id, metric))
    std::cout << p.run_id << "," << p.metric << "," << p.step << "," << p.epoch << "," << p.wall_s << "," << p.samples
              << "," << p.flops << "," << p.teacher_queries << "," << p.money << "," << p.value << "\n";
  return 0;
}

// ---- generate: side-by-side generations of an LM run and its teacher -------------------
int cmdGenerate(const std::string& db, int64_t id, const GenerationRequest& request, bool json) {
  RunStore store(resolveStorePath(db));
  LmRunGenerator generator(store, id);
  const auto pairs = generator.generate(request);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : pairs) {
      nlohmann::json j = {{"prompt", p.prompt}, {"student", p.student.text()}, {"student_agreement", p.student.agreement}};
      if (generator.hasTeacher()) j.update({{"teacher", p.teacher.text()}, {"teacher_agreement", p.teacher.agreement}});
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& p : pairs) {
    std::cout << "== prompt: " << p.prompt << "\n";
    if (generator.hasTeacher())
      std::cout << "-- teacher " << generator.teacherLabel() << " (student agrees on " << std::setprecision(3)
                << 100.0 * p.teacher.agreement << "% of its tokens):\n" << p.prompt << p.teacher.text() << "\n";
    std::cout << "-- student " << generator.studentLabel();
    if (p.student.agreement >= 0)
      std::cout << " (teacher agrees on " << std::setprecision(3) << 100.0 * p.student.agreement << "% of its tokens)";
    std::cout << ":\n" << p.prompt << p.student.text() << "\n";
  }
  return 0;
}

int cmdMethods(bool json) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : methodRegistry()) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : m.params) {
      if (p.isText()) { // a layer name: no range; empty means the model's default layer
        params.push_back({{"name", p.name}, {"type", p.type}, {"default", p.default_text}, {"help", p.help}});
        continue;
      }
      auto value = [&](double v) { return p.type == "integer" ? nlohmann::json(int64_t(v)) : nlohmann::json(v); };
      params.push_back({{"name", p.name}, {"type", p.type}, {"default", value(p.default_value)},
                        {"min", value(p.min)}, {"max", value(p.max)}, {"help", p.help}});
    }
    out.push_back({{"name", m.name}, {"title", m.title}, {"description", m.description},
                   {"teacher_access", m.teacher_access}, {"needs_teacher", m.needs_teacher}, {"params", params},
                   {"task", m.task}, {"needs_features", m.needs_features}});
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // Image and language-model methods apart ("none" serves both).
  const std::pair<const char*, const char*> sections[] = {{"distill", "Image classification (task \"distill\")"},
                                                          {"lm", "Language models (task \"lm\")"}};
  for (const auto& [task, heading] : sections) {
    std::cout << heading << ":\n";
    for (const auto& m : out) {
      if (m["task"] != task && m["task"] != "any") continue;
      std::cout << m["name"].get<std::string>() << ": " << m["title"].get<std::string>() << "\n";
      for (const auto& p : m["params"]) {
        if (p["type"] == "layer") {
          std::cout << "  " << p["name"].get<std::string>() << " (layer name, default: the model's last feature "
                    << "stage; a wrong name lists the model's layers)\n";
          continue;
        }
        std::cout << "  " << p["name"].get<std::string>() << " (" << p["type"].get<std::string>() << ", default "
                  << p["default"] << ", range [" << p["min"] << ", " << p["max"] << "])\n";
      }
    }
  }
  return 0;
}

// ---- export-chart, export-cost-chart, report, table: exports fit for a paper -----------
struct ExportArgs {
  std::vector<int64_t> runs;
  std::string metric;
  std::vector<std::string> metrics;
  std::string x = "step";
  bool log_y = false;
  double smoothing = 0.0;
  std::optional<double> x_min, x_max, y_min, y_max;
  int dpi = 200;
  double width_in = 6.0, height_in = 4.0;
  std::string out;
  std::string title;
  std::string kind = "summary";
  bool only_differing = false;
  std::string format = "md";
  bool fit_width = false; // table --format tex: \resizebox to the text width
  std::string cost;              // export-cost-chart --cost (default wall), report --cost (default flops)
  std::string accuracy = "test"; // export-cost-chart --accuracy
  std::string x_scale;           // export-cost-chart: log or linear; empty: log except for wall time
};

// Exports read an existing store; opening a mistyped path would create an empty one.
std::unique_ptr<RunStore> openExistingStore(const std::string& db) {
  const std::string path = resolveStorePath(db);
  std::error_code ec;
  if (path != ":memory:" && !std::filesystem::exists(path, ec))
    throw ConfigError("--db", "no run store at " + path);
  auto store = std::make_unique<RunStore>(path);
  return store;
}

void requireRuns(RunStore& store, const std::vector<int64_t>& ids) {
  if (ids.empty()) throw ConfigError("--runs", "expected run ids, e.g. --runs 1,2");
  for (int64_t id : ids)
    if (!store.run(id)) throw ConfigError("--runs", "run " + std::to_string(id) + " does not exist in " + store.path());
}

XAxisKind xAxisArg(const std::string& word) {
  const auto kind = parseXAxisKind(word);
  if (!kind) throw ConfigError("--x", "expected step, epoch, wall, flops, queries or money, not \"" + word + "\"");
  return *kind;
}

void requireMetricArg(RunStore& store, const std::vector<int64_t>& ids, const std::string& metric) {
  try {
    requireMetric(store, ids, metric);
  } catch (const std::runtime_error& e) {
    throw ConfigError("--metric", e.what());
  }
}

// The format and size, as export-chart and export-cost-chart take them; throws ConfigError naming the option.
void checkChartOutput(const ExportArgs& a) {
  const std::string ext = fileExtension(a.out);
  if (ext != "png" && ext != "svg" && ext != "pdf" && ext != "csv" && ext != "json")
    throw ConfigError("--out", "unknown chart format \"" + ext + "\" in " + a.out + "; expected .png, .svg, .pdf, .csv or .json");
#ifndef DISTILLERY_HAVE_RENDER
  if (ext == "png" || ext == "pdf")
    throw ConfigError("--out", "." + ext + " charts need a distillery-cli built with QtGui (distillery_render); "
                                         "this build writes .svg, .csv and .json");
#endif
  if (a.dpi < 30 || a.dpi > 1200) throw ConfigError("--dpi", "expected 30 to 1200");
  if (!(a.width_in >= 1 && a.width_in <= 40) || !(a.height_in >= 1 && a.height_in <= 40))
    throw ConfigError("--width-in/--height-in", "expected 1 to 40 inches");
}

// A drawn chart (.png .svg .pdf) at the asked size.
void writeChartImage(const ChartSpec& spec, const ExportArgs& a) {
#ifdef DISTILLERY_HAVE_RENDER
  render::OffscreenGui gui; // fonts for QPainter, without a display
  render::ChartImageOptions options;
  options.dpi = a.dpi;
  options.width_in = a.width_in;
  options.height_in = a.height_in;
  render::exportChart(spec, a.out, options);
#else
  writeChartFile(spec, a.out, a.width_in, a.height_in);
#endif
}

int cmdExportChart(const std::string& db, const ExportArgs& a) {
  checkChartOutput(a);
  const std::string ext = fileExtension(a.out);
  const XAxisKind x = xAxisArg(a.x);
  if (!(a.smoothing >= 0.0 && a.smoothing < 1.0)) throw ConfigError("--smoothing", "expected a weight in [0, 1), e.g. 0.6");
  auto store = openExistingStore(db);
  requireRuns(*store, a.runs);
  requireMetricArg(*store, a.runs, a.metric);

  int64_t points = 0;
  if (ext == "csv" || ext == "json") {
    // Data exports: every stored point with all its counters, whatever --x says.
    std::ostringstream out;
    points = ext == "csv" ? writePointsCsv(*store, a.runs, a.metric, out) : writePointsJson(*store, a.runs, a.metric, out);
    writeTextFile(a.out, out.str());
  } else {
    ChartSpec spec = chartSpecFromStore(*store, a.runs, a.metric, x);
    spec.log_y = a.log_y;
    spec.smoothing = a.smoothing;
    spec.x_min = a.x_min;
    spec.x_max = a.x_max;
    spec.y_min = a.y_min;
    spec.y_max = a.y_max;
    if (!a.title.empty()) spec.title = a.title;
    for (const ChartCurve& c : spec.curves) points += int64_t(c.raw.size());
    writeChartImage(spec, a);
  }
  std::cout << "out=" << a.out << "\nruns=" << a.runs.size() << "\npoints=" << points << "\n";
  return 0;
}

CostKind costArg(const std::string& word) {
  const auto kind = parseCostKind(word);
  if (!kind) throw ConfigError("--cost", "expected wall, flops, inference-flops, params, queries or money, not \"" + word + "\"");
  return *kind;
}

int cmdExportCostChart(const std::string& db, const ExportArgs& a) {
  checkChartOutput(a);
  const CostKind cost = costArg(a.cost.empty() ? "wall" : a.cost);
  const auto accuracy = parseCostAccuracy(a.accuracy);
  if (!accuracy) throw ConfigError("--accuracy", "expected test or best-val, not \"" + a.accuracy + "\"");
  if (!a.x_scale.empty() && a.x_scale != "log" && a.x_scale != "linear")
    throw ConfigError("--x-scale", "expected log or linear, not \"" + a.x_scale + "\"");
  const bool log_x = a.x_scale.empty() ? costDefaultsToLog(cost) : a.x_scale == "log";
  auto store = openExistingStore(db);
  requireRuns(*store, a.runs);
  const CostChart chart = costChartFromStore(*store, a.runs, cost, *accuracy, log_x);
  if (chart.points.empty())
    throw ConfigError("--runs", std::string("no run has both ") + costSummaryKey(cost) + " and " +
                                    costAccuracySummaryKey(*accuracy) + " in its summary" +
                                    (log_x ? " (a log axis needs a positive cost)" : "") + "; finished runs have them");
  const std::string ext = fileExtension(a.out);
  if (ext == "csv" || ext == "json") {
    std::ostringstream out;
    if (ext == "csv") writeCostChartCsv(chart, out);
    else writeCostChartJson(chart, out);
    writeTextFile(a.out, out.str());
  } else {
    ChartSpec spec = costChartSpec(chart);
    if (!a.title.empty()) spec.title = a.title;
    writeChartImage(spec, a);
  }
  std::string front, missing;
  for (int64_t id : chart.frontRunIds()) front += (front.empty() ? "" : ",") + std::to_string(id);
  for (int64_t id : chart.missing) missing += (missing.empty() ? "" : ",") + std::to_string(id);
  std::cout << "out=" << a.out << "\nruns=" << a.runs.size() << "\npoints=" << chart.points.size() << "\nfront=" << front
            << "\nmissing=" << missing << "\n";
  return 0;
}

int cmdReport(const std::string& db, const ExportArgs& a) {
  const std::string ext = fileExtension(a.out);
  if (ext != "html" && ext != "htm" && ext != "pdf" && ext != "md" && ext != "tex")
    throw ConfigError("--out", "unknown report format \"" + ext + "\" in " + a.out + "; expected .html, .pdf, .md or .tex");
#ifndef DISTILLERY_HAVE_RENDER
  if (ext == "pdf")
    throw ConfigError("--out", "PDF reports need a distillery-cli built with QtGui (distillery_render); "
                               "this build writes .html, .md and .tex");
#endif
  const XAxisKind x = xAxisArg(a.x);
  if (!(a.smoothing >= 0.0 && a.smoothing < 1.0)) throw ConfigError("--smoothing", "expected a weight in [0, 1), e.g. 0.6");
  const CostKind cost = costArg(a.cost.empty() ? "flops" : a.cost);
  auto store = openExistingStore(db);
  requireRuns(*store, a.runs);
  for (const std::string& m : a.metrics) requireMetricArg(*store, a.runs, m);
#ifdef DISTILLERY_HAVE_RENDER
  render::OffscreenGui gui;
  render::ReportRequest request;
  request.run_ids = a.runs;
  request.metrics = a.metrics;
  request.x_axis = x;
  request.smoothing = a.smoothing;
  request.cost = cost;
  if (!a.title.empty()) request.title = a.title;
  render::exportReport(*store, request, a.out);
#else
  ReportOptions options;
  options.run_ids = a.runs;
  options.metrics = a.metrics;
  options.x_axis = x;
  options.smoothing = a.smoothing;
  options.cost = cost;
  if (!a.title.empty()) options.title = a.title;
  writeTextReport(buildReportContent(*store, options), a.out);
#endif
  std::cout << "out=" << a.out << "\nruns=" << a.runs.size() << "\n";
  return 0;
}

int cmdTable(const std::string& db, const ExportArgs& a) {
  if (a.kind != "summary" && a.kind != "diff") throw ConfigError("--kind", "expected summary or diff, not \"" + a.kind + "\"");
  if (a.format != "md" && a.format != "tex" && a.format != "csv" && a.format != "html")
    throw ConfigError("--format", "expected md, tex, csv or html, not \"" + a.format + "\"");
  auto store = openExistingStore(db);
  requireRuns(*store, a.runs);
  TableData table;
  if (a.kind == "summary") {
    table = summaryTable(summarizeRuns(*store, a.runs));
  } else {
    std::vector<nlohmann::json> configs;
    std::vector<std::string> labels;
    for (int64_t id : a.runs) {
      const auto r = store->run(id);
      configs.push_back(currentRunConfig(*r)); // a renamed run shows its new name
      labels.push_back(runLabel(r->id, r->name));
    }
    table = configDiffTable(diffConfigs(configs, a.only_differing), labels);
    table.caption = a.only_differing ? "Configuration keys that differ" : "Configurations side by side";
  }
  if (!a.title.empty()) table.caption = a.title;
  const std::string text = a.format == "md"    ? tableToMarkdown(table)
                           : a.format == "tex" ? tableToLatex(table, a.kind == "summary" ? "tab:summary" : "tab:config-diff", a.fit_width)
                           : a.format == "csv" ? tableToCsv(table)
                                               : tableToHtml(table);
  if (a.out.empty()) std::cout << text;
  else {
    writeTextFile(a.out, text);
    std::cout << "out=" << a.out << "\n";
  }
  return 0;
}

// ---- models in and out (issue 4): export, resume, model-card ----------------------------

int cmdExport(const std::string& db, int64_t id, const std::string& out_path) {
  if (out_path.empty()) throw ConfigError("--out", "expected the path of the .pt file to write");
  RunStore store(resolveStorePath(db));
  const int64_t bytes = exportRunModel(store, id, out_path);
  std::cout << "exported=" << out_path << "\nbytes=" << bytes << "\n";
  std::cerr << "run " << id << ": model written as TorchScript; in Python: torch.jit.load(\"" << out_path << "\")\n";
  return 0;
}

// `launch --nproc N CONFIG` (or `--resume ID`): N local ranks of this program
// (core/distributed/local_launcher.h). The config's distributed.world_size is
// N when it leaves it out, and must be N otherwise.
int cmdLaunch(const std::string& db, int nproc, const std::string& config_path, int64_t resume_id) {
  if (nproc < 1) throw ConfigError("--nproc", "needs at least 1 rank, got " + std::to_string(nproc));
  LaunchPlan plan;
  plan.nproc = nproc;
  plan.store = resolveStorePath(db);
  RunConfig config;
  if (resume_id > 0) {
    RunStore store(plan.store);
    const auto record = store.run(resume_id);
    if (!record) throw ConfigError("--resume", "run " + std::to_string(resume_id) + " does not exist in " + plan.store);
    config = RunConfig::fromJsonText(record->config_json);
    if (config.distributed.world_size != nproc)
      throw ConfigError("--nproc", "run " + std::to_string(resume_id) + " trained on " +
                                       std::to_string(config.distributed.world_size) +
                                       " ranks; resume it with the same world size, --nproc " +
                                       std::to_string(config.distributed.world_size));
    plan.resume_run = resume_id;
  } else {
    if (config_path.empty()) throw ConfigError("CONFIG", "launch needs a CONFIG.json (or --resume ID)");
    config = configForLocalRanks(RunConfig::fromJsonFile(config_path), nproc);
    // Fails early, in one process, what would fail in every rank.
    RunStore store(plan.store);
    preflightRun(config, &store);
  }
  plan.config_json = config.toJson().dump(2);
  // Ranks > 0 run in scratch stores: a stored teacher is copied into them first.
  {
    RunStore store(plan.store);
    const auto record = resume_id > 0 ? store.run(resume_id) : std::nullopt;
    RunConfig scratch = config;
    if (const int64_t teacher = scratchTeacherRun(store, scratch, record ? &*record : nullptr)) {
      plan.scratch_config_json = scratch.toJson().dump(2);
      const std::string path = plan.store;
      plan.seed_scratch = [path, teacher](const std::string& scratch_store) {
        RunStore real(path);
        seedScratchStore(real, teacher, scratch_store);
      };
    }
  }
  plan.grace_s = config.distributed.timeout_s + 15.0;
  std::error_code ec;
  plan.exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw DistilleryError("launch: cannot find this program's path: " + ec.message());
  return launchLocalRanks(plan);
}

int cmdResume(const std::string& db, int64_t id) {
  RunStore store(resolveStorePath(db));
  StopToken stop;
  StderrObserver observer;
  RunOutcome outcome;
  {
    SignalStopScope signals(stop);
    outcome = resumeRun(store, id, observer, stop);
  }
  // The same lines as after `run` (points: those this resume committed).
  printOutcome(id, outcome, observer.committedPoints(id));
  if (outcome.kind == RunOutcome::Kind::Diverged) {
    std::cerr << "error: run " << id << " " << outcome.message << "\n";
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Failed) {
    std::cerr << "error: run " << id << " could not be resumed: " << outcome.message << "\n";
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Interrupted) {
    std::cerr << "error: run " << id << " interrupted: " << outcome.message << "\n";
    return 1;
  }
  if (outcome.kind == RunOutcome::Kind::Cancelled) return 130;
  return 0;
}

struct ModelCardArgs {
  std::string model, teacher, shape = "1x28x28", device = "cpu";
  int64_t classes = 10;
  bool json = false, no_latency = false;
};

int cmdModelCard(const ModelCardArgs& a) {
  CardInput input;
  input.classes = a.classes;
  char x1 = 0, x2 = 0;
  std::istringstream shape(a.shape);
  if (!(shape >> input.channels >> x1 >> input.height >> x2 >> input.width) || x1 != 'x' || x2 != 'x' ||
      !shape.eof() || input.channels < 1 || input.height < 1 || input.width < 1)
    throw ConfigError("--shape", "expected CxHxW, e.g. 3x32x32, not \"" + a.shape + "\"");
  if (input.classes < 1) throw ConfigError("--classes", "expected at least 1");
  CardOptions options;
  options.device = a.device;
  options.measure_latency = !a.no_latency;
  // A TorchScript model that rejects its probe was given --shape's input, not a dataset's: say so.
  auto card_of = [&](const std::string& model, const std::string& field) {
    try {
      return makeModelCard(parseModelArgument(model, field), input, options);
    } catch (const DataError& e) {
      std::string what = std::string(e.what()).substr(e.file().size() + 2);
      const std::string dataset = "the dataset's input";
      const size_t at = what.find(dataset);
      if (at == std::string::npos) throw;
      what.replace(at, dataset.size(), "the input from --shape " + a.shape);
      throw DataError(e.file(), what + "; give the shape the model expects, e.g. --shape 3x224x224");
    }
  };
  ModelCard card = card_of(a.model, "model");
  if (!a.teacher.empty()) compareWithTeacher(card, card_of(a.teacher, "--teacher"));
  if (a.json) std::cout << toJson(card).dump(2) << "\n";
  else std::cout << formatModelCard(card);
  return 0;
}

// ---- the teacher server (issue 17) -------------------------------------------------------

struct ServeArgs {
  std::string teacher, config, host = "127.0.0.1";
  int port = 8080;
};

int cmdServe(const std::string& db, const ServeArgs& a) {
  if (a.port < 0 || a.port > 65535) throw ConfigError("--port", "expected 0 (any free port) to 65535");
  const ServedTeacher served = loadServedTeacher(a.teacher, a.config, resolveStorePath(db));
  StopToken stop;
  SignalStopScope signals(stop);
  const int64_t requests = serveTeacher(
      served.config, served.model.input, served.model.teacher, served.model.forward, a.host, a.port, stop,
      [&](const ServeListening& at) {
        // Scripts and tests read the bound port from here (--port 0 picks a free one).
        std::cout << "listening=http://" << at.host << ":" << at.port << "\nport=" << at.port
                  << "\nlog=" << at.log_path << "\noutput=" << at.output_mode << std::endl;
        std::cerr << "serving " << served.model.teacher.dump() << " on " << at.host << ":" << at.port
                  << "; Ctrl-C stops\n";
        if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1")
          std::cerr << "warning: listening on " << a.host << ", not only on this machine; the API has no TLS\n";
      });
  std::cerr << "stopped; " << requests << " requests in " << served.config.log_path << "\n";
  return 0;
}

// ---- the request log's audit (issue 18, part 3) ------------------------------------------

struct AuditArgs {
  std::string log, data, dataset = "fashion-mnist";
  double delta = PradaOptions{}.delta;
  bool json = false;
};

int cmdAuditLog(const AuditArgs& a) {
  if (!(a.delta > 0 && a.delta < 1)) throw ConfigError("--delta", "expected a Shapiro-Wilk W threshold in (0, 1)");
  LogAuditOptions options;
  options.prada.delta = a.delta;
  std::optional<ShiftReference> reference;
  if (!a.data.empty()) reference = shiftReferenceFromIdx(a.data, a.dataset);
  std::vector<KeyAudit> keys;
  try {
    keys = auditRequestLog(a.log, reference ? &*reference : nullptr, options);
  } catch (const StoreError& e) {
    std::cerr << "error: " << e.what() << "\n"; // the message names the file
    return 2;
  }
  auto fixed = [](double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
  };
  if (a.json) {
    nlohmann::json out = {{"log", a.log}, {"delta", a.delta}, {"min_distances", options.prada.min_distances},
                          {"shift_threshold", options.shift_threshold}, {"keys", nlohmann::json::array()}};
    if (reference)
      out["shift_reference"] = {{"data", a.data}, {"dataset", a.dataset}, {"train_sketches", reference->train.size()},
                                {"test_images", reference->test_images}, {"test_mean_nn", reference->test_mean_nn}};
    for (const auto& k : keys) {
      auto opt = [](double v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); };
      out["keys"].push_back({{"key", k.key}, {"requests", k.requests}, {"queries", k.prada.queries},
                             {"distinct", k.prada.distinct}, {"exact_repeats", k.prada.exact_repeats},
                             {"distances", k.prada.distances.size()}, {"w", opt(k.prada.w)}, {"p", opt(k.prada.p)},
                             {"min_w", opt(k.prada.min_w)}, {"prada_flag", k.prada_flag},
                             {"flagged_after", k.prada.flagged_after ? nlohmann::json(k.prada.flagged_after) : nlohmann::json()},
                             {"shift", opt(k.shift)}, {"shift_flag", k.shift_flag},
                             {"shift_flagged_after", k.shift_flag ? nlohmann::json(k.shift_flagged_after) : nlohmann::json()},
                             {"verdict", k.verdict}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "log=" << a.log << "\ndelta=" << a.delta << "\n";
  if (reference)
    std::cout << "shift_reference=" << reference->train.size() << " training sketches of " << a.data
              << "; test images' mean nearest distance " << fixed(reference->test_mean_nn, 2) << "\n";
  std::cout << std::left << std::setw(20) << "key" << std::right << std::setw(9) << "queries" << std::setw(10)
            << "distinct" << std::setw(9) << "repeats" << std::setw(8) << "W" << std::setw(9) << "min W"
            << std::setw(15) << "flagged after" << std::setw(8) << "shift" << std::setw(15) << "shifted after"
            << "  verdict\n";
  for (const auto& k : keys) {
    std::cout << std::left << std::setw(20) << k.key << std::right << std::setw(9) << k.prada.queries << std::setw(10)
              << k.prada.distinct << std::setw(9) << k.prada.exact_repeats << std::setw(8)
              << (k.prada.w < 0 ? "-" : fixed(k.prada.w, 4)) << std::setw(9)
              << (k.prada.min_w < 0 ? "-" : fixed(k.prada.min_w, 4)) << std::setw(15)
              << (k.prada_flag ? std::to_string(k.prada.flagged_after) : "-") << std::setw(8)
              << (k.shift < 0 ? "-" : fixed(k.shift, 2)) << std::setw(15)
              << (k.shift_flag ? std::to_string(k.shift_flagged_after) : "-") << "  " << k.verdict << "\n";
  }
  return 0;
}

// ---- forensics (issue 18, part 1): is a suspect a copy of the teacher? -------------------

struct ForensicsArgs {
  std::string suspect, teacher;
  std::vector<int64_t> null;
  std::vector<std::string> tests{"agreement", "sac", "fingerprint"};
  std::vector<int64_t> confer_with, confer_against; // the fingerprints' surrogates
  std::string fingerprint_crafting = "teacher";
  int64_t inputs = 64;
  uint64_t seed = 0;
  bool json = false;
};

int cmdForensics(const std::string& db, const ForensicsArgs& a) {
  // The same loading, tests and storing as the GUI's Forensics view (forensic_session.h).
  ForensicRequest request;
  request.suspect = a.suspect;
  request.teacher = a.teacher;
  request.null = a.null;
  request.tests = a.tests;
  request.fingerprint.crafting = a.fingerprint_crafting;
  request.fingerprint.confer_with = a.confer_with;
  request.fingerprint.confer_against = a.confer_against;
  request.inputs = a.inputs;
  request.seed = a.seed;
  forensicOptionsOf(request); // the arguments' own mistakes, before the store is opened
  auto store = openExistingStore(db);
  const ForensicSession session = runStoredForensics(*store, request);
  const nlohmann::json out = session.toJson();
  const nlohmann::json& results = out["results"];
  if (a.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "suspect " << session.suspect_description << " against teacher " << session.teacher_id << ", null of "
            << session.null.size() << " independent runs\n";
  for (const nlohmann::json& r : results) {
    std::cout << std::left << std::setw(12) << r["test"].get<std::string>();
    if (r.contains("skipped")) {
      std::cout << "skipped: " << r["skipped"].get<std::string>() << "\n";
      continue;
    }
    std::cout << "statistic " << std::setprecision(4) << r["statistic"].get<double>() << " (" << r["closer"].get<std::string>()
              << " is closer)  p = " << r["p_value"].get<double>() << " (null " << r["null_size"].get<int64_t>()
              << ", smallest possible " << r["smallest_possible_p"].get<double>() << ")  " << r["suspect_queries"]
              << " queries  [result #" << r["id"] << "]\n";
  }
  return 0;
}

// ---- forensics-roc (issue 18, part 1): the harness on the CLI ---------------------------
// How well each test tells copies of the teacher (positives, by kind) from
// independent models (negatives) when calibrated against a null: ROC AUC, TPR
// at 1% FPR, and the queries a positive needs before p reaches 1/(null + 1).

struct ForensicsRocArgs {
  std::string teacher;
  std::vector<std::string> null, negatives; // run ids, .pt files (negatives also URLs)
  std::vector<std::string> positives;       // KIND=ID,ID,... (repeatable)
  std::vector<std::string> confer_with, confer_against; // the fingerprints' surrogates
  std::string fingerprint_crafting = "teacher";
  std::vector<std::string> tests{"agreement", "sac", "fingerprint"};
  int64_t inputs = 64;
  uint64_t seed = 0;
  bool json = false;
};

// The prefix sizes at which a decision is tried: 4, 8, 16, ... and the whole probe.
std::vector<int64_t> harnessLadder(int64_t inputs) {
  std::vector<int64_t> ladder;
  for (int64_t k = 4; k < inputs; k *= 2) ladder.push_back(k);
  ladder.push_back(inputs);
  return ladder;
}

int cmdForensicsRoc(const std::string& db, const ForensicsRocArgs& a) {
  if (a.null.empty()) throw ConfigError("--null", "expected the ids of independent runs, e.g. --null 3,4,5");
  if (a.negatives.empty())
    throw ConfigError("--negatives", "expected independent runs that are not in the null, e.g. --negatives 6,7");
  if (a.positives.empty())
    throw ConfigError("--positives", "expected KIND=IDS, e.g. --positives kd=8,9 --positives hard_label=10");
  ForensicOptions options;
  options.tests.clear();
  for (const std::string& word : a.tests) {
    const auto t = forensicTestFromString(word);
    if (!t) throw ConfigError("--tests", "expected agreement, sac or fingerprint, not \"" + word + "\"");
    options.tests.push_back(*t);
  }
  if (a.inputs < 4 || a.inputs > 10000) throw ConfigError("--inputs", "expected 4 to 10000 inputs per test");
  options.inputs = a.inputs;
  options.seed = a.seed;
  options.fingerprint.crafting =
      fingerprintCraftingOf(a.fingerprint_crafting, options.tests, a.confer_with.size(), a.confer_against.size());
  auto store = openExistingStore(db);

  // The task: the teacher run's data (a TorchScript teacher: the first null run's).
  const auto teacher_run = forensicRunId(a.teacher);
  const auto first_null = forensicRunId(a.null.front());
  if (!teacher_run && !first_null)
    throw ConfigError("--null", "with a TorchScript teacher the first null model must be a run (its data is the task's)");
  const int64_t task_run = teacher_run ? *teacher_run : *first_null;
  const std::string task_field = teacher_run ? "--teacher" : "--null";
  const Dataset data = forensicDataOf(*store, task_run, task_field);
  ForensicModel teacher = teacher_run ? forensicModelFromRun(*store, *teacher_run, data, "--teacher")
                                      : forensicModelFromTorchScript(a.teacher, data);

  std::map<std::string, std::string> role; // model id -> the option that named it
  role[teacher.id] = "--teacher";
  // One model (run, file or URL) for an option, checked to fit the task. A
  // null or negative run must be independent: trained on the teacher's
  // dataset, and not distilled from the teacher.
  auto resolve = [&](const std::string& word, const std::string& field, bool independent) {
    if (word.empty()) throw ConfigError(field, "expected a run id, a .pt file or a URL, not an empty word");
    const auto id = forensicRunId(word);
    const bool is_url = word.rfind("http://", 0) == 0 || word.rfind("https://", 0) == 0;
    ForensicModel m = id       ? forensicModelFromRun(*store, *id, data, field)
                      : is_url ? forensicModelFromApi(word, "DISTILLERY_API_KEY", data)
                               : forensicModelFromTorchScript(word, data);
    if (const auto seen = role.find(m.id); seen != role.end())
      throw ConfigError(field, m.id + " is already given as " + seen->second + "; each model has one role");
    role[m.id] = field;
    if (id && independent) checkIndependentRun(*store, *id, teacher_run, task_run, field); // as the GUI's calibration
    if (independent && m.labels_only)
      throw ConfigError(field, m.id + " answers labels only; the null and the negatives must give probabilities");
    return m;
  };
  std::vector<ForensicModel> null;
  for (const std::string& w : a.null) null.push_back(resolve(w, "--null", true));
  std::vector<LabelledModel> negatives;
  for (const std::string& w : a.negatives) negatives.push_back({"independent", resolve(w, "--negatives", true)});
  std::vector<LabelledModel> positives;
  nlohmann::json positive_ids = nlohmann::json::object();
  std::vector<std::string> kinds;
  for (const std::string& spec : a.positives) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw ConfigError("--positives", "expected KIND=IDS (e.g. kd=8,9), not \"" + spec + "\"");
    const std::string kind = spec.substr(0, eq);
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end())
      throw ConfigError("--positives", "kind \"" + kind + "\" is given twice; list its models once, comma-separated");
    kinds.push_back(kind);
    std::stringstream list(spec.substr(eq + 1));
    std::string word;
    while (std::getline(list, word, ',')) {
      if (word.empty()) throw ConfigError("--positives", "an empty model in \"" + spec + "\"");
      positives.push_back({kind, resolve(word, "--positives", false)});
      positive_ids[kind].push_back(positives.back().model.id);
    }
  }
  // The filter's models have a role of their own: examples chosen because the
  // null's or the negatives' models refuse them would bias the ROC.
  for (const std::string& w : a.confer_with)
    options.fingerprint_followers.push_back(resolve(w, "--confer-with", false).local);
  for (const std::string& w : a.confer_against)
    options.fingerprint_refusers.push_back(resolve(w, "--confer-against", true).local);
  for (const Classifier& c : options.fingerprint_followers)
    if (!c) throw ConfigError("--confer-with", "the fingerprints' surrogates must be local models (runs or .pt files), not an API");
  for (const Classifier& c : options.fingerprint_refusers)
    if (!c) throw ConfigError("--confer-against", "the fingerprints' surrogates must be local models (runs or .pt files), not an API");
  const std::vector<int64_t> ladder = harnessLadder(a.inputs);
  const std::vector<HarnessRow> rows = evaluateForensicTests(teacher.local, data, positives, negatives, null, options, ladder);

  nlohmann::json out = {{"teacher", teacher.id}, {"options", options.toJson()}, {"ladder", ladder},
                        {"positives", positive_ids}, {"confer_with", a.confer_with},
                        {"confer_against", a.confer_against}, {"rows", nlohmann::json::array()}};
  out["null"] = nlohmann::json::array();
  for (const ForensicModel& m : null) out["null"].push_back(m.id);
  out["negatives"] = nlohmann::json::array();
  for (const LabelledModel& m : negatives) out["negatives"].push_back(m.model.id);
  out["data"] = {{"dataset", data.name}, {"path", data.path}, {"content_hash", data.content_hash},
                 {"test_size", data.test.size()}};
  for (const HarnessRow& r : rows) out["rows"].push_back(r.toJson());
  if (a.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  auto fixed = [](double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
  };
  std::cout << "teacher " << teacher.id << ", null of " << null.size() << " independent models, " << negatives.size()
            << " held-out negatives, " << positives.size() << " positives; " << a.inputs << " inputs per test\n";
  std::cout << std::left << std::setw(12) << "test" << std::setw(20) << "kind" << std::right << std::setw(10)
            << "positives" << std::setw(9) << "skipped" << std::setw(11) << "negatives" << std::setw(8) << "AUC"
            << std::setw(12) << "TPR@1%FPR" << "  queries for a decision (median, decided)\n";
  for (const HarnessRow& r : rows) {
    std::vector<int64_t> decided;
    for (int64_t q : r.queries_for_decision)
      if (q > 0) decided.push_back(q);
    std::sort(decided.begin(), decided.end());
    std::string queries = "-";
    // The (upper) median over every positive, undecided ones counted as never:
    // the queries by which more than half of the positives are decided.
    if (!r.queries_for_decision.empty() && 2 * decided.size() > r.queries_for_decision.size())
      queries = std::to_string(decided[r.queries_for_decision.size() / 2]);
    else if (!r.queries_for_decision.empty())
      queries = "never";
    std::cout << std::left << std::setw(12) << toString(r.test) << std::setw(20) << r.kind << std::right
              << std::setw(10) << r.positives << std::setw(9) << r.skipped << std::setw(11) << r.negatives
              << std::setw(8) << (r.positives > 0 ? fixed(r.auc, 3) : "-") << std::setw(12)
              << (r.positives > 0 ? fixed(r.tpr_at_1pct_fpr, 3) : "-") << "  " << queries << " ("
              << decided.size() << " of " << r.queries_for_decision.size() << ")\n";
  }
  return 0;
}

// ---- watermark-test: watermark radioactivity of an LM run (issue 18, part 2) -------------

struct WatermarkTestArgs {
  int64_t suspect = 0;
  int64_t key = -1;
  std::string text;
  bool json = false;
  WatermarkTestRequest request;
};

int cmdWatermarkTest(const std::string& db, WatermarkTestArgs a) {
  if (a.key < 0) throw ConfigError("--key", "required: the watermark's secret key (a non-negative integer)");
  a.request.params.key = uint64_t(a.key);
  auto store = openExistingStore(db);
  const WatermarkTestResult r = a.text.empty() ? watermarkTestRun(*store, a.suspect, a.request)
                                               : watermarkTestFile(*store, a.suspect, a.text, a.request);
  if (a.json) {
    nlohmann::json j = {{"mode", r.mode}, {"suspect", r.suspect}, {"tokens", r.tokens}, {"statistic", r.statistic},
                        {"scored", r.score.scored}, {"green", r.score.green}, {"duplicates", r.score.duplicates},
                        {"gamma", r.score.gamma}, {"green_fraction", r.score.greenFraction()},
                        {"p_value", r.score.p_value}, {"log10_p", r.score.log10_p},
                        {"sample_p_values", r.sample_p_values},
                        {"sample_ks", {{"statistic", r.sample_ks.statistic}, {"p_value", r.sample_ks.p_value},
                                       {"method", r.sample_ks.method}}}};
    if (r.mode == "file") j["dropped_characters"] = r.dropped_characters;
    if (r.statistic == "mass") {
      // The z test replaces the pair count: scored, green and p_value say its windows and result.
      const GreenWeightScore& w = r.weight_score;
      j["reading"] = a.request.reading;
      j["reference"] = r.reference;
      j["scored"] = w.windows;
      j["duplicates"] = w.repeated;
      j["green"] = w.green;
      j["green_fraction"] = w.windows ? w.green / double(w.windows) : 0.0;
      j["expected"] = w.expected;
      j["excess_mass"] = w.meanExcess();
      j["sd"] = std::sqrt(w.variance);
      j["skewness"] = w.skewness();
      j["z"] = w.z;
      j["p_value"] = w.p_value;
      j["log10_p"] = w.log10_p;
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (r.statistic == "mass") {
    const GreenWeightScore& w = r.weight_score;
    std::cout << "mode=" << r.mode << " (probability mass on the green list, reading " << a.request.reading
              << (r.reference.empty() ? "" : ", minus " + r.reference) << ")\nsuspect=" << r.suspect << "\ntokens=" << r.tokens << "\nwindows=" << w.windows << " ("
              << w.repeated << " positions with a window scored before left out)"
              << "\ngreen=" << std::setprecision(6) << w.green << " (expected " << w.expected << " +- "
              << std::sqrt(w.variance) << " without the watermark; skewness " << w.skewness()
              << "; per window " << w.meanExcess() << " beyond it)"
              << "\nz=" << w.z << "\np_value=" << w.p_value << "\nlog10_p=" << w.log10_p
              << "\nsamples=" << r.sample_p_values.size() << ", KS of their p-values against U(0,1): D="
              << r.sample_ks.statistic << ", p=" << r.sample_ks.p_value << " (" << r.sample_ks.method << ")\n";
    return 0;
  }
  std::cout << "mode=" << r.mode << "\nsuspect=" << r.suspect << "\ntokens=" << r.tokens
            << "\nscored=" << r.score.scored << " (" << r.score.duplicates << " repeated (window, token) pairs left out)"
            << "\ngreen=" << r.score.green << " (" << std::setprecision(4) << 100.0 * r.score.greenFraction()
            << "%; " << 100.0 * r.score.gamma << "% expected without the watermark)"
            << "\np_value=" << std::setprecision(6) << r.score.p_value << "\nlog10_p=" << r.score.log10_p
            << "\nsamples=" << r.sample_p_values.size() << ", KS of their p-values against U(0,1): D="
            << r.sample_ks.statistic << ", p=" << r.sample_ks.p_value << " (" << r.sample_ks.method << ")\n";
  if (r.mode == "file" && r.dropped_characters > 0)
    std::cout << "dropped_characters=" << r.dropped_characters << " (not in the vocabulary)\n";
  return 0;
}

// ---- Slurm (issue 19, part 2): submit --slurm, each task's run, cancel -----------------

std::string thisProgram() {
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw DistilleryError("cannot find this program's path: " + ec.message());
  return exe;
}

// `submit CONFIG --slurm`: the run is queued here, its job folder and batch
// script written, and sbatch given the script; the job id is recorded on the
// run. --dry-run prints the script and queues and submits nothing.
int cmdSubmit(const std::string& db, const std::string& config_path, bool slurm, SlurmOptions options) {
  if (!slurm) throw ConfigError("--slurm", "submit needs a scheduler; the one there is: --slurm");
  checkSlurmOptions(options);
  RunConfig config = configForSlurmTasks(RunConfig::fromJsonFile(config_path), options);
  const int tasks = options.tasks();
  const std::string path = resolveStorePath(db);
  if (options.dry_run) {
    const std::string dir = options.job_dir.empty()
                                ? (std::filesystem::absolute(path).parent_path() / "slurm-jobs" / "run-ID").string()
                                : std::filesystem::absolute(options.job_dir).string();
    std::cout << "# dry run: nothing is queued or submitted; ID is the run's id, given when it is submitted\n"
              << sbatchScript(options, {"ID", config.name, thisProgram(), dir});
    return 0;
  }
  requireSbatch(); // before the run is queued
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  RunStore store(path);
  preflightRun(config, &store); // a config that cannot start leaves no row
  const int64_t id = queueRun(store, config);
  const SlurmSubmission sub = submitRunToSlurm(store, id, options, thisProgram());
  std::cerr << "run " << id << ": " << config.name << " submitted to Slurm as job " << sub.job_id << " ("
            << tasks << (tasks == 1 ? " task" : " tasks") << "); `distillery-cli show " << id
            << "` follows it, and imports it when the job ends\n";
  std::cout << "run_id=" << id << "\nslurm_job_id=" << sub.job_id << "\njob_dir=" << sub.job_dir
            << "\nscript=" << sub.script_path << "\n";
  return 0;
}

// One Slurm task of a submitted run (`run --run-id ID --job-dir DIR`, what the
// batch script's srun starts): its rank's store (core/cluster/job_store.h),
// then the run, or its resumption when a requeued job finds it started.
int cmdRunJobTask(int64_t run_id, const std::string& job_dir) {
  if (run_id <= 0) throw ConfigError("--run-id", "a task of a submitted job needs the run's id (and --job-dir)");
  if (job_dir.empty()) throw ConfigError("--job-dir", "a task of a submitted job needs its job folder (and --run-id)");
  const int rank = jobRank();
  const std::string path = prepareRankStore(job_dir, run_id, rank);
  // The other ranks' stores are scratch on the node's disk: gone when the task ends.
  struct Scratch {
    std::string path;
    ~Scratch() {
      std::error_code ec;
      if (!path.empty())
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
    }
  } scratch{rank == 0 ? std::string() : path};
  RunStore store(path, StoreJournal::Delete);
  const auto record = store.run(run_id);
  if (!record) throw StoreError(path + ": holds no run " + std::to_string(run_id));
  std::cerr << "run " << run_id << ": rank " << rank << " in " << path << "\n";
  StopToken stop;
  StderrObserver observer;
  RunOutcome outcome;
  {
    SignalStopScope signals(stop);
    outcome = record->status == RunStatus::Queued
                  ? executeRun(store, run_id, RunConfig::fromJsonText(record->config_json), observer, stop)
                  : resumeRun(store, run_id, observer, stop);
  }
  printOutcome(run_id, outcome, observer.committedPoints(run_id));
  if (outcome.kind == RunOutcome::Kind::Cancelled) return 130;
  if (outcome.kind != RunOutcome::Kind::Success) {
    std::cerr << "error: run " << run_id << " (rank " << rank << ") " << toString(outcome.kind) << ": "
              << outcome.message << "\n";
    return 1;
  }
  return 0;
}

// `cancel ID`: a run Slurm runs is cancelled through scancel; its ranks stop
// at the next step and the run is imported as cancelled when the job is gone.
int cmdCancel(const std::string& db, int64_t id) {
  RunStore store(resolveStorePath(db));
  auto r = store.run(id);
  if (!r) {
    std::cerr << "error: run " << id << " does not exist in " << store.path() << "\n";
    return 1;
  }
  if (r->status != RunStatus::Queued && r->status != RunStatus::Running) {
    std::cerr << "error: run " << id << " is " << toString(r->status) << "; only a queued or running run can be cancelled\n";
    return 1;
  }
  if (!r->slurm_job_id) {
    std::cerr << "error: run " << id << " runs in a process of its own, not in Slurm: stop it there "
              << "(Ctrl-C in its terminal, or Cancel in the GUI)\n";
    return 1;
  }
  cancelSlurmJob(r->slurm_job_id);
  std::cerr << "run " << id << ": scancel " << r->slurm_job_id << " sent\n";
  // A pending job ends at once; a running one once its ranks have checkpointed.
  for (int i = 0; i < 20; ++i) {
    std::vector<RunRecord> one = {*r};
    const SlurmRefresh refresh = refreshSlurmRuns(store, one, std::cerr);
    if (refresh.settled) {
      std::cout << "status=" << toString(one.front().status) << "\n";
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::cout << "status=cancelling\n";
  return 0;
}

// The app, LibTorch, Qt and SQLite versions, as `distillery --version` prints them.
std::string versionString() {
#ifdef DISTILLERY_HAVE_RENDER
  std::string text = versionText(render::qtVersion());
#else
  std::string text = versionText("");
#endif
  text.pop_back(); // CLI11 ends it with a newline
  return text;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distillery: knowledge-distillation runs from the command line", "distillery-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", versionString, "Print the Distillery, LibTorch, Qt and SQLite versions and exit");
  std::string db;
  app.add_option("--db", db, "Run store (default: $DISTILLERY_DB or " + defaultStorePath() + ")");

  std::string config_path;
  bool use_default = false;
  auto* run = app.add_subcommand("run", "Execute a run from a JSON config");
  run->add_option("config", config_path, "Run config (JSON)");
  run->add_flag("--default", use_default, "Run the embedded default distillation");
  bool use_default_lm = false;
  run->add_flag("--default-lm", use_default_lm,
                "Run the embedded default language-model distillation (char GPT teacher on the fortunes corpus)");
  bool baseline = false;
  run->add_flag("--baseline", baseline, "Same student, no teacher: train the config's student on labels only");
  run->add_option("--db", db, "Run store");
  int64_t task_run_id = 0;
  std::string task_job_dir;
  run->add_option("--run-id", task_run_id, "A Slurm task of a submitted run: the run's id (with --job-dir)");
  run->add_option("--job-dir", task_job_dir, "A Slurm task of a submitted run: its job folder (with --run-id)");

  bool json = false;
  auto* runs = app.add_subcommand("runs", "List the runs in the store");
  runs->add_flag("--json", json, "Machine-readable output");
  runs->add_option("--db", db, "Run store");

  auto* check = app.add_subcommand("check", "Check the store's integrity and list runs a crash interrupted");
  check->add_option("--db", db, "Run store");

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

  GenerationRequest gen_request;
  auto* generate = app.add_subcommand("generate", "Generations of a language-model run and its teacher, side by side");
  generate->add_option("id", id, "Run id (task lm)")->required();
  generate->add_option("--prompt", gen_request.prompts, "Prompt (repeatable; default: a few English openings)");
  generate->add_option("--tokens", gen_request.new_tokens, "Tokens to generate per prompt (default 120)");
  generate->add_option("--temperature", gen_request.temperature, "Sampling temperature; 0 = most likely (default 0.8)");
  generate->add_option("--seed", gen_request.seed, "Seed; prompt i samples from seed + i (default 0)");
  generate->add_flag("--json", json, "Machine-readable output");
  generate->add_option("--db", db, "Run store");

  ExportArgs ex;
  auto* export_chart = app.add_subcommand("export-chart", "One metric of some runs as a chart (.png .svg .pdf) or as data (.csv .json)");
  export_chart->add_option("--runs", ex.runs, "Run ids, e.g. 1,2")->delimiter(',')->required();
  export_chart->add_option("--metric", ex.metric, "Metric, e.g. val_accuracy")->required();
  export_chart->add_option("--x", ex.x, "X axis: step, epoch, wall, flops, queries or money (default step)");
  export_chart->add_flag("--log-y", ex.log_y, "Logarithmic y axis");
  export_chart->add_option("--smoothing", ex.smoothing, "Debiased EMA weight in [0, 1); the raw curve is drawn faintly");
  export_chart->add_option("--x-min", ex.x_min, "Visible x range: lower bound");
  export_chart->add_option("--x-max", ex.x_max, "Visible x range: upper bound");
  export_chart->add_option("--y-min", ex.y_min, "Visible y range: lower bound");
  export_chart->add_option("--y-max", ex.y_max, "Visible y range: upper bound");
  export_chart->add_option("--dpi", ex.dpi, "PNG resolution (default 200)");
  export_chart->add_option("--width-in", ex.width_in, "Width in inches (default 6)");
  export_chart->add_option("--height-in", ex.height_in, "Height in inches (default 4)");
  export_chart->add_option("--title", ex.title, "Chart title (default: the metric's name)");
  export_chart->add_option("--out", ex.out, "Output file; the extension picks the format")->required();
  export_chart->add_option("--db", db, "Run store");

  auto* export_cost_chart = app.add_subcommand(
      "export-cost-chart", "Accuracy against cost with the Pareto front, teachers included, as a chart or as data");
  export_cost_chart->add_option("--runs", ex.runs, "Run ids, e.g. 1,2; the teachers they name join the chart")
      ->delimiter(',')
      ->required();
  export_cost_chart->add_option("--cost", ex.cost, "X axis: wall (default), flops, inference-flops, params, queries or money");
  export_cost_chart->add_option("--accuracy", ex.accuracy, "Y axis: test (default) or best-val");
  export_cost_chart->add_option("--x-scale", ex.x_scale, "log or linear (default: log, linear for wall, queries and money)");
  export_cost_chart->add_option("--dpi", ex.dpi, "PNG resolution (default 200)");
  export_cost_chart->add_option("--width-in", ex.width_in, "Width in inches (default 6)");
  export_cost_chart->add_option("--height-in", ex.height_in, "Height in inches (default 4)");
  export_cost_chart->add_option("--title", ex.title, "Chart title (default: Accuracy against cost)");
  export_cost_chart->add_option("--out", ex.out, "Output file: .png .svg .pdf, or the points as .csv .json")->required();
  export_cost_chart->add_option("--db", db, "Run store");

  auto* report = app.add_subcommand("report", "A report on some runs: charts, summary, config diff, provenance");
  report->add_option("--runs", ex.runs, "Run ids, e.g. 1,2")->delimiter(',')->required();
  report->add_option("--metrics", ex.metrics, "Charts (default: val_accuracy,val_agreement,train_loss)")->delimiter(',');
  report->add_option("--x", ex.x, "X axis of the charts: step, epoch, wall, flops, queries or money");
  report->add_option("--smoothing", ex.smoothing, "Debiased EMA weight in [0, 1)");
  report->add_option("--cost", ex.cost, "X axis of the cost chart: flops (default), wall, inference-flops, params, queries or money");
  report->add_option("--title", ex.title, "Report title");
  report->add_option("--out", ex.out, "Output: .html (self-contained), .pdf, .md or .tex")->required();
  report->add_option("--db", db, "Run store");

  auto* table = app.add_subcommand("table", "The summary or config diff of some runs as a Markdown, LaTeX, CSV or HTML table");
  table->add_option("--runs", ex.runs, "Run ids, e.g. 1,2")->delimiter(',')->required();
  table->add_option("--kind", ex.kind, "summary (default) or diff");
  table->add_flag("--only-differing", ex.only_differing, "diff: only the keys whose values differ");
  table->add_option("--format", ex.format, "md (default), tex (booktabs), csv or html");
  table->add_option("--title", ex.title, "Caption");
  table->add_flag("--fit-width", ex.fit_width, "tex: scale the table to the text width (\\resizebox, needs graphicx)");
  table->add_option("--out", ex.out, "Output file (default: stdout)");
  table->add_option("--db", db, "Run store");

  auto* methods = app.add_subcommand("methods", "List distillation methods and their parameters");
  methods->add_flag("--json", json, "Machine-readable output");

  // models in and out (issue 4)
  std::string export_out;
  auto* export_model = app.add_subcommand("export", "Write a finished run's model as TorchScript for torch.jit.load");
  export_model->add_option("id", id, "Run id")->required();
  export_model->add_option("--out", export_out, "TorchScript file to write (.pt)")->required();
  export_model->add_option("--db", db, "Run store");
  int launch_nproc = 0;
  int64_t launch_resume = 0;
  auto* launch = app.add_subcommand("launch", "Run a config data-parallel on N local rank processes (docs/distributed.md)");
  launch->add_option("config", config_path, "Run config (JSON)");
  launch->add_option("--nproc", launch_nproc, "Number of ranks (processes) on this machine")->required();
  launch->add_option("--resume", launch_resume, "Resume this interrupted run on the same number of ranks instead");
  launch->add_option("--db", db, "Run store");
  auto* resume = app.add_subcommand("resume", "Continue a cancelled, interrupted or failed run from its last checkpoint");
  resume->add_option("id", id, "Run id")->required();
  resume->add_option("--db", db, "Run store");
  ModelCardArgs card_args;
  auto* model_card = app.add_subcommand(
      "model-card", "Layers, parameters, FLOPs, size and measured latency of a model (zoo name, JSON spec or .pt file)");
  model_card->add_option("model", card_args.model, "e.g. resnet20, '{\"zoo\":\"mlp\",\"hidden\":[64]}' or teacher.pt")
      ->required();
  model_card->add_option("--teacher", card_args.teacher, "Compare with this model: compression and speed-up");
  model_card->add_option("--shape", card_args.shape, "Input CxHxW (default 1x28x28)");
  model_card->add_option("--classes", card_args.classes, "Classes (default 10)");
  model_card->add_option("--device", card_args.device, "Where latency is measured: cpu (default), cuda, auto");
  model_card->add_flag("--no-latency", card_args.no_latency, "Skip the latency measurement");
  model_card->add_flag("--json", card_args.json, "Machine-readable output");

  ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve", "Serve a finished run or a TorchScript model over HTTP (the teacher API)");
  serve->add_option("teacher", serve_args.teacher, "Run id, or a TorchScript file (.pt)")->required();
  serve->add_option("--config", serve_args.config, "Serve config (JSON): keys, budgets, price, output mode")->required();
  serve->add_option("--port", serve_args.port, "TCP port (default 8080; 0: any free port, printed as port=)");
  serve->add_option("--host", serve_args.host, "Address to bind (default 127.0.0.1: this machine only)");
  serve->add_option("--db", db, "Run store (for a run id)");

  AuditArgs audit_args;
  auto* audit_log = app.add_subcommand(
      "audit-log", "Audit a serve request log per API key: PRADA (Shapiro-Wilk on query distances), distribution shift");
  audit_log->add_option("log", audit_args.log, "The request log (the serve config's \"log\" SQLite file)")->required();
  audit_log->add_option("--data", audit_args.data, "The task's IDX image folder, for the distribution-shift score");
  audit_log->add_option("--dataset", audit_args.dataset, "Format of --data: fashion-mnist (default) or mnist");
  audit_log->add_option("--delta", audit_args.delta, "PRADA threshold: flagged when W < delta (default 0.8)");
  audit_log->add_flag("--json", audit_args.json, "Machine-readable output");
  ForensicsArgs forensics_args;
  auto* forensics = app.add_subcommand("forensics", "Test whether a suspect model is a copy of the teacher (p-values against a null of independent runs)");
  forensics->add_option("--suspect", forensics_args.suspect, "Run id, TorchScript file (.pt) or teacher API URL (key: $DISTILLERY_API_KEY)")
      ->required();
  forensics->add_option("--teacher", forensics_args.teacher, "Run id or TorchScript file (.pt)")->required();
  forensics->add_option("--null", forensics_args.null, "Independent runs on the same task, e.g. 3,4,5: the null the p-values rank against")
      ->delimiter(',')->required();
  forensics->add_option("--tests", forensics_args.tests, "agreement,sac,fingerprint (default: all)")->delimiter(',');
  forensics->add_option("--confer-with", forensics_args.confer_with,
                        "Fingerprints' surrogate students (e.g. the teacher's own students): crafted towards / kept if they follow")
      ->delimiter(',');
  forensics->add_option("--confer-against", forensics_args.confer_against,
                        "Fingerprints' surrogate references, independent runs not in --null: crafted away from / dropped if most follow")
      ->delimiter(',');
  forensics->add_option("--fingerprint-crafting", forensics_args.fingerprint_crafting,
                        "teacher (PGD on the teacher, the surrogates filter; default) or conferrable (PGD on teacher and surrogates)");
  forensics->add_option("--inputs", forensics_args.inputs, "Inputs per test sent to each model (default 64)");
  forensics->add_option("--seed", forensics_args.seed, "Seed of the inputs and fingerprints (default 0)");
  forensics->add_flag("--json", forensics_args.json, "Machine-readable output");
  forensics->add_option("--db", db, "Run store");
  // issue 18, part 1: the harness (ROC per test and kind of positive)
  ForensicsRocArgs roc_args;
  auto* forensics_roc = app.add_subcommand(
      "forensics-roc", "Calibrate the forensic tests: ROC AUC, TPR at 1% FPR and queries per test and kind of copy");
  forensics_roc->add_option("--teacher", roc_args.teacher, "Run id or TorchScript file (.pt)")->required();
  forensics_roc->add_option("--null", roc_args.null, "Independent runs on the teacher's task, e.g. 3,4,5: the null p-values rank against")
      ->delimiter(',')->required();
  forensics_roc->add_option("--negatives", roc_args.negatives, "Held-out independent runs (not in --null), e.g. 6,7,8")
      ->delimiter(',')->required();
  forensics_roc->add_option("--positives", roc_args.positives,
                            "KIND=IDS: copies of the teacher of one kind, e.g. kd=9,10 (repeat per kind; runs, .pt files or API URLs)")
      ->required();
  forensics_roc->add_option("--confer-with", roc_args.confer_with,
                            "Fingerprints' surrogate students (students of the teacher, not positives)")
      ->delimiter(',');
  forensics_roc->add_option("--confer-against", roc_args.confer_against,
                            "Fingerprints' surrogate references (independent runs not in --null or --negatives)")
      ->delimiter(',');
  forensics_roc->add_option("--fingerprint-crafting", roc_args.fingerprint_crafting,
                            "teacher (PGD on the teacher, the surrogates filter; default) or conferrable (PGD on teacher and surrogates)");
  forensics_roc->add_option("--tests", roc_args.tests, "agreement,sac,fingerprint (default: all)")->delimiter(',');
  forensics_roc->add_option("--inputs", roc_args.inputs, "Inputs per test sent to each model (default 64)");
  forensics_roc->add_option("--seed", roc_args.seed, "Seed of the inputs and fingerprints (default 0)");
  forensics_roc->add_flag("--json", roc_args.json, "Machine-readable output");
  forensics_roc->add_option("--db", db, "Run store");
  // issue 18, part 2: watermark radioactivity
  WatermarkTestArgs wm;
  auto* watermark_test = app.add_subcommand("watermark-test", "Test an LM run (or a text file) for a teacher's green-list watermark");
  watermark_test->add_option("--suspect", wm.suspect, "The language-model run to test (with --text: the run whose vocabulary tokenizes the file)")->required();
  watermark_test->add_option("--key", wm.key, "The watermark's secret key")->required();
  watermark_test->add_option("--gamma", wm.request.params.gamma, "Green share (default 0.25)");
  watermark_test->add_option("--context", wm.request.params.context, "Tokens that seed a green list, h (default 4)");
  watermark_test->add_option("--samples", wm.request.samples, "Sequences generated, or text windows scored (default 64)");
  watermark_test->add_option("--length", wm.request.length, "Tokens per sequence or window (default 256)");
  watermark_test->add_option("--temperature", wm.request.temperature, "Sampling temperature of the suspect (default 1)");
  watermark_test->add_option("--seed", wm.request.seed, "Seed of the prompts and samples (default 0)");
  watermark_test->add_flag("--open-weights", wm.request.open_weights, "Score the suspect's top-1 predictions on fixed text instead of its samples");
  watermark_test->add_option("--statistic", wm.request.statistic, "Open weights: top1 (the top-1 token, binomial; default) or mass (the probability on each window's green list, z test)");
  watermark_test->add_option("--reference", wm.request.reference_run, "With --statistic mass: a run (the teacher) whose next-token probabilities are subtracted from the suspect's");
  watermark_test->add_option("--reading", wm.request.reading, "Open weights: the text the suspect reads: corpus (--samples held-out windows at random starts; default), heldout (the whole held-out split once, in consecutive windows) or samples (its own samples)");
  watermark_test->add_option("--text", wm.text, "Score this UTF-8 text file instead of the suspect's output");
  watermark_test->add_flag("--json", wm.json, "Machine-readable output");
  watermark_test->add_option("--db", db, "Run store");

  // issue 19, part 2: Slurm
  bool submit_slurm = false;
  SlurmOptions slurm_options;
  auto* submit = app.add_subcommand("submit", "Submit a run to a cluster's scheduler (Slurm): one task per rank (docs/distributed.md)");
  submit->add_option("config", config_path, "Run config (JSON)")->required();
  submit->add_flag("--slurm", submit_slurm, "Submit to Slurm with sbatch");
  submit->add_option("--nodes", slurm_options.nodes, "Nodes (default 1)");
  submit->add_option("--ntasks-per-node", slurm_options.ntasks_per_node, "Tasks (ranks) per node, one per GPU (default 1)");
  submit->add_option("--gpus-per-task", slurm_options.gpus_per_task, "GPUs per task (default: none asked for)");
  submit->add_option("--partition", slurm_options.partition, "Slurm partition (default: the cluster's)");
  submit->add_option("--time", slurm_options.time, "Time limit, HH:MM:SS or D-HH:MM:SS");
  submit->add_option("--account", slurm_options.account, "Slurm account to charge");
  submit->add_option("--job-dir", slurm_options.job_dir,
                     "Job folder on a filesystem the nodes share (default: slurm-jobs/run-ID beside the store)");
  submit->add_flag("--dry-run", slurm_options.dry_run, "Print the batch script; queue and submit nothing");
  submit->add_option("--db", db, "Run store");
  auto* cancel = app.add_subcommand("cancel", "Cancel a run submitted to Slurm (scancel)");
  cancel->add_option("id", id, "Run id")->required();
  cancel->add_option("--db", db, "Run store");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*run) {
      if (task_run_id != 0 || !task_job_dir.empty()) return cmdRunJobTask(task_run_id, task_job_dir);
      if (!use_default && !use_default_lm && config_path.empty()) {
        std::cerr << "error: run needs a CONFIG.json, --default or --default-lm\n";
        return 2;
      }
      const std::string path = resolveStorePath(db);
      const auto parent = std::filesystem::path(path).parent_path();
      std::error_code ec;
      if (!parent.empty() && path != ":memory:") std::filesystem::create_directories(parent, ec);
      return cmdRun(config_path, use_default, baseline, db, use_default_lm);
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
    if (*check) return cmdCheck(db);
    if (*show) return cmdShow(db, id, json);
    if (*metrics) return cmdMetrics(db, id, metric);
    if (*methods) return cmdMethods(json);
    if (*export_model) return cmdExport(db, id, export_out);
    if (*resume) return cmdResume(db, id);
    if (*launch) return cmdLaunch(db, launch_nproc, config_path, launch_resume);
    if (*model_card) return cmdModelCard(card_args);
    if (*serve) return cmdServe(db, serve_args);
    if (*audit_log) return cmdAuditLog(audit_args);
    if (*forensics) return cmdForensics(db, forensics_args);
    if (*forensics_roc) return cmdForensicsRoc(db, roc_args);
    if (*watermark_test) return cmdWatermarkTest(db, wm);
    if (*submit) return cmdSubmit(db, config_path, submit_slurm, slurm_options);
    if (*cancel) return cmdCancel(db, id);
    if (*export_chart) return cmdExportChart(db, ex);
    if (*export_cost_chart) return cmdExportCostChart(db, ex);
    if (*report) return cmdReport(db, ex);
    if (*table) return cmdTable(db, ex);
    if (*generate) {
      if (gen_request.prompts.empty()) gen_request.prompts = LmRunGenerator::defaultPrompts();
      return cmdGenerate(db, id, gen_request, json);
    }
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
