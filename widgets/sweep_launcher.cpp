#include "widgets/sweep_launcher.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "core/base/stop_token.h"
#include "core/training/sweep_runner.h"
#include "core/config/sweep_spec.h"

#include <QPointer>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <optional>
#include <functional>

namespace distillery::gui {

namespace {

// Called on the sweep's thread(s), one call at a time (runSweep serialises
// them): copies what it gets and emits the launcher's signals, which Qt
// queues to the GUI thread.
class SweepSignalObserver : public distillery::RunObserver {
public:
  SweepSignalObserver(SweepLauncher* launcher, std::function<void(int64_t)> started)
      : launcher_(launcher), started_(std::move(started)) {}
  void onRunCreated(int64_t, int64_t) override { Q_EMIT launcher_->runsChanged(); }
  void onStarted(int64_t runId) override { started_(runId); } // and the one before it ended
  void onProgress(const distillery::RunProgress& progress) override { Q_EMIT launcher_->progressChanged(progress); }
  void onPoints(const std::vector<distillery::MetricPoint>& points) override {
    Q_EMIT launcher_->pointsArrived(std::make_shared<const std::vector<distillery::MetricPoint>>(points));
  }
  void onLog(const distillery::LogEvent& event) override { Q_EMIT launcher_->logArrived(event); }

private:
  SweepLauncher* launcher_;
  std::function<void(int64_t)> started_;
};

} // namespace

struct SweepLauncher::Active {
  distillery::StopToken stop;
  std::atomic<int64_t> sweepId{0};
  QString name;
  std::unique_ptr<QThread> thread;
};

SweepLauncher::SweepLauncher(distillery::RunStore& store, QObject* parent)
    : QObject(parent), store_(store), storePath_(store.path()) {
  registerRunMetaTypes();
}

SweepLauncher::~SweepLauncher() {
  cancelAll();
  waitForAll();
}

void SweepLauncher::start(const nlohmann::json& sweepDocument, int parallel) {
  if (storePath_.empty() || storePath_ == ":memory:" || storePath_.rfind("file::memory:", 0) == 0)
    throw distillery::StoreError("a sweep runs on threads with connections of their own, so it needs a store file, "
                                 "not an in-memory store");
  const distillery::SweepSpec spec = distillery::parseSweep(sweepDocument);
  distillery::planSweep(spec); // every expanded config checked before anything is stored
  auto active = std::make_unique<Active>();
  Active* raw = active.get();
  raw->name = QString::fromStdString(spec.name);
  const std::string path = storePath_;
  active->thread.reset(QThread::create([this, raw, spec, parallel, path] {
    // A run of the sweep started: on the GUI thread, learn the sweep's id from
    // the run's record (runSweep wrote it before starting the run).
    SweepSignalObserver observer(this, [this, raw](int64_t runId) {
      QMetaObject::invokeMethod(this, [this, raw, runId] { runStarted(raw, runId); }, Qt::QueuedConnection);
    });
    QString summary;
    qint64 id = 0;
    try {
      distillery::SweepOutcome outcome = distillery::runSweep(path, spec, parallel, observer, raw->stop);
      id = outcome.sweep_id;
      int ok = 0, failed = 0, cancelled = 0;
      for (const auto& r : outcome.runs) {
        if (r.outcome.kind == distillery::RunOutcome::Kind::Success) ++ok;
        else if (r.outcome.kind == distillery::RunOutcome::Kind::Cancelled) ++cancelled;
        else ++failed;
      }
      summary = tr("Sweep %1 (#%2): %3 finished, %4 failed, %5 cancelled")
                    .arg(QString::fromStdString(spec.name))
                    .arg(id)
                    .arg(ok)
                    .arg(failed)
                    .arg(cancelled);
    } catch (const std::exception& e) {
      summary = tr("Sweep %1 stopped: %2").arg(QString::fromStdString(spec.name), QString::fromUtf8(e.what()));
    }
    QMetaObject::invokeMethod(this, [this, raw, id, summary] { finished(raw, id, summary); }, Qt::QueuedConnection);
  }));
  active_.push_back(std::move(active));
  raw->thread->start();
}

void SweepLauncher::runStarted(Active* sweep, int64_t runId) {
  const bool known = std::any_of(active_.begin(), active_.end(), [sweep](const auto& a) { return a.get() == sweep; });
  if (known && sweep->sweepId.load() == 0) {
    try {
      if (const auto run = store_.run(runId); run && run->sweep_id) {
        sweep->sweepId = run->sweep_id;
        Q_EMIT sweepStarted(run->sweep_id, sweep->name);
      }
    } catch (const distillery::DistilleryError&) {
      // The table's own refresh reports store trouble.
    }
  }
  Q_EMIT runsChanged();
}

void SweepLauncher::finished(Active* sweep, qint64 sweepId, const QString& summary) {
  const auto it = std::find_if(active_.begin(), active_.end(), [sweep](const auto& a) { return a.get() == sweep; });
  if (it == active_.end()) return;
  (*it)->thread->wait();
  const bool announced = (*it)->sweepId.load() != 0;
  const QString name = (*it)->name;
  active_.erase(it);
  if (!announced && sweepId) Q_EMIT sweepStarted(sweepId, name);
  Q_EMIT runsChanged();
  Q_EMIT sweepFinished(sweepId, summary);
}

bool SweepLauncher::cancelSweepOf(int64_t runId, bool dryRun) {
  if (active_.empty()) return false;
  std::optional<distillery::RunRecord> run;
  try {
    run = store_.run(runId);
  } catch (const distillery::DistilleryError&) {
    return false;
  }
  if (!run || !run->sweep_id) return false;
  bool found = false;
  for (const auto& a : active_)
    if (a->sweepId.load() == run->sweep_id) {
      if (!dryRun) a->stop.requestStop();
      found = true;
    }
  return found;
}

void SweepLauncher::cancelAll() {
  for (const auto& a : active_) a->stop.requestStop();
}

int SweepLauncher::activeCount() const { return int(active_.size()); }

void SweepLauncher::waitForAll() {
  for (const auto& a : active_) a->thread->wait();
}

} // namespace distillery::gui
