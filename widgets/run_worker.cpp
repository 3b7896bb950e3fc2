#include "widgets/run_worker.h"

#include "core/training/engine.h"
#include "core/store/run_status.h"
#include "core/store/run_store.h"
#include "widgets/run_signal_observer.h"

#include <exception>
#include <utility>

namespace distillery::gui {

namespace {

QString statusName(distillery::RunOutcome::Kind kind) {
  return QString::fromStdString(distillery::toString(distillery::storedStatus(kind)));
}

} // namespace

RunWorker::RunWorker(std::string storePath, int64_t runId, distillery::RunConfig config, Mode mode)
    : storePath_(std::move(storePath)), runId_(runId), config_(std::move(config)), mode_(mode) {}

void RunWorker::run() {
  QString status = QString::fromStdString(distillery::toString(distillery::RunStatus::Failed));
  QString message;
  try {
    // Opened here, on the worker thread, and closed before finished() is sent.
    distillery::RunStore store(storePath_);
    RunSignalObserver observer(*this);
    const distillery::RunOutcome outcome =
        mode_ == Mode::Resume ? distillery::resumeRun(store, runId_, observer, stop_)
                              : distillery::executeRun(store, runId_, config_, observer, stop_);
    status = statusName(outcome.kind);
    message = QString::fromStdString(outcome.message);
    // A refused resume leaves the run as it was (cancelled, say): report the
    // status the store holds, so what the window shows follows the run.
    if (mode_ == Mode::Resume && outcome.kind == distillery::RunOutcome::Kind::Failed)
      if (const auto record = store.run(runId_); record && distillery::isTerminal(record->status))
        status = QString::fromStdString(distillery::toString(record->status));
  } catch (const std::exception& e) {
    // executeRun reports run errors in its outcome; this is the store failing to open.
    message = QString::fromUtf8(e.what());
  }
  Q_EMIT finished(runId_, status, message);
}

} // namespace distillery::gui
