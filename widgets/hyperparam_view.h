#pragma once
// Hyperparameter plot: one point per run, any config key on x against any
// summary metric on y, for the selected runs or one sweep. Numeric keys use a
// value axis (log scale on request), other keys (method, student, ...) one
// category each. The points come from core/analysis/hyperparam_points.h.
#include "core/analysis/hyperparam_points.h"

#include <QList>
#include <QWidget>

#include <cstdint>
#include <string>

class QCheckBox;
class QComboBox;
class QLabel;
class QScatterSeries;

class QChart;
class QChartView;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class HyperparamView : public QWidget {
  Q_OBJECT
public:
  explicit HyperparamView(distillery::RunStore& store, QWidget* parent = nullptr);

  // The runs behind the "Selected runs" entry; shows them.
  void setSelectedRuns(const QList<int64_t>& runIds);
  // Shows one sweep's runs (false when the store has no such sweep).
  bool showSweep(int64_t sweepId);
  // Picks the axes (keys must be among the offered ones; false otherwise).
  bool setAxes(const std::string& xKey, const std::string& yMetric);
  // Re-reads the runs (after new results) and redraws.
  void reload();

  const distillery::HyperparamScatter& scatter() const { return scatter_; }
  QComboBox* sourceCombo() const { return source_; }
  QComboBox* xCombo() const { return x_; }
  QComboBox* yCombo() const { return y_; }
  QScatterSeries* series() const { return series_; }
  QChart* chart() const { return chart_; }

private:
  void fillSources();
  void loadRuns();
  void fillKeys();
  void redraw();

  distillery::RunStore& store_;
  QList<int64_t> selected_;
  std::vector<distillery::RunRecord> runs_;
  distillery::HyperparamScatter scatter_;
  QComboBox* source_;
  QComboBox* x_;
  QComboBox* y_;
  QCheckBox* logX_;
  QLabel* note_;
  QChart* chart_;
  QChartView* chartView_;
  QScatterSeries* series_;
};

} // namespace distillery::gui
