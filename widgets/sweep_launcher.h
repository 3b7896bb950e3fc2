#pragma once
// Runs sweeps started from the GUI through core/training/sweep_runner.h, the code
// behind `distillery-cli sweep`, on a thread of their own (runSweep blocks
// until the whole sweep is done). Progress and points reach the GUI thread as
// queued signals; the runs are in the store, grouped by their sweep.
#include "widgets/run_meta_types.h"

#include <QList>
#include <QObject>
#include <QString>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace distillery {
class RunStore;
class StopToken;
}

namespace distillery::gui {

class SweepLauncher : public QObject {
  Q_OBJECT
public:
  // store: the GUI thread's connection (it must be a file: each sweep thread
  // opens its own connection to it).
  explicit SweepLauncher(distillery::RunStore& store, QObject* parent = nullptr);
  // Stops every sweep after its current batches and waits for them.
  ~SweepLauncher() override;

  // Checks the sweep document (throws ConfigError before anything is stored),
  // then starts it. The sweep's id arrives with sweepStarted().
  void start(const nlohmann::json& sweepDocument, int parallel);
  // Asks the active sweep that holds this run to stop (its queued runs end
  // cancelled). False when the run is in no active sweep; dryRun only tells.
  bool cancelSweepOf(int64_t runId, bool dryRun = false);
  void cancelAll();
  int activeCount() const;
  // Blocks until every sweep has ended (tests).
  void waitForAll();

Q_SIGNALS:
  void sweepStarted(qint64 sweepId, const QString& name);
  // A run of a sweep was created, started or ended: the table should re-read the store.
  void runsChanged();
  void progressChanged(const distillery::RunProgress& progress);
  void pointsArrived(const distillery::gui::MetricPointBatch& points);
  void logArrived(const distillery::LogEvent& event);
  void sweepFinished(qint64 sweepId, const QString& summary);

private:
  struct Active;
  void runStarted(Active* sweep, int64_t runId);
  void finished(Active* sweep, qint64 sweepId, const QString& summary);

  distillery::RunStore& store_;
  std::string storePath_;
  std::vector<std::unique_ptr<Active>> active_;
};

} // namespace distillery::gui
