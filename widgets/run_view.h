#pragma once
// What the user sees of the selected runs: live loss, accuracy (image runs)
// or perplexity (language-model runs) and agreement charts overlaying every selected run, the current run's summary, and the
// log lines of the shown runs. History comes from the GUI thread's store;
// live data is pushed in by the main window.
#include "core/store/metric_point.h"

#include <QList>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <map>
#include <vector>

class QPlainTextEdit;
class QLabel;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class MetricChartView;
class RunSummaryView;

class RunView : public QWidget {
  Q_OBJECT
public:
  explicit RunView(distillery::RunStore& store, QWidget* parent = nullptr);

  // runIds: every run to draw; current: the run whose summary is shown (0: none).
  // Runs new to the view are read from the store; the others keep their curves.
  void showRuns(const QList<int64_t>& runIds, int64_t current,
                const std::map<int64_t, QString>& labels);
  QList<int64_t> shownRuns() const { return runIds_; }
  int64_t currentRun() const { return current_; }

  void addPoints(const std::vector<distillery::MetricPoint>& points);
  // A shown run (re)started: its curves are redrawn from the store, which now
  // holds only the points its resume kept.
  void reloadRun(int64_t runId);
  // A run followed in the store (RunFollower) had points deleted: its curves
  // are redrawn from `points`, all of its points now, without a store read.
  void replaceRunPoints(int64_t runId, const std::vector<distillery::MetricPoint>& points);
  void addLog(const distillery::LogEvent& event);
  // Re-reads the log pane from the store (a followed run's lines were replaced).
  void reloadLogs();
  // Whose log lines the pane shows (the shown runs and the distill runs of shown teachers).
  QList<int64_t> logRuns() const { return logRunIds_; }
  // Re-reads the current run's record, e.g. when it ends and gets its summary.
  void refreshSummary();

  MetricChartView* lossChart() const { return loss_; }
  MetricChartView* accuracyChart() const { return accuracy_; }
  MetricChartView* perplexityChart() const { return perplexity_; }
  MetricChartView* agreementChart() const { return agreement_; }
  QList<MetricChartView*> charts() const { return {loss_, accuracy_, perplexity_, agreement_}; }
  // One legend for the charts, which all draw the same runs in the same colours:
  // a wrapping row of whole names below them (a chart's own legend row elided
  // four names to "#10…").
  QLabel* legend() const { return legend_; }

private:
  struct LogCursor {
    double wall_s = -1.0;
    std::string message;
  };
  void updateLegend();
  void showPanelsForTasks();
  void appendLogLine(const distillery::LogEvent& event);

  distillery::RunStore& store_;
  QList<int64_t> runIds_;
  // Whose log lines the pane shows: the shown runs and the distill runs that
  // trained a shown teacher, since the teacher phase logs under its distill run.
  QList<int64_t> logRunIds_;
  int64_t current_ = 0;
  MetricChartView* loss_;
  MetricChartView* accuracy_;
  MetricChartView* perplexity_;
  MetricChartView* agreement_;
  QLabel* legend_;
  std::map<int64_t, QString> labels_;
  RunSummaryView* summary_;
  QPlainTextEdit* log_;
  std::map<int64_t, LogCursor> logCursors_; // last line shown per run, to skip repeats
};

} // namespace distillery::gui
