#include "widgets/metric_chart_view.h"

#include "core/export/axis_ticks.h"
#include "core/export/series_decimation.h"
#include "core/analysis/metric_catalog.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/legend_label.h"
#include "widgets/run_colors.h"

#include <QCategoryAxis>
#include <QChart>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QFontMetrics>
#include <QPen>
#include <QScatterSeries>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace distillery::gui {

namespace {

const QString kDivergedSuffix = QStringLiteral(" (diverged)");

// "train_soft_loss" -> "soft_loss", "val_accuracy" -> "accuracy".
QString shortMetricName(const QString& metric) {
  for (const QString& prefix : {QStringLiteral("train_"), QStringLiteral("val_")})
    if (metric.startsWith(prefix) && metric.size() > prefix.size()) return metric.mid(prefix.size());
  return metric;
}

Qt::PenStyle penStyleFor(int metricIndex) {
  static const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};
  return styles[std::max(0, metricIndex) % 4];
}

} // namespace

MetricChartView::MetricChartView(const QString& title, const QString& valueTitle,
                                 const QStringList& metrics, QWidget* parent)
    : QChartView(parent), metrics_(metrics) {
  auto* chart = new QChart;
  // Curves of one run share its colour; with several metrics the line style tells them apart.
  QStringList key;
  if (metrics_.size() > 1) {
    static const char* const styleNames[] = {"solid", "dashed", "dotted", "dash-dot"};
    for (int i = 0; i < metrics_.size(); ++i)
      key << QStringLiteral("%1 %2").arg(QLatin1String(styleNames[i % 4]), shortMetricName(metrics_[i]));
  }
  chart->setTitle(key.isEmpty() ? title
                                : QStringLiteral("<p align=\"center\">%1<br><small>%2</small></p>")
                                      .arg(title, key.join(QStringLiteral(" · "))));
  QFont titleFont = chart->titleFont();
  titleFont.setBold(true);
  chart->setTitleFont(titleFont);
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setBackgroundRoundness(0);
  chart->legend()->setVisible(true);
  chart->legend()->setAlignment(Qt::AlignBottom);

  // Round ticks with SI labels (20k steps), as the compare charts and exports have.
  axisX_ = newTickAxis(chart);
  axisX_->setTitleText(tr("step"));
  setAxisTicks(axisX_, 0, 10, AxisScale::Linear, 5);
  axisY_ = newTickAxis(chart);
  axisY_->setTitleText(valueTitle);
  setAxisTicks(axisY_, 0, 1, AxisScale::Linear, 5);
  // Accuracy and agreement are fractions: their axis never passes 1.
  bounded_ = !metrics_.isEmpty() && distillery::metricInfo(metrics_.front().toStdString()).fraction;
  chart->addAxis(axisX_, Qt::AlignBottom);
  chart->addAxis(axisY_, Qt::AlignLeft);

  divergence_ = new QScatterSeries(chart);
  divergence_->setName(tr("diverged (NaN/Inf)"));
  divergence_->setMarkerShape(QScatterSeries::MarkerShapeCircle);
  divergence_->setMarkerSize(12.0);
  divergence_->setColor(QColor(0xd62728));
  divergence_->setBorderColor(QColor(0x7f0000));
  chart->addSeries(divergence_);
  divergence_->attachAxis(axisX_);
  divergence_->attachAxis(axisY_);
  for (QLegendMarker* marker : chart->legend()->markers(divergence_)) marker->setVisible(false);

  setChart(chart);
  fitRightMargin();
  // Curves are decimated to the plot's pixel columns: a wider plot draws them again.
  connect(chart, &QChart::plotAreaChanged, this, [this](const QRectF& area) {
    if (columnsFor(area.width()) == drawnColumns_) return;
    for (auto& [key, c] : curves_) drawCurve(c);
  });
  setRenderHint(QPainter::Antialiasing);
  // Partial updates leave stale point markers behind when the axes rescale.
  setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
  // Four charts and the details panel side by side fit a 1024 px screen.
  setMinimumSize(180, 180);
}

