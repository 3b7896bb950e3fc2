#include "widgets/compare_chart_view.h"

#include "core/export/ema_smoothing.h"
#include "core/analysis/metric_catalog.h"
#include "core/export/series_decimation.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/legend_label.h"

#include <QCategoryAxis>
#include <QChart>
#include <QGraphicsLayout>
#include <QGraphicsLineItem>
#include <QCursor>
#include <QKeyEvent>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPen>
#include <QScatterSeries>
#include <QTimer>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::gui {

namespace {

const QColor kDivergenceRed(0xd62728);

QColor colorOf(uint32_t rgb) { return QColor(QRgb(rgb)); }

// Axis titles a little smaller than the chart title, so long ones fit beside a short plot.
void styleAxis(QAbstractAxis* axis) {
  QFont font = axis->titleFont();
  font.setPointSizeF(std::max(7.0, font.pointSizeF() - 1.0));
  font.setBold(false);
  axis->setTitleFont(font);
}

bool near(double a, double b, double span) { return std::fabs(a - b) <= 1e-9 * std::max(1e-300, std::fabs(span)); }

} // namespace

CompareChartView::CompareChartView(QWidget* parent) : QChartView(parent) {
  auto* chart = new QChart;
  QFont titleFont = chart->titleFont();
  titleFont.setBold(true);
  chart->setTitleFont(titleFont);
  chart->setMargins(QMargins(6, 6, 10, 6));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setBackgroundRoundness(0);
  chart->legend()->setVisible(true);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->legend()->setShowToolTips(true); // the full label where Qt still has to cut one

  axisX_ = newTickAxis(chart);
  axisY_ = newTickAxis(chart);
  styleAxis(axisX_);
  styleAxis(axisY_);
  chart->addAxis(axisX_, Qt::AlignBottom);
  chart->addAxis(axisY_, Qt::AlignLeft);

  nanMarks_ = new QScatterSeries(chart);
  nanMarks_->setName(tr("NaN/Inf (diverged)"));
  nanMarks_->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
  nanMarks_->setMarkerSize(10.0);
  nanMarks_->setColor(kDivergenceRed);
  nanMarks_->setBorderColor(QColor(0x7f0000));
  lastFinite_ = new QScatterSeries(chart);
  lastFinite_->setName(tr("last finite value"));
  lastFinite_->setMarkerShape(QScatterSeries::MarkerShapeCircle);
  lastFinite_->setMarkerSize(11.0);
  lastFinite_->setColor(kDivergenceRed);
  lastFinite_->setBorderColor(QColor(0x7f0000));
  for (QScatterSeries* s : {lastFinite_, nanMarks_}) {
    chart->addSeries(s);
    s->attachAxis(axisX_);
    s->attachAxis(axisY_);
  }

  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setRubberBand(QChartView::RectangleRubberBand);
  // Partial updates leave stale markers behind when the axes rescale.
  setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
  setMinimumSize(320, 240);
  setFocusPolicy(Qt::StrongFocus);
  viewport()->setMouseTracking(true);
  setToolTip(tr("Drag: zoom to a rectangle · wheel: zoom x (Ctrl: y) · right/middle drag or arrows: pan · "
                "double-click or Home: reset"));

  cursorLine_ = new QGraphicsLineItem(chart);
  QPen guide(QColor(0x808080));
  guide.setStyle(Qt::DashLine);
  guide.setWidthF(1.0);
  cursorLine_->setPen(guide);
  cursorLine_->setZValue(1000);
  cursorLine_->hide();

  readout_ = new QLabel(viewport());
  readout_->setObjectName(QStringLiteral("readout"));
  readout_->setTextFormat(Qt::RichText);
  readout_->setAttribute(Qt::WA_TransparentForMouseEvents);
  readout_->setStyleSheet(QStringLiteral(
      "QLabel { background: rgba(255,255,255,235); color: #202020; border: 1px solid #b0b0b0; padding: 4px; }"));
  readout_->hide();

  redrawTimer_ = new QTimer(this);
  redrawTimer_->setSingleShot(true);
  redrawTimer_->setInterval(0);
  connect(redrawTimer_, &QTimer::timeout, this, &CompareChartView::redraw);
  connect(chart, &QChart::plotAreaChanged, this, [this](const QRectF& area) {
    // Width sets the decimation, height the number of y ticks.
    if (int(area.width()) != lastPlotWidth_ || int(area.height()) != lastPlotHeight_) scheduleRedraw();
  });
  redraw();
}

