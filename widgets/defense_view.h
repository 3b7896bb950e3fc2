#pragma once
// The compare view's Defenses tab (issue 17): for the compared runs that
// distilled a clone through a teacher API, clone fidelity against benign cost
// (one labelled dot per run, coloured by defense) and clone fidelity against
// queries (log x, one line per defense, attacker and query strategy; other
// strategies dotted with hollow markers), with a table of the figures under them. The points, series and ranges come from
// core/analysis/defense_tradeoff.h and core/export/defense_chart.h, which the
// reports draw too.
#include "core/analysis/defense_tradeoff.h"
#include "core/export/chart_spec.h"

#include <QList>
#include <QWidget>

#include <cstdint>

class QChartView;
class QLabel;
class QTableView;
class QXYSeries;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class TableDataModel;

class DefenseView : public QWidget {
  Q_OBJECT
public:
  explicit DefenseView(distillery::RunStore& store, QWidget* parent = nullptr);

  void setRuns(const QList<int64_t>& runIds);

  const distillery::DefenseTradeoff& tradeoff() const { return tradeoff_; }
  // The charts as drawn, for export and tests.
  const distillery::ChartSpec& costSpec() const { return costSpec_; }
  const distillery::ChartSpec& queriesSpec() const { return queriesSpec_; }
  QChartView* costChartView() const { return costChart_; }
  QChartView* queriesChartView() const { return queriesChart_; }
  // One series per defense, attacker and strategy in each chart (run-id labels and overlaid markers are drawn apart).
  QList<QXYSeries*> dataSeries(QChartView* view) const;
  QTableView* table() const { return table_; }
  TableDataModel* tableModel() const { return model_; }
  // One legend under both charts (both draw the same series): Qt's own cut the long defense labels to "adapt…".
  QLabel* legend() const { return legend_; }
  // The "select API runs" note, shown instead of the charts when no compared run is one.
  QLabel* emptyMessage() const { return empty_; }

private:
  void rebuild();
  void drawChart(QChartView* view, const distillery::ChartSpec& spec);

  distillery::RunStore& store_;
  QList<int64_t> runIds_;
  distillery::DefenseTradeoff tradeoff_;
  distillery::ChartSpec costSpec_, queriesSpec_;
  QLabel* empty_;
  QWidget* content_;
  QChartView* costChart_;
  QChartView* queriesChart_;
  QTableView* table_;
  TableDataModel* model_;
  QLabel* legend_;
  QLabel* notes_;
};

} // namespace distillery::gui