QString MetricChartView::runLabel(int64_t runId) const {
  auto it = runLabels_.find(runId);
  return it != runLabels_.end() && !it->second.isEmpty() ? it->second : QStringLiteral("#%1").arg(runId);
}

void MetricChartView::updateLegend() {
  std::map<int64_t, const Curve*> primary;
  std::map<int64_t, bool> diverged;
  for (const QString& metric : metrics_) {
    for (const auto& [key, c] : curves_) {
      if (key.second != metric) continue;
      if (!primary.count(key.first)) primary[key.first] = &c;
      diverged[key.first] = diverged[key.first] || c.diverged;
    }
  }
  // Qt draws legend labels as HTML and cuts them at the end: escape names, elide in the middle.
  const int perEntry = std::max(200, width()) / int(std::max<size_t>(1, primary.size())) - 40;
  for (const auto& [key, c] : curves_) {
    const bool stands = primary[key.first] == &c;
    const QString name = stands ? runLabel(key.first) : QStringLiteral("#%1 %2").arg(key.first).arg(shortMetricName(key.second));
    const bool flagged = stands ? diverged[key.first] : c.diverged;
    c.series->setName(legendLabelHtml(name, chart()->legend()->font(), perEntry, flagged ? kDivergedSuffix : QString()));
    for (QLegendMarker* marker : chart()->legend()->markers(c.series)) marker->setVisible(stands);
    for (QLegendMarker* marker : chart()->legend()->markers(c.dot)) marker->setVisible(false);
  }
}

MetricChartView::Curve& MetricChartView::curve(int64_t runId, const QString& metric) {
  auto it = curves_.find({runId, metric});
  if (it != curves_.end()) return it->second;

  Curve c;
  c.series = new QLineSeries(chart());
  QPen pen(colorOf(runId));
  pen.setWidthF(1.8);
  pen.setStyle(penStyleFor(int(metrics_.indexOf(metric))));
  c.series->setPen(pen);
  // Evaluations are sparse; their dots show where each value was measured.
  c.series->setPointsVisible(metric.startsWith(QStringLiteral("val_")));
  chart()->addSeries(c.series);
  c.series->attachAxis(axisX_);
  c.series->attachAxis(axisY_);
  c.dot = new QScatterSeries(chart());
  c.dot->setMarkerShape(QScatterSeries::MarkerShapeCircle);
  c.dot->setMarkerSize(8.0);
  c.dot->setColor(colorOf(runId));
  c.dot->setBorderColor(colorOf(runId).darker(130));
  chart()->addSeries(c.dot);
  c.dot->attachAxis(axisX_);
  c.dot->attachAxis(axisY_);
  for (QLegendMarker* marker : chart()->legend()->markers(c.dot)) marker->setVisible(false);
  // Keep the divergence markers drawn above every curve.
  chart()->removeSeries(divergence_);
  chart()->addSeries(divergence_);
  divergence_->attachAxis(axisX_);
  divergence_->attachAxis(axisY_); // its legend marker is set by rebuildDivergenceMarkers()
  return curves_.emplace(Key{runId, metric}, std::move(c)).first->second;
}

QColor MetricChartView::colorOf(int64_t runId) const {
  const auto it = colors_.find(runId);
  return it != colors_.end() ? it->second : runColor(runId);
}

void MetricChartView::setRuns(const QList<int64_t>& runIds, const std::map<int64_t, QString>& labels) {
  runIds_ = runIds;
  runLabels_ = labels;
  // Colours unique within the shown runs; a run kept from the last selection may change colour.
  colors_ = runColors(runIds_);
  for (auto& [key, c] : curves_) {
    QPen pen = c.series->pen();
    pen.setColor(colorOf(key.first));
    c.series->setPen(pen);
    c.dot->setColor(colorOf(key.first));
    c.dot->setBorderColor(colorOf(key.first).darker(130));
  }
  for (auto it = curves_.begin(); it != curves_.end();) {
    if (runIds_.contains(it->first.first)) {
      ++it;
      continue;
    }
    removeCurve(it->second);
    it = curves_.erase(it);
  }
  updateLegend();
  rebuildDivergenceMarkers();
  updateRanges();
}

