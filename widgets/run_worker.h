#pragma once
// Executes one run on its own thread. The worker is moved to a QThread by
// RunController; run() opens the worker's own store connection (SQLite
// connections must stay on the thread that made them) and blocks in the engine
// until the run ends. Everything the engine reports leaves as queued signals.
#include "core/config/run_config.h"
#include "core/base/stop_token.h"
#include "widgets/run_meta_types.h"

#include <QObject>
#include <QString>

#include <cstdint>
#include <string>

namespace distillery::gui {

class RunWorker : public QObject {
  Q_OBJECT
public:
  // Start: execute the queued run from the beginning. Resume: continue a
  // stopped run from its last checkpoint (config is then only informative).
  enum class Mode { Start, Resume };
  RunWorker(std::string storePath, int64_t runId, distillery::RunConfig config, Mode mode = Mode::Start);

  int64_t runId() const { return runId_; }
  // Thread-safe: the engine polls the token once per batch.
  void requestStop() { stop_.requestStop(); }
  bool stopRequested() const { return stop_.stopRequested(); }

public Q_SLOTS:
  void run();

Q_SIGNALS:
  void runCreated(qint64 runId, qint64 parentRunId);
  void runStarted(qint64 runId);
  void progressChanged(const distillery::RunProgress& progress);
  void pointsArrived(const distillery::gui::MetricPointBatch& points);
  void logArrived(const distillery::LogEvent& event);
  // status is a RunStatus name: "finished", "cancelled", "failed" or
  // "diverged"; after a refused resume, the status the run kept.
  void finished(qint64 runId, const QString& status, const QString& message);

private:
  const std::string storePath_;
  const int64_t runId_;
  const distillery::RunConfig config_;
  const Mode mode_;
  distillery::StopToken stop_;
};

} // namespace distillery::gui
