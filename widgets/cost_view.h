#pragma once
// Accuracy against cost for the compared runs and their teachers: one dot per
// run in its colour, labelled, teachers as squares, and the Pareto front
// (core/analysis/pareto_front.h) as a step line. Below the chart, each distilled
// student is set against its teacher: the accuracy it keeps for the cost it saves.
#include <QColor>
#include <QList>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <map>
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
  enum class Cost { WallTime, TrainingFlops, InferenceFlops, Parameters };
  enum class Accuracy { Test, BestValidation };

  explicit CostView(distillery::RunStore& store, QWidget* parent = nullptr);

  void setRuns(const QList<int64_t>& runIds);
  void setCost(Cost cost);
  void setAccuracy(Accuracy accuracy);
  void setLogX(bool logX);

  // What is plotted, for tests: every run with both figures, teachers included.
  struct Point {
    int64_t run_id = 0;
    QString label;
    double cost = 0, accuracy = 0; // accuracy as a fraction
    bool teacher = false;          // added as the teacher of a compared run
  };
  const std::vector<Point>& points() const { return points_; }
  std::vector<int64_t> frontRunIds() const;
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
  std::vector<Point> points_;
  std::vector<size_t> front_;
  std::map<int64_t, QColor> colors_;
  QComboBox* costCombo_;
  QComboBox* accuracyCombo_;
  QCheckBox* logX_;
  QChartView* chartView_;
  QLabel* comparison_;
  QLabel* missing_;
};

} // namespace distillery::gui