void MetricChartView::removeCurve(Curve& c) {
  for (QXYSeries* s : {static_cast<QXYSeries*>(c.series), static_cast<QXYSeries*>(c.dot)}) {
    chart()->removeSeries(s);
    delete s;
  }
  c.series = nullptr;
  c.dot = nullptr;
}

void MetricChartView::clear() { setRuns({}); }

void MetricChartView::forgetPoints(int64_t runId) {
  for (auto it = curves_.begin(); it != curves_.end();) {
    if (it->first.first != runId) {
      ++it;
      continue;
    }
    removeCurve(it->second);
    it = curves_.erase(it);
  }
  updateLegend();
  rebuildDivergenceMarkers();
  updateRanges();
}

void MetricChartView::addPoints(const std::vector<distillery::MetricPoint>& points) {
  std::set<Curve*> touched;
  bool divergedNow = false;
  const size_t curvesBefore = curves_.size();
  for (const distillery::MetricPoint& p : points) {
    if (!runIds_.contains(p.run_id)) continue;
    const QString metric = QString::fromStdString(p.metric);
    if (!metrics_.contains(metric)) continue;
    Curve& c = curve(p.run_id, metric);
    if (p.step <= c.lastStep) continue;
    c.lastStep = p.step;
    if (!std::isfinite(p.value)) {
      if (!c.diverged) {
        markDiverged(c);
        divergedNow = true;
      }
      continue;
    }
    if (c.points.isEmpty()) {
      c.minY = c.maxY = p.value;
    } else {
      c.minY = std::min(c.minY, p.value);
      c.maxY = std::max(c.maxY, p.value);
    }
    c.points.append(QPointF(double(p.step), p.value));
    touched.insert(&c);
  }
  // One replace per series and batch: a single repaint instead of one per point.
  for (Curve* c : touched) drawCurve(*c);
  if (divergedNow || curves_.size() != curvesBefore) {
    updateLegend();
    rebuildDivergenceMarkers();
  }
  if (!touched.empty() || divergedNow) updateRanges();
}

int MetricChartView::columnsFor(double plotWidth) {
  return std::max(200, int(plotWidth)); // before the first layout, a plausible width
}

void MetricChartView::drawCurve(Curve& c) {
  // What a pixel column can show: its minimum and maximum (series_decimation.h),
  // so a run of 100k steps draws about 2 points per column, not 100k, on every batch.
  drawnColumns_ = columnsFor(chart()->plotArea().width());
  if (c.points.size() <= 2 * qsizetype(drawnColumns_) + 2) {
    c.series->replace(c.points);
  } else {
    distillery::XYSeries all;
    all.x.reserve(size_t(c.points.size()));
    all.y.reserve(size_t(c.points.size()));
    for (const QPointF& p : c.points) {
      all.x.push_back(p.x());
      all.y.push_back(p.y());
    }
    const distillery::XYSeries shown =
        distillery::decimateMinMax(all, c.points.first().x(), c.points.last().x(), drawnColumns_);
    QList<QPointF> line;
    line.reserve(qsizetype(shown.size()));
    for (size_t i = 0; i < shown.size(); ++i) line.append(QPointF(shown.x[i], shown.y[i]));
    // The curve starts at its first point and ends at its newest one, even where
    // a column's extremes lie elsewhere in the column.
    if (line.isEmpty() || line.first().x() > c.points.first().x()) line.prepend(c.points.first());
    if (line.last().x() < c.points.last().x()) line.append(c.points.last());
    c.series->replace(line);
  }
  // A line of one point draws nothing: a dot shows it until the second point comes.
  c.dot->replace(c.points.size() == 1 ? c.points : QList<QPointF>{});
}

