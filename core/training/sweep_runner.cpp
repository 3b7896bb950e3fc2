#include "core/training/sweep_runner.h"

#include "core/base/errors.h"
#include "core/training/run_preflight.h"
#include "core/store/run_store.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace distillery {

bool SweepOutcome::allSucceeded() const {
  if (teacher_run_id && teacher.kind != RunOutcome::Kind::Success) return false;
  return std::all_of(runs.begin(), runs.end(),
                     [](const SweepRunResult& r) { return r.outcome.kind == RunOutcome::Kind::Success; });
}

bool SweepOutcome::anyFailed() const {
  if (teacher_run_id && teacher.failed()) return true;
  return std::any_of(runs.begin(), runs.end(), [](const SweepRunResult& r) { return r.outcome.failed(); });
}

bool SweepOutcome::anyCancelled() const {
  if (teacher_run_id && teacher.kind == RunOutcome::Kind::Cancelled) return true;
  return std::any_of(runs.begin(), runs.end(),
                     [](const SweepRunResult& r) { return r.outcome.kind == RunOutcome::Kind::Cancelled; });
}

namespace {

// Forwards to an observer that may not be thread-safe, one call at a time.
class SerialObserver : public RunObserver {
public:
  explicit SerialObserver(RunObserver& inner) : inner_(inner) {}
  void onRunCreated(int64_t run_id, int64_t parent) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.onRunCreated(run_id, parent);
  }
  void onStarted(int64_t run_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.onStarted(run_id);
  }
  void onProgress(const RunProgress& progress) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.onProgress(progress);
  }
  void onPoints(const std::vector<MetricPoint>& points) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.onPoints(points);
  }
  void onLog(const LogEvent& event) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.onLog(event);
  }

private:
  RunObserver& inner_;
  std::mutex mutex_;
};

// Ends a run that never started (cancelled, or its teacher failed).
RunOutcome endUnstarted(RunStore& store, int64_t run_id, RunOutcome::Kind kind, const std::string& message) {
  RunOutcome out;
  out.run_id = run_id;
  out.kind = kind;
  out.message = message;
  try {
    store.setStatus(run_id, storedStatus(kind), message);
  } catch (const std::exception& e) {
    out.kind = RunOutcome::Kind::Failed;
    out.message += std::string("; could not record it: ") + e.what();
  }
  return out;
}

bool isMemoryStore(const std::string& path) {
  return path.empty() || path == ":memory:" || path.rfind("file::memory:", 0) == 0;
}

} // namespace

SweepOutcome runSweep(const std::string& store_path, const SweepSpec& spec, int parallel, RunObserver& observer,
                      const StopToken& stop) {
  // Everything is validated before anything is written.
  SweepPlan plan = planSweep(spec);
  RunStore store(store_path);
  if (plan.teacher) preflightRun(*plan.teacher, &store);
  for (const RunConfig& c : plan.runs) preflightRun(c, &store);
  SerialObserver serial(observer);
  SweepOutcome out;

  out.sweep_id = store.createSweep(spec.name, spec.source.dump());
  if (plan.teacher) {
    out.teacher_run_id = queueRun(store, *plan.teacher);
    store.setSweep(out.teacher_run_id, out.sweep_id);
    for (RunConfig& c : plan.runs) {
      if (!c.isDistill() || c.teacher.kind != TeacherSource::Kind::Zoo) continue;
      c.teacher = TeacherSource{};
      c.teacher.kind = TeacherSource::Kind::Run;
      c.teacher.run_id = out.teacher_run_id;
    }
  }
  // Queue every run first, so the whole sweep is listed from the start.
  const size_t n = plan.runs.size();
  out.runs.resize(n);
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) {
    ids[i] = queueRun(store, plan.runs[i]);
    store.setSweep(ids[i], out.sweep_id);
    out.runs[i].name = plan.runs[i].name;
    out.runs[i].run_id = ids[i];
  }

  if (plan.teacher) {
    if (stop.stopRequested())
      out.teacher = endUnstarted(store, out.teacher_run_id, RunOutcome::Kind::Cancelled, "cancelled before it started");
    else
      out.teacher = executeRun(store, out.teacher_run_id, *plan.teacher, serial, stop);
    if (out.teacher.kind != RunOutcome::Kind::Success) {
      const bool cancelled = out.teacher.kind == RunOutcome::Kind::Cancelled;
      const std::string why = "the sweep's teacher run " + std::to_string(out.teacher_run_id) +
                              (cancelled ? " was cancelled" : " failed: " + out.teacher.message);
      for (size_t i = 0; i < n; ++i)
        out.runs[i].outcome = endUnstarted(store, ids[i], out.teacher.kind, why);
      return out;
    }
  }

  // Workers claim runs in expansion order.
  std::atomic<size_t> next{0};
  std::vector<char> done(n, 0);
  auto work = [&](RunStore& s) {
    for (;;) {
      const size_t i = next++;
      if (i >= n) return;
      if (stop.stopRequested())
        out.runs[i].outcome = endUnstarted(s, ids[i], RunOutcome::Kind::Cancelled, "cancelled before it started");
      else
        out.runs[i].outcome = executeRun(s, ids[i], plan.runs[i], serial, stop);
      done[i] = 1;
    }
  };

  const int workers = isMemoryStore(store_path) ? 1 : int(std::clamp<size_t>(size_t(std::max(parallel, 1)), 1, std::max<size_t>(n, 1)));
  if (workers <= 1) {
    work(store);
    return out;
  }

  // Concurrent runs share the cores rather than each claiming all of them.
  const int previous_threads = at::get_num_threads();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int per_worker = std::max(1, int(cores) / workers);
  std::mutex error_mutex;
  std::string worker_error;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      try {
        at::set_num_threads(per_worker);
        RunStore own(store_path); // one connection per thread, opened on it
        work(own);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (worker_error.empty()) worker_error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  at::set_num_threads(previous_threads);

  // Runs no worker could take (their connections failed to open).
  for (size_t i = 0; i < n; ++i)
    if (!done[i])
      out.runs[i].outcome = endUnstarted(store, ids[i], RunOutcome::Kind::Failed,
                                         "the sweep could not run it: " + worker_error);
  return out;
}

} // namespace distillery
