#pragma once
// The engine's observer for a GUI run: called on the worker thread, it only
// copies what it receives into owned values and emits the worker's signals,
// which Qt queues to the GUI thread.
#include "core/store/run_observer.h"

namespace distillery::gui {

class RunWorker;

class RunSignalObserver : public distillery::RunObserver {
public:
  explicit RunSignalObserver(RunWorker& worker) : worker_(worker) {}

  void onRunCreated(int64_t runId, int64_t parentRunId) override;
  void onStarted(int64_t runId) override;
  void onProgress(const distillery::RunProgress& progress) override;
  void onPoints(const std::vector<distillery::MetricPoint>& points) override;
  void onLog(const distillery::LogEvent& event) override;

private:
  RunWorker& worker_;
};

} // namespace distillery::gui