void MetricChartView::markDiverged(Curve& c) {
  c.diverged = true;
  QPen pen = c.series->pen();
  pen.setWidthF(2.6);
  c.series->setPen(pen);
}

void MetricChartView::rebuildDivergenceMarkers() {
  QList<QPointF> markers;
  for (const auto& [key, c] : curves_)
    if (c.diverged && !c.points.isEmpty()) markers.append(c.points.last());
  divergence_->replace(markers);
  bool anyDiverged = false;
  for (const auto& [key, c] : curves_) anyDiverged = anyDiverged || c.diverged;
  for (QLegendMarker* marker : chart()->legend()->markers(divergence_)) marker->setVisible(anyDiverged);
}

void MetricChartView::updateRanges() {
  double maxX = 0.0;
  double minY = std::numeric_limits<double>::infinity();
  double maxY = -std::numeric_limits<double>::infinity();
  for (const auto& [key, c] : curves_) {
    if (c.points.isEmpty()) continue;
    maxX = std::max(maxX, c.points.last().x());
    minY = std::min(minY, c.minY);
    maxY = std::max(maxY, c.maxY);
  }
  // x from step 0 to a round step at or past the last point.
  const double xStep = std::max(1.0, distillery::niceStep(std::max(maxX, 10.0), 5));
  setAxisTicks(axisX_, 0.0, std::ceil(std::max(maxX, 10.0) / xStep) * xStep, AxisScale::Linear, 5);
  fitRightMargin();
  if (!(minY <= maxY)) {
    setAxisTicks(axisY_, 0.0, 1.0, AxisScale::Linear, 5);
    return;
  }
  double span = maxY - minY;
  if (span < 1e-9) span = std::max(std::fabs(maxY) * 0.1, 1e-3);
  // Out to round values, but never below 0 for values that are all >= 0 (a
  // loss) nor above 1 for a fraction (accuracy, agreement).
  const double step = distillery::niceStep(span * 1.1, 5);
  double lo = std::floor((minY - 0.05 * span) / step) * step;
  double hi = std::ceil((maxY + 0.05 * span) / step) * step;
  if (minY >= 0) lo = std::max(lo, 0.0);
  if (bounded_ && maxY <= 1.0) hi = std::min(hi, 1.0);
  if (!(hi > lo)) hi = lo + step;
  setAxisTicks(axisY_, lo, hi, AxisScale::Linear, 5);
}

void MetricChartView::fitRightMargin() {
  const QStringList labels = axisTickLabels(axisX_);
  const int half = labels.isEmpty() ? 0 : QFontMetrics(axisX_->labelsFont()).horizontalAdvance(labels.last()) / 2 + 2;
  QMargins margins = chart()->margins();
  margins.setRight(std::max(4, half));
  if (margins != chart()->margins()) chart()->setMargins(margins);
}

QStringList MetricChartView::yTickLabels() const { return axisTickLabels(axisY_); }

double MetricChartView::yMin() const { return axisY_->min(); }

double MetricChartView::yMax() const { return axisY_->max(); }

int MetricChartView::pointCount(int64_t runId, const QString& metric) const {
  int count = 0;
  for (const auto& [key, c] : curves_)
    if (key.first == runId && (metric.isEmpty() || key.second == metric)) count += int(c.points.size());
  return count;
}

bool MetricChartView::isDiverged(int64_t runId) const {
  for (const auto& [key, c] : curves_)
    if (key.first == runId && c.diverged) return true;
  return false;
}

QScatterSeries* MetricChartView::dotSeries(int64_t runId, const QString& metric) const {
  auto it = curves_.find({runId, metric});
  return it == curves_.end() ? nullptr : it->second.dot;
}

QLineSeries* MetricChartView::series(int64_t runId, const QString& metric) const {
  auto it = curves_.find({runId, metric});
  return it == curves_.end() ? nullptr : it->second.series;
}

} // namespace distillery::gui
