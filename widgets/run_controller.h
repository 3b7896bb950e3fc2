#pragma once
// Starts, tracks and cancels runs. Each run gets a RunWorker living on its own
// QThread; the controller owns both and re-emits the worker's signals on the
// GUI thread. Several runs may execute at once.
#include "core/config/run_config.h"
#include "widgets/run_meta_types.h"

#include <QList>
#include <QObject>
#include <QString>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

class QThread;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class RunWorker;

class RunController : public QObject {
  Q_OBJECT
public:
  // guiStore is the GUI thread's connection, used to queue runs; workers open
  // their own connections to the same file. An in-memory store cannot be
  // shared across connections, so it must be a file.
  explicit RunController(distillery::RunStore& guiStore, QObject* parent = nullptr);
  // Asks every run to stop and waits for each thread to end.
  ~RunController() override;

  // Records the run as queued (so it is listed at once), then starts it on a
  // new thread. Throws ConfigError or StoreError if it cannot even be queued.
  int64_t startRun(const distillery::RunConfig& config);
  // Continues a cancelled, interrupted or failed run from its last checkpoint
  // (or, having none, from step 0) on a new thread, under the same id. Throws
  // StoreError with resumeRefusal's reason when it cannot resume.
  void resumeRun(int64_t runId);
  // Empty when resumeRun(runId) will start the run, else why not: it (or its
  // teacher, or the run training it as its teacher) is active here, or
  // distillery::resumeRefusal (core/store/resume_check.h) refuses it.
  std::string resumeRefusal(int64_t runId) const;
  // Cancels the active run with this id, or the run that created it (a
  // teacher being trained for a distill run). False if nothing was active.
  bool cancelRun(int64_t runId);
  void cancelAll();

  bool isActive(int64_t runId) const;
  QList<int64_t> activeRuns() const;
  int activeCount() const { return int(runs_.size()); }

Q_SIGNALS:
  void runQueued(qint64 runId);
  void runCreated(qint64 runId, qint64 parentRunId);
  void runStarted(qint64 runId);
  void progressChanged(const distillery::RunProgress& progress);
  void pointsArrived(const distillery::gui::MetricPointBatch& points);
  void logArrived(const distillery::LogEvent& event);
  void runFinished(qint64 runId, const QString& status, const QString& message);

private:
  struct ActiveRun {
    std::unique_ptr<QThread> thread;
    std::unique_ptr<RunWorker> worker; // lives on `thread`; deleted after it ends
    std::set<int64_t> children;        // runs it created, e.g. its teacher
  };

  const ActiveRun* findOwner(int64_t runId) const;
  void launch(int64_t runId, std::unique_ptr<RunWorker> owned);
  void onWorkerFinished(qint64 runId, const QString& status, const QString& message);
  static void stopAndJoin(ActiveRun& run);

  distillery::RunStore& store_;
  std::string storePath_;
  std::map<int64_t, ActiveRun> runs_;
};

} // namespace distillery::gui
