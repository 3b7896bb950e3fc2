#pragma once
// One live chart of a few metrics against the training step, overlaying any
// number of runs: one series per (run, metric), coloured by run, styled by
// metric. Points are added in batches: the chart holds every point and gives
// each touched series QXYSeries::replace() with them decimated to the plot's
// pixel columns (min/max per column), so a batch costs a scan of what is held
// in memory and a redraw of about two points per column. Non-finite
// values are never fed to Qt Charts (which would drop them silently): the
// series is marked diverged instead, with a red marker at its last finite point.
#include "core/store/metric_point.h"

#include <QChartView>
#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

class QLineSeries;
class QScatterSeries;
class QCategoryAxis;

namespace distillery::gui {

class MetricChartView : public QChartView {
  Q_OBJECT
public:
  // metrics: the metric names this chart shows, e.g. {"train_loss", "train_soft_loss"}.
  MetricChartView(const QString& title, const QString& valueTitle, const QStringList& metrics,
                  QWidget* parent = nullptr);

  const QStringList& metrics() const { return metrics_; }
  // Which runs are drawn. Series of runs no longer listed are removed; new runs
  // start empty until their points are added. labels: legend text per run id.
  void setRuns(const QList<int64_t>& runIds, const std::map<int64_t, QString>& labels = {});
  QList<int64_t> runs() const { return runIds_; }
  void clear();
  // Drops the run's drawn points (it stays shown): a resumed run redoes the
  // steps after its checkpoint, or all of them, and addPoints would ignore
  // those as already drawn.
  void forgetPoints(int64_t runId);

  // Points of runs not shown and metrics not charted here are ignored, as are
  // points at or before the last step already drawn (so store reads and live
  // batches may overlap).
  void addPoints(const std::vector<distillery::MetricPoint>& points);

  // For tests and the status bar: points held for a run (all metrics, or one;
  // a long curve draws fewer, see drawCurve).
  int pointCount(int64_t runId, const QString& metric = {}) const;
  bool isDiverged(int64_t runId) const;
  QLineSeries* series(int64_t runId, const QString& metric) const;
  // The dot that stands for a curve of a single point (a line of one point draws nothing).
  QScatterSeries* dotSeries(int64_t runId, const QString& metric) const;
  // The y axis as shown, for tests.
  QStringList yTickLabels() const;
  double yMin() const;
  double yMax() const;
  // The colour of a shown run's curves: unique among the shown runs (up to 12).
  QColor colorOf(int64_t runId) const;

private:
  struct Curve {
    QLineSeries* series = nullptr;
    QScatterSeries* dot = nullptr; // holds the point while the curve has only one
    QList<QPointF> points;
    int64_t lastStep = -1;
    double minY = 0.0, maxY = 0.0; // of `points`, valid when it is not empty
    bool diverged = false;
  };
  using Key = std::pair<int64_t, QString>;

  Curve& curve(int64_t runId, const QString& metric);
  void removeCurve(Curve& curve);
  // Room right of the plot for half of the last x label, which is centred on the plot's edge.
  void fitRightMargin();
  QString runLabel(int64_t runId) const;
  // One legend entry per run: the curve of its first metric stands for it.
  void updateLegend();
  void markDiverged(Curve& curve);
  // Replaces the curve's series with its points, decimated to the plot's width.
  void drawCurve(Curve& curve);
  static int columnsFor(double plotWidth);
  void updateRanges();
  void rebuildDivergenceMarkers();

  QStringList metrics_;
  QList<int64_t> runIds_;
  std::map<int64_t, QString> runLabels_;
  std::map<int64_t, QColor> colors_;
  std::map<Key, Curve> curves_;
  QCategoryAxis* axisX_;
  QCategoryAxis* axisY_;
  bool bounded_ = false; // a fraction: the y axis stops at 1
  QScatterSeries* divergence_;
  int drawnColumns_ = 0; // the columns the curves were last decimated to
};

} // namespace distillery::gui
