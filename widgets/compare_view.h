#pragma once
// Compares 2 to 12 runs: a grid of charts (one per chosen metric, every run
// overlaid in its own colour), shared controls for the x axis, log y and
// smoothing, and tabs for the summary table, the config diff, the cost view
// and the defenses of API runs. Everything can be exported as shown: charts
// (PNG/SVG/PDF/CSV/JSON) from each chart's ChartSpec, the points, the tables
// and a report.
#include "core/export/chart_series.h"
#include "render/chart_export.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <set>

class QAction;
class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QMenu;
class QSlider;
class QTabWidget;
class QToolButton;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class CompareChartView;
class ConfigDiffView;
class CostView;
class DefenseView;
class SummaryTableView;

class CompareView : public QWidget {
  Q_OBJECT
public:
  static constexpr int kMinRuns = 2;
  static constexpr int kMaxRuns = 12;

  explicit CompareView(distillery::RunStore& store, QWidget* parent = nullptr);

  // Shows these runs (the first kMaxRuns). Returns a note for the user when
  // the list was cut, else an empty string.
  QString setRuns(const QList<int64_t>& runIds);
  QList<int64_t> runs() const { return runIds_; }
  // Re-reads the shown runs, e.g. after one finished or was renamed.
  void reload();
  // Drops a run that no longer exists.
  void removeRun(int64_t runId);

  QStringList availableMetrics() const { return available_; }
  QStringList metrics() const { return chosen_; }
  void setMetrics(const QStringList& metrics);
  void setXAxis(distillery::XAxisKind kind);
  distillery::XAxisKind xAxis() const { return xAxis_; }
  void setLogY(bool logY);
  // EMA weight in [0, 1); the slider moves in steps of 0.01.
  void setSmoothing(double weight);
  double smoothing() const { return smoothing_; }
  void resetZoom();

  QList<CompareChartView*> charts() const { return charts_; }
  CompareChartView* chart(const QString& metric) const;
  SummaryTableView* summaryView() const { return summary_; }
  ConfigDiffView* configDiffView() const { return diff_; }
  CostView* costView() const { return cost_; }
  DefenseView* defenseView() const { return defenses_; }
  QTabWidget* tabs() const { return tabs_; }
  QMenu* exportMenu() const { return exportMenu_; }

  // Exports without asking; each returns an error message, empty on success.
  // What Export ▸ Chart offers: the metric charts in order, then the cost chart
  // (index exportChartTitles().size() - 1 when it has runs); exportChartCurrent()
  // is the chart last focused, or the cost chart while its tab shows.
  QStringList exportChartTitles() const;
  int exportChartCurrent() const;
  QString exportChart(int chartIndex, const QString& path, const distillery::render::ChartImageOptions& options = {});
  QString exportData(const QString& path);
  QString exportReport(const QString& path);

public Q_SLOTS:
  void exportChartInteractive();
  void exportDataInteractive();
  void exportReportInteractive();

Q_SIGNALS:
  void statusMessage(const QString& message);

private:
  void rebuildMetricMenu();
  void rebuildCharts();
  void updateRunsLabel();
  void updateEnabled();
  void reportResult(const QString& error, const QString& done);

  distillery::RunStore& store_;
  QList<int64_t> runIds_;
  QStringList available_;
  QStringList chosen_;
  distillery::XAxisKind xAxis_ = distillery::XAxisKind::Step;
  bool logY_ = false;
  double smoothing_ = 0.0;

  QLabel* runsLabel_;
  QToolButton* metricsButton_;
  QMenu* metricsMenu_;
  QComboBox* xAxisCombo_;
  QCheckBox* logYCheck_;
  QSlider* smoothingSlider_;
  QLabel* smoothingLabel_;
  QToolButton* resetButton_;
  QToolButton* exportButton_;
  QMenu* exportMenu_;
  QTabWidget* tabs_;
  QWidget* chartPage_;
  QGridLayout* chartGrid_;
  QLabel* emptyHint_;
  QList<CompareChartView*> charts_;
  SummaryTableView* summary_;
  ConfigDiffView* diff_;
  CostView* cost_;
  DefenseView* defenses_;
  CompareChartView* lastFocused_ = nullptr;
  std::set<int64_t> diverged_; // runs with a NaN/Inf in any metric, or failed as diverged
};

} // namespace distillery::gui
