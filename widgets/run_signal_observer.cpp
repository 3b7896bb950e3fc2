#include "widgets/run_signal_observer.h"

#include "widgets/run_worker.h"

namespace distillery::gui {

void RunSignalObserver::onRunCreated(int64_t runId, int64_t parentRunId) {
  Q_EMIT worker_.runCreated(runId, parentRunId);
}

void RunSignalObserver::onStarted(int64_t runId) { Q_EMIT worker_.runStarted(runId); }

void RunSignalObserver::onProgress(const distillery::RunProgress& progress) {
  Q_EMIT worker_.progressChanged(progress);
}

void RunSignalObserver::onPoints(const std::vector<distillery::MetricPoint>& points) {
  if (points.empty()) return;
  // The engine reuses its buffer; the GUI gets its own immutable copy.
  Q_EMIT worker_.pointsArrived(std::make_shared<const std::vector<distillery::MetricPoint>>(points));
}

void RunSignalObserver::onLog(const distillery::LogEvent& event) { Q_EMIT worker_.logArrived(event); }

} // namespace distillery::gui
