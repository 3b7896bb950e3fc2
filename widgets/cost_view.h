#pragma once
// Accuracy against cost for the compared runs and their teachers: one dot per
// run in its colour, labelled, teachers as squares, and the Pareto front as a
// step line. Which runs and points, the front and the ranges come from
// core/export/cost_chart.h, which the CLI and the reports export too. Below the
// chart, each distilled student is set against its teacher: the accuracy it
// keeps for the cost it saves, and what that cost counts (its teacher's
// inference for a cache included; the teacher's training is in its own run).
#include "core/export/cost_chart.h"

#include <QColor>
#include <QList>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <vector>

class QCheckBox;
class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class CostView : public QWidget {
  Q_OBJECT
public:
  using Cost = distillery::CostKind;
  using Accuracy = distillery::CostAccuracy;

  explicit CostView(distillery::RunStore& store, QWidget* parent = nullptr);

  void setRuns(const QList<int64_t>& runIds);
  void setCost(Cost cost);
  void setAccuracy(Accuracy accuracy);
  void setLogX(bool logX);

  // What is plotted, for tests: every run with both figures, teachers included.
  const std::vector<distillery::CostPoint>& points() const { return chart_.points; }
  std::vector<int64_t> frontRunIds() const { return chart_.frontRunIds(); }
  // The chart as plotted, for export (distillery::costChartSpec).
  const distillery::CostChart& costChart() const { return chart_; }
  QChartView* chartView() const { return chartView_; }
  QString comparisonText() const;
  // The cost axis's labels as shown (SI: "10G"), for tests.
  QStringList xTickLabels() const;
  // The colour of a plotted run: its curves' colour in the compare view.
  QColor colorOf(int64_t runId) const;

private:
  void rebuild();

  distillery::RunStore& store_;
  QList<int64_t> runIds_;
  distillery::CostChart chart_;
  QComboBox* costCombo_;
  QComboBox* accuracyCombo_;
  QCheckBox* logX_;
  QChartView* chartView_;
  QLabel* comparison_;
  QLabel* missing_;
};

} // namespace distillery::gui