void CompareChartView::setSpec(distillery::ChartSpec spec) {
  spec_ = std::move(spec);
  spec_.smoothing = std::clamp(spec_.smoothing, 0.0, 0.999);
  chart()->setTitle(QString::fromStdString(spec_.title));
  axisX_->setTitleText(QString::fromStdString(spec_.xTitle()));
  replaceYAxis();
  buildSeries();
  recomputeShown();

  // The finite x extent, the default visible range.
  const double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf;
  bool pointsOnly = true; // every curve one value (test accuracy): dots the frame must not cut
  for (const distillery::ChartCurve& c : spec_.curves) {
    size_t finite = 0;
    for (size_t i = 0; i < c.raw.size(); ++i) {
      const double x = c.raw.x[i];
      if (!std::isfinite(x)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      if (std::isfinite(c.raw.y[i])) ++finite;
    }
    pointsOnly = pointsOnly && finite <= 1;
  }
  dataBounds_ = {};
  if (x0 <= x1) {
    // One x: centred; dots only: a margin on both sides.
    const double pad = x1 > x0 ? (pointsOnly ? 0.05 * (x1 - x0) : 0.0) : (x0 != 0 ? std::fabs(x0) * 0.05 : 0.5);
    dataBounds_.x_min = x0 - pad;
    dataBounds_.x_max = x1 + pad;
  }
  redraw();
}

void CompareChartView::buildSeries() {
  for (Drawn& d : drawn_) {
    for (QXYSeries* s : {static_cast<QXYSeries*>(d.raw), static_cast<QXYSeries*>(d.line),
                         static_cast<QXYSeries*>(d.dots)}) {
      chart()->removeSeries(s);
      delete s;
    }
  }
  drawn_.clear();
  for (const distillery::ChartCurve& c : spec_.curves) {
    Drawn d;
    const QColor color = colorOf(c.rgb);
    d.raw = new QLineSeries(chart());
    QColor faint = color;
    faint.setAlpha(70);
    QPen rawPen(faint);
    rawPen.setWidthF(1.0);
    d.raw->setPen(rawPen);
    d.line = new QLineSeries(chart());
    QPen pen(color);
    pen.setWidthF(1.8);
    d.line->setPen(pen);
    d.dots = new QScatterSeries(chart());
    d.dots->setMarkerShape(QScatterSeries::MarkerShapeCircle);
    d.dots->setMarkerSize(9.0);
    d.dots->setColor(color);
    d.dots->setBorderColor(color.darker(130));
    d.hasNonFinite = !c.divergence_x.empty();
    for (size_t i = 0; i < c.raw.size(); ++i) {
      if (!std::isfinite(c.raw.y[i])) break;
      d.lastFinite = long(i);
    }
    drawn_.push_back(d);
  }
  // Raw curves first (behind), then the smoothed ones, then the markers on top.
  for (const Drawn& d : drawn_) chart()->addSeries(d.raw);
  for (const Drawn& d : drawn_) chart()->addSeries(d.line);
  for (const Drawn& d : drawn_) chart()->addSeries(d.dots);
  for (QScatterSeries* s : {lastFinite_, nanMarks_}) {
    chart()->removeSeries(s);
    chart()->addSeries(s);
  }
  for (QAbstractSeries* s : chart()->series()) {
    for (QAbstractAxis* axis : {static_cast<QAbstractAxis*>(axisX_), static_cast<QAbstractAxis*>(axisY_)})
      if (!s->attachedAxes().contains(axis)) s->attachAxis(axis);
  }
  // Many runs: a column of full names to the right reads better than a row of elided ones.
  chart()->legend()->setAlignment(drawn_.size() > 4 ? Qt::AlignRight : Qt::AlignBottom);
  updateLegend();
}

void CompareChartView::setDivergedRuns(const std::set<int64_t>& runIds) {
  divergedRuns_ = runIds;
  updateLegend();
  redraw();
}

void CompareChartView::updateLegend() {
  QLegend* legend = chart()->legend();
  // Qt draws legend labels as HTML and cuts them at the end: escape the run's
  // name and elide it in the middle, so "#id" and the name's end both stay.
  const bool side = drawn_.size() > 4;
  const int chartWidth = std::max(200, width());
  const int perEntry = side ? int(chartWidth * 0.3) - 30
                            : chartWidth / int(std::max<size_t>(1, drawn_.size())) - 40;
  for (size_t i = 0; i < drawn_.size(); ++i) {
    Drawn& d = drawn_[i];
    const distillery::ChartCurve& c = spec_.curves[i];
    d.diverged = d.hasNonFinite || divergedRuns_.count(c.run_id) > 0;
    QString note;
    if (c.raw.empty()) note += tr(" (no data)");
    if (d.diverged) note += tr(" (diverged)");
    d.line->setName(legendLabelHtml(QString::fromStdString(c.label), legend->font(), perEntry, note));
    for (QLegendMarker* m : legend->markers(d.line)) m->setLabelBrush(d.diverged ? QBrush(kDivergenceRed) : legend->labelBrush());
  }
  hideHelperMarkers();
}

void CompareChartView::hideHelperMarkers() {
  // Qt shows a series' marker again whenever the series is shown: run after every setVisible.
  QLegend* legend = chart()->legend();
  bool anyNonFinite = false;
  for (const Drawn& d : drawn_) {
    anyNonFinite = anyNonFinite || d.hasNonFinite;
    for (QAbstractSeries* helper : {static_cast<QAbstractSeries*>(d.raw), static_cast<QAbstractSeries*>(d.dots)})
      for (QLegendMarker* m : legend->markers(helper)) m->setVisible(false);
  }
  for (QLegendMarker* m : legend->markers(lastFinite_)) m->setVisible(false);
  for (QLegendMarker* m : legend->markers(nanMarks_)) m->setVisible(anyNonFinite);
}

void CompareChartView::replaceYAxis() {
  // One linear axis serves both scales: on a log scale it spans log10 of the values.
  axisY_->setTitleText(QString::fromStdString(spec_.yTitle()));
}

double CompareChartView::yToAxis(double y) const {
  return toAxis(y, spec_.log_y ? AxisScale::Log : AxisScale::Linear);
}

QList<QPointF> CompareChartView::toPoints(const distillery::XYSeries& s) const {
  QList<QPointF> points;
  points.reserve(qsizetype(s.size()));
  for (size_t i = 0; i < s.size(); ++i) points.append(QPointF(s.x[i], yToAxis(s.y[i])));
  return points;
}

void CompareChartView::recomputeShown() {
  for (size_t i = 0; i < drawn_.size(); ++i) {
    Drawn& d = drawn_[i];
    const distillery::ChartCurve& c = spec_.curves[i];
    const bool smooth = spec_.smoothing > 0.0;
    d.ownsShown = smooth || spec_.log_y;
    d.ownsRaw = smooth && spec_.log_y;
    d.shown = {};
    d.rawShown = {};
    if (d.ownsShown) {
      d.shown.x = c.raw.x;
      d.shown.y = smooth ? distillery::smoothEma(c.raw.y, spec_.smoothing) : c.raw.y;
    }
    if (d.ownsRaw) d.rawShown = c.raw;
    if (spec_.log_y) {
      // A log axis cannot place values <= 0; leave them out like NaN (the
      // decimation skips non-finite values) rather than clamping them.
      for (auto* s : {&d.shown, &d.rawShown})
        for (double& y : s->y)
          if (y <= 0) y = std::numeric_limits<double>::quiet_NaN();
    }
    d.raw->setVisible(smooth);
  }
  hideHelperMarkers();
}

const distillery::XYSeries& CompareChartView::shownOf(size_t i) const {
  return drawn_[i].ownsShown ? drawn_[i].shown : spec_.curves[i].raw;
}

const distillery::XYSeries& CompareChartView::rawShownOf(size_t i) const {
  return drawn_[i].ownsRaw ? drawn_[i].rawShown : spec_.curves[i].raw;
}

int CompareChartView::plotWidthPixels() const {
  const int w = int(chart()->plotArea().width());
  return std::max(1, w > 0 ? w : width());
}

void CompareChartView::scheduleRedraw() { redrawTimer_->start(); }

void CompareChartView::redraw() {
  redrawTimer_->stop();
  const int columns = plotWidthPixels();
  lastPlotWidth_ = int(chart()->plotArea().width());
  lastPlotHeight_ = int(chart()->plotArea().height());
  double x0 = spec_.x_min.value_or(dataBounds_.x_min), x1 = spec_.x_max.value_or(dataBounds_.x_max);
  if (!(x1 > x0)) x1 = x0 + 1.0;

  const double inf = std::numeric_limits<double>::infinity();
  // The y range fits the visible points of the healthy curves; a diverging
  // run's values (1e31 before the NaN) join only when they are of the same
  // order, or they would flatten every other curve. Its NaN marks still show.
  double y0 = inf, y1 = -inf;          // healthy curves, points inside [x0, x1]
  double edge0 = inf, edge1 = -inf;    // every point drawn, for views between two points
  std::vector<double> divergedYs;      // diverged curves, points inside [x0, x1]
  auto extend = [&](const distillery::XYSeries& s, bool diverged) {
    for (size_t i = 0; i < s.size(); ++i) {
      edge0 = std::min(edge0, s.y[i]);
      edge1 = std::max(edge1, s.y[i]);
      if (s.x[i] < x0 || s.x[i] > x1) continue;
      if (diverged) {
        divergedYs.push_back(s.y[i]);
        continue;
      }
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  };
  const bool smooth = spec_.smoothing > 0.0;
  for (size_t i = 0; i < drawn_.size(); ++i) {
    Drawn& d = drawn_[i];
    const distillery::XYSeries line = distillery::decimateMinMax(shownOf(i), x0, x1, columns);
    extend(line, d.diverged);
    d.line->replace(toPoints(line));
    // A line of one point draws nothing: a dot shows it.
    if (line.size() == 1) d.dots->replace(toPoints(line));
    else if (d.dots->count() > 0) d.dots->clear();
    if (smooth) {
      const distillery::XYSeries raw = distillery::decimateMinMax(rawShownOf(i), x0, x1, columns);
      extend(raw, d.diverged);
      d.raw->replace(toPoints(raw));
    } else if (d.raw->count() > 0) {
      d.raw->clear();
    }
  }
  if (y0 <= y1) {
    // Diverged values within one healthy span beyond the healthy range still count.
    double lo = y0, hi = y1;
    if (spec_.log_y) {
      const double decades = std::max(std::log10(y1 / y0), 1.0);
      lo = y0 / std::pow(10.0, decades);
      hi = y1 * std::pow(10.0, decades);
    } else {
      const double span = std::max(y1 - y0, std::max(std::fabs(y1) * 0.1, 1e-9));
      lo = y0 - span;
      hi = y1 + span;
    }
    for (double y : divergedYs)
      if (y >= lo && y <= hi) {
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
      }
  } else {
    for (double y : divergedYs) {
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  }
  if (!(y0 <= y1)) {
    y0 = edge0;
    y1 = edge1;
  }

  distillery::ChartBounds b;
  b.x_min = x0;
  b.x_max = x1;
  if (y0 <= y1) {
    if (spec_.log_y) {
      const double decades = std::max(std::log10(y1 / y0), 0.05);
      const double pad = std::pow(10.0, 0.04 * decades);
      b.y_min = y0 / pad;
      b.y_max = y1 * pad;
    } else {
      double span = y1 - y0;
      if (span <= 0) span = std::max(std::fabs(y1) * 0.1, 1e-6);
      b.y_min = y0 - 0.04 * span;
      b.y_max = y1 + 0.04 * span;
      // The padding does not invent values the metric cannot take: a loss
      // stays at or above 0, a fraction (accuracy, agreement) at or below 1.
      if (y0 >= 0) b.y_min = std::max(b.y_min, 0.0);
      if (distillery::metricInfo(spec_.metric).fraction && y1 <= 1.0) b.y_max = std::min(b.y_max, 1.0);
      if (!(b.y_max > b.y_min)) b.y_max = b.y_min + span;
    }
  } else if (spec_.log_y) {
    b.y_min = 0.1;
    b.y_max = 1.0;
  }
  if (spec_.y_min) b.y_min = *spec_.y_min;
  if (spec_.y_max) b.y_max = *spec_.y_max;
  if (spec_.log_y && b.y_min <= 0) b.y_min = b.y_max > 0 ? b.y_max * 1e-3 : 1e-3;
  if (!(b.y_max > b.y_min)) b.y_max = b.y_min + (spec_.log_y ? b.y_min : 1.0);
  shownRange_ = b;
  applyAxes(b);
  updateDivergenceMarkers(b, columns);
  refreshReadout();
}

void CompareChartView::applyAxes(const distillery::ChartBounds& b) {
  settingAxes_ = true;
  // About one label per 70 px across and 45 px up, as the exports space them.
  setAxisTicks(axisX_, b.x_min, b.x_max, AxisScale::Linear, std::clamp(plotWidthPixels() / 70, 3, 12));
  setAxisTicks(axisY_, b.y_min, b.y_max, spec_.log_y ? AxisScale::Log : AxisScale::Linear,
               std::clamp(int(chart()->plotArea().height()) / 45, 3, 8));
  settingAxes_ = false;
}

QStringList CompareChartView::xTickLabels() const { return axisTickLabels(axisX_); }
QStringList CompareChartView::yTickLabels() const { return axisTickLabels(axisY_); }

void CompareChartView::updateDivergenceMarkers(const distillery::ChartBounds& b, int columns) {
  QList<QPointF> marks, last;
  // Just below the top edge, so the whole triangle shows.
  const double top = spec_.log_y ? b.y_max / std::pow(b.y_max / b.y_min, 0.04) : b.y_max - 0.04 * (b.y_max - b.y_min);
  const double width = b.x_max - b.x_min;
  for (size_t i = 0; i < drawn_.size(); ++i) {
    const distillery::ChartCurve& c = spec_.curves[i];
    int lastColumn = -1;
    for (double x : c.divergence_x) {
      if (!(x >= b.x_min && x <= b.x_max)) continue;
      const int column = std::min(columns - 1, int(double(columns) * (x - b.x_min) / width));
      if (column == lastColumn) continue; // one mark per pixel column is all the eye can tell apart
      lastColumn = column;
      marks.append(QPointF(x, yToAxis(top)));
    }
    const Drawn& d = drawn_[i];
    if (d.hasNonFinite && d.lastFinite >= 0) {
      const distillery::XYSeries& s = shownOf(i);
      const double x = s.x[size_t(d.lastFinite)], y = s.y[size_t(d.lastFinite)];
      if (std::isfinite(y) && x >= b.x_min && x <= b.x_max && y >= b.y_min && y <= b.y_max) last.append(QPointF(x, yToAxis(y)));
    }
  }
  nanMarks_->replace(marks);
  lastFinite_->replace(last);
}

distillery::ChartBounds CompareChartView::visibleRange() const { return shownRange_; }

distillery::ChartSpec CompareChartView::exportSpec() const {
  distillery::ChartSpec spec = spec_;
  spec.x_min = shownRange_.x_min;
  spec.x_max = shownRange_.x_max;
  spec.y_min = shownRange_.y_min;
  spec.y_max = shownRange_.y_max;
  return spec;
}

bool CompareChartView::isZoomed() const {
  return spec_.x_min || spec_.x_max || spec_.y_min || spec_.y_max;
}

void CompareChartView::setLogY(bool logY) {
  if (spec_.log_y == logY) return;
  spec_.log_y = logY;
  // A linear zoom may include values a log axis cannot show.
  if (logY && ((spec_.y_min && *spec_.y_min <= 0) || (spec_.y_max && *spec_.y_max <= 0))) {
    spec_.y_min.reset();
    spec_.y_max.reset();
  }
  replaceYAxis();
  recomputeShown();
  redraw();
}

void CompareChartView::setSmoothing(double weight) {
  weight = std::clamp(weight, 0.0, 0.999);
  if (weight == spec_.smoothing) return;
  spec_.smoothing = weight;
  recomputeShown();
  redraw();
}

void CompareChartView::resetZoom() {
  spec_.x_min.reset();
  spec_.x_max.reset();
  spec_.y_min.reset();
  spec_.y_max.reset();
  redraw();
  Q_EMIT rangeChanged();
}

void CompareChartView::zoomX(double factor, std::optional<double> around) {
  const distillery::ChartBounds r = shownRange_;
  const double c = around.value_or((r.x_min + r.x_max) / 2);
  double x0 = c - (c - r.x_min) * factor, x1 = c + (r.x_max - c) * factor;
  if (!(x1 - x0 > 1e-12 * std::max(1.0, std::fabs(c)))) return; // deeper than doubles can resolve
  spec_.x_min = x0;
  spec_.x_max = x1;
  redraw();
  Q_EMIT rangeChanged();
}

void CompareChartView::zoomY(double factor, std::optional<double> around) {
  const distillery::ChartBounds r = shownRange_;
  if (spec_.log_y) {
    const double l0 = std::log10(r.y_min), l1 = std::log10(r.y_max);
    const double c = around && *around > 0 ? std::log10(*around) : (l0 + l1) / 2;
    spec_.y_min = std::pow(10.0, c - (c - l0) * factor);
    spec_.y_max = std::pow(10.0, c + (l1 - c) * factor);
  } else {
    const double c = around.value_or((r.y_min + r.y_max) / 2);
    spec_.y_min = c - (c - r.y_min) * factor;
    spec_.y_max = c + (r.y_max - c) * factor;
  }
  redraw();
  Q_EMIT rangeChanged();
}

void CompareChartView::zoomTo(double x0, double x1, double y0, double y1) {
  if (x1 < x0) std::swap(x0, x1);
  if (y1 < y0) std::swap(y0, y1);
  if (!(x1 > x0) || !(y1 > y0)) return;
  spec_.x_min = x0;
  spec_.x_max = x1;
  spec_.y_min = y0;
  spec_.y_max = y1;
  if (spec_.log_y && y0 <= 0) {
    spec_.y_min.reset();
    spec_.y_max.reset();
  }
  redraw();
  Q_EMIT rangeChanged();
}

void CompareChartView::pan(double dx, double dy) {
  const distillery::ChartBounds r = shownRange_;
  if (dx != 0) {
    const double shift = dx * (r.x_max - r.x_min);
    spec_.x_min = r.x_min + shift;
    spec_.x_max = r.x_max + shift;
  }
  if (dy != 0) {
    if (spec_.log_y) {
      const double factor = std::pow(r.y_max / r.y_min, dy);
      spec_.y_min = r.y_min * factor;
      spec_.y_max = r.y_max * factor;
    } else {
      const double shift = dy * (r.y_max - r.y_min);
      spec_.y_min = r.y_min + shift;
      spec_.y_max = r.y_max + shift;
    }
  }
  redraw();
  Q_EMIT rangeChanged();
}

void CompareChartView::takeRangeFromAxes() {
  const double x0 = axisX_->min(), x1 = axisX_->max();
  const AxisScale scale = spec_.log_y ? AxisScale::Log : AxisScale::Linear;
  const double y0 = fromAxis(axisY_->min(), scale), y1 = fromAxis(axisY_->max(), scale);
  const distillery::ChartBounds& r = shownRange_;
  const bool moved = !near(x0, r.x_min, r.x_max - r.x_min) || !near(x1, r.x_max, r.x_max - r.x_min) ||
                     !near(y0, r.y_min, r.y_max - r.y_min) || !near(y1, r.y_max, r.y_max - r.y_min);
  if (moved) zoomTo(x0, x1, y0, y1);
}

QString CompareChartView::formatX(double x) const {
  switch (spec_.x_axis) {
    case distillery::XAxisKind::Step: return tr("step %1").arg(std::llround(x));
    case distillery::XAxisKind::Epoch: return tr("epoch %1").arg(x, 0, 'f', 3);
    case distillery::XAxisKind::Wall: return tr("%1 s").arg(x, 0, 'f', 1);
    case distillery::XAxisKind::Flops: return tr("%1 FLOPs").arg(x, 0, 'g', 4);
    case distillery::XAxisKind::Queries: return tr("%1 teacher queries").arg(std::llround(x));
    case distillery::XAxisKind::Money: return tr("%1 spent on the teacher").arg(x, 0, 'f', 4);
  }
  return QString::number(x);
}

QString CompareChartView::readoutAt(double x) const {
  QStringList lines;
  lines << QStringLiteral("<b>%1</b>").arg(formatX(x).toHtmlEscaped());
  const double span = shownRange_.x_max - shownRange_.x_min;
  for (size_t i = 0; i < drawn_.size(); ++i) {
    const distillery::ChartCurve& c = spec_.curves[i];
    const QString swatch = QStringLiteral("<span style=\"color:%1\">&#9632;</span> %2: ")
                               .arg(colorOf(c.rgb).name(), QString::fromStdString(c.label).toHtmlEscaped());
    if (c.raw.empty()) {
      lines << swatch + tr("no data");
      continue;
    }
    // Nearest stored point by x (x is sorted): binary search, then the closer neighbour.
    const auto it = std::lower_bound(c.raw.x.begin(), c.raw.x.end(), x);
    size_t k = size_t(it - c.raw.x.begin());
    if (k == c.raw.size() || (k > 0 && std::fabs(c.raw.x[k - 1] - x) <= std::fabs(c.raw.x[k] - x))) k = k > 0 ? k - 1 : 0;
    const double shown = shownOf(i).y[k], raw = c.raw.y[k];
    QString value;
    if (!std::isfinite(raw)) {
      value = QStringLiteral("<span style=\"color:#c0392b\"><b>%1</b> (diverged)</span>")
                  .arg(std::isnan(raw) ? QStringLiteral("NaN") : (raw > 0 ? QStringLiteral("+Inf") : QStringLiteral("-Inf")));
    } else if (!std::isfinite(shown)) {
      value = tr("%1 (not on a log axis)").arg(raw, 0, 'g', 4);
    } else {
      value = QString::number(shown, 'g', 4);
      if (spec_.smoothing > 0) value += tr(" <span style=\"color:#808080\">(raw %1)</span>").arg(raw, 0, 'g', 4);
    }
    if (span > 0 && std::fabs(c.raw.x[k] - x) > 0.02 * span)
      value += QStringLiteral(" <span style=\"color:#808080\">@ %1</span>").arg(formatX(c.raw.x[k]).toHtmlEscaped());
    lines << swatch + value;
  }
  return lines.join(QStringLiteral("<br>"));
}

void CompareChartView::showReadoutAt(double x) {
  if (drawn_.empty()) return;
  readoutFromMouse_ = false;
  readoutX_ = x;
  readout_->setText(readoutAt(x));
  readout_->adjustSize();
  const QRectF area = chart()->plotArea();
  const QPointF at = chart()->mapToPosition(QPointF(x, yToAxis(shownRange_.y_min)), nanMarks_);
  cursorLine_->setLine(at.x(), area.top(), at.x(), area.bottom());
  cursorLine_->show();
  const QPoint viewAt = mapFromScene(chart()->mapToScene(QPointF(at.x(), area.top())));
  int left = viewAt.x() + 12;
  if (left + readout_->width() > viewport()->width() - 4) left = viewAt.x() - 12 - readout_->width();
  readout_->move(std::max(2, left), viewAt.y() + 6);
  readout_->show();
  readout_->raise();
}

void CompareChartView::hideReadout() {
  readout_->hide();
  cursorLine_->hide();
  readoutX_.reset();
  readoutFromMouse_ = false;
}

std::optional<double> CompareChartView::readoutX() const {
  return readout_->isVisibleTo(this) ? readoutX_ : std::nullopt;
}

void CompareChartView::refreshReadout() {
  // After a zoom, pan or reset the read-out would stand at its old pixel
  // with old values: it follows the mouse if the mouse is over the plot,
  // else its x if that is still shown, else it goes.
  if (!readoutX_) return;
  if (readoutFromMouse_) {
    const QPoint pos = viewport()->mapFromGlobal(QCursor::pos());
    const QPointF inChart = chart()->mapFromScene(mapToScene(pos));
    if (viewport()->rect().contains(pos) && chart()->plotArea().contains(inChart)) {
      showReadoutAt(chart()->mapToValue(inChart, nanMarks_).x());
      readoutFromMouse_ = true;
    } else {
      hideReadout();
    }
    return;
  }
  const double x = *readoutX_;
  if (x >= shownRange_.x_min && x <= shownRange_.x_max) showReadoutAt(x);
  else hideReadout();
}

int CompareChartView::drawnPointCount(int64_t runId) const {
  for (size_t i = 0; i < drawn_.size(); ++i)
    if (spec_.curves[i].run_id == runId) return int(drawn_[i].line->count());
  return 0;
}

int CompareChartView::rawPointCount(int64_t runId) const {
  for (size_t i = 0; i < drawn_.size(); ++i)
    if (spec_.curves[i].run_id == runId) return drawn_[i].raw->isVisible() ? int(drawn_[i].raw->count()) : 0;
  return 0;
}

int CompareChartView::divergenceMarkerCount() const { return int(nanMarks_->count() + lastFinite_->count()); }

bool CompareChartView::isDiverged(int64_t runId) const {
  for (size_t i = 0; i < drawn_.size(); ++i)
    if (spec_.curves[i].run_id == runId) return drawn_[i].diverged;
  return false;
}

QScatterSeries* CompareChartView::pointSeries(int64_t runId) const {
  for (size_t i = 0; i < drawn_.size(); ++i)
    if (spec_.curves[i].run_id == runId) return drawn_[i].dots;
  return nullptr;
}

QLineSeries* CompareChartView::curveSeries(int64_t runId) const {
  for (size_t i = 0; i < drawn_.size(); ++i)
    if (spec_.curves[i].run_id == runId) return drawn_[i].line;
  return nullptr;
}

void CompareChartView::resizeEvent(QResizeEvent* event) {
  QChartView::resizeEvent(event);
  updateLegend(); // the room for labels changed
  scheduleRedraw();
}

void CompareChartView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0) return;
  const double factor = std::pow(0.85, steps);
  const QPointF value = chart()->mapToValue(chart()->mapFromScene(mapToScene(event->position().toPoint())), nanMarks_);
  if (event->modifiers() & Qt::ControlModifier)
    zoomY(factor, fromAxis(value.y(), spec_.log_y ? AxisScale::Log : AxisScale::Linear));
  else zoomX(factor, value.x());
  event->accept();
}

void CompareChartView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
    panning_ = true;
    panFrom_ = event->position().toPoint();
    viewport()->setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  QChartView::mousePressEvent(event);
}

