#include "widgets/run_controller.h"

#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/training/run_preflight.h"
#include "core/store/resume_check.h"
#include "core/store/run_status.h"
#include "core/store/run_store.h"
#include "widgets/run_worker.h"

#include <QThread>

namespace distillery::gui {

RunController::RunController(distillery::RunStore& guiStore, QObject* parent)
    : QObject(parent), store_(guiStore), storePath_(guiStore.path()) {
  registerRunMetaTypes();
}

RunController::~RunController() {
  // Ask all first so the runs wind down in parallel, then join them one by one.
  for (auto& [id, run] : runs_) run.worker->requestStop();
  for (auto& [id, run] : runs_) stopAndJoin(run);
  runs_.clear();
}

void RunController::stopAndJoin(ActiveRun& run) {
  run.worker->requestStop();
  run.thread->requestInterruption();
  run.thread->quit(); // takes effect once run() returns to the event loop
  run.thread->wait();
}

int64_t RunController::startRun(const distillery::RunConfig& config) {
  if (storePath_.empty() || storePath_ == ":memory:")
    throw distillery::StoreError("runs need a store file that worker threads can open, not " +
                                 (storePath_.empty() ? std::string("an unnamed store") : storePath_));
  distillery::preflightRun(config, &store_); // a config that cannot start leaves no failed row
  const int64_t runId = distillery::queueRun(store_, config);
  launch(runId, std::make_unique<RunWorker>(storePath_, runId, config));
  return runId;
}

std::string RunController::resumeRefusal(int64_t runId) const {
  const std::string run = "run " + std::to_string(runId);
  if (isActive(runId)) return run + " is already running";
  const auto record = store_.run(runId);
  if (!record) return run + " does not exist";
  // Its teacher child, active under another run of this window (resumed on its own, say).
  if (record->teacher_run_id && isActive(record->teacher_run_id))
    return run + " cannot resume while its teacher, run " + std::to_string(record->teacher_run_id) + ", is running";
  return distillery::resumeRefusal(store_, *record);
}

void RunController::resumeRun(int64_t runId) {
  const std::string why = resumeRefusal(runId);
  if (!why.empty()) throw distillery::StoreError(why);
  const distillery::RunConfig config = distillery::RunConfig::fromJsonText(store_.run(runId)->config_json);
  launch(runId, std::make_unique<RunWorker>(storePath_, runId, config, RunWorker::Mode::Resume));
}

void RunController::launch(int64_t runId, std::unique_ptr<RunWorker> owned) {
  ActiveRun run;
  run.thread = std::make_unique<QThread>();
  run.thread->setObjectName(QStringLiteral("run-%1").arg(runId));
  run.worker = std::move(owned);
  run.worker->moveToThread(run.thread.get());

  RunWorker* worker = run.worker.get();
  connect(run.thread.get(), &QThread::started, worker, &RunWorker::run);
  // Worker signals are emitted on its thread; these connections queue them here.
  connect(worker, &RunWorker::runCreated, this, [this](qint64 child, qint64 parent) {
    auto it = runs_.find(parent);
    if (it != runs_.end()) it->second.children.insert(child);
    Q_EMIT runCreated(child, parent);
  });
  connect(worker, &RunWorker::runStarted, this, &RunController::runStarted);
  connect(worker, &RunWorker::progressChanged, this, &RunController::progressChanged);
  connect(worker, &RunWorker::pointsArrived, this, &RunController::pointsArrived);
  connect(worker, &RunWorker::logArrived, this, &RunController::logArrived);
  connect(worker, &RunWorker::finished, this, &RunController::onWorkerFinished);

  QThread* thread = run.thread.get();
  runs_.emplace(runId, std::move(run));
  Q_EMIT runQueued(runId);
  thread->start();
}

void RunController::onWorkerFinished(qint64 runId, const QString& status, const QString& message) {
  auto it = runs_.find(runId);
  if (it != runs_.end()) {
    // run() has returned, so the thread is idle in its event loop: this join is immediate.
    stopAndJoin(it->second);
    runs_.erase(it);
  }
  // A worker whose store never opened could not record its failure; do it here
  // so the run does not stay "queued" forever.
  try {
    const auto record = store_.run(runId);
    if (record && record->status == distillery::RunStatus::Queued)
      store_.setStatus(runId, distillery::RunStatus::Failed, message.toStdString());
  } catch (const std::exception&) {
  }
  Q_EMIT runFinished(runId, status, message);
}

const RunController::ActiveRun* RunController::findOwner(int64_t runId) const {
  auto it = runs_.find(runId);
  if (it != runs_.end()) return &it->second;
  for (const auto& [id, run] : runs_)
    if (run.children.count(runId)) return &run;
  return nullptr;
}

bool RunController::cancelRun(int64_t runId) {
  const ActiveRun* run = findOwner(runId);
  if (!run) return false;
  run->worker->requestStop();
  return true;
}

void RunController::cancelAll() {
  for (auto& [id, run] : runs_) run.worker->requestStop();
}

bool RunController::isActive(int64_t runId) const { return findOwner(runId) != nullptr; }

QList<int64_t> RunController::activeRuns() const {
  QList<int64_t> ids;
  for (const auto& [id, run] : runs_) {
    ids.append(id);
    for (int64_t child : run.children) ids.append(child);
  }
  return ids;
}

} // namespace distillery::gui