void CompareChartView::mouseMoveEvent(QMouseEvent* event) {
  const QPoint pos = event->position().toPoint();
  if (panning_) {
    const QRectF area = chart()->plotArea();
    const QPoint delta = pos - panFrom_;
    panFrom_ = pos;
    if (area.width() > 0 && area.height() > 0) pan(-delta.x() / area.width(), delta.y() / area.height());
    event->accept();
    return;
  }
  QChartView::mouseMoveEvent(event);
  const QPointF inChart = chart()->mapFromScene(mapToScene(pos));
  if (chart()->plotArea().contains(inChart)) {
    showReadoutAt(chart()->mapToValue(inChart, nanMarks_).x());
    readoutFromMouse_ = true;
  } else {
    hideReadout();
  }
}

void CompareChartView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
    // Handled here so QChartView's right-click zoom-out does not fight the pan.
    panning_ = false;
    viewport()->unsetCursor();
    event->accept();
    return;
  }
  QChartView::mouseReleaseEvent(event);
  // The rubber band zoomed the axes: adopt their range and redraw at the new resolution.
  if (event->button() == Qt::LeftButton) takeRangeFromAxes();
}

void CompareChartView::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    resetZoom();
    event->accept();
    return;
  }
  QChartView::mouseDoubleClickEvent(event);
}

void CompareChartView::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Left: pan(-0.1, 0); break;
    case Qt::Key_Right: pan(0.1, 0); break;
    case Qt::Key_Up: pan(0, 0.1); break;
    case Qt::Key_Down: pan(0, -0.1); break;
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomX(0.8); break;
    case Qt::Key_Minus: zoomX(1.25); break;
    case Qt::Key_Home:
    case Qt::Key_0: resetZoom(); break;
    default: QChartView::keyPressEvent(event); return;
  }
  event->accept();
}

void CompareChartView::leaveEvent(QEvent* event) {
  hideReadout();
  QChartView::leaveEvent(event);
}

} // namespace distillery::gui
