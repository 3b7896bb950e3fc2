#pragma once
// One chart of the compare view: a metric of several runs against a chosen x
// axis, kept as a ChartSpec (core/export/chart_spec.h) so exports draw what is shown.
//
// The curves are held at full resolution; what Qt Charts gets is, on every
// range or size change, the min/max of each pixel column over the visible x
// range (decimateMinMax), handed over with one replace() per series. A million
// points stay interactive and no spike is hidden.
//
// Interaction: rubber band (left drag) zooms, the wheel zooms x around the
// cursor (Ctrl+wheel: y), right or middle drag pans, arrow keys pan, +/-
// zoom, double-click or Home resets. Hovering shows every run's value at the
// cursor; the read-out follows when the axes change.
// Axes carry the core's round ticks with SI labels (chart_axis_ticks.h); a
// log y axis is linear over log10 of the values. A curve of one point (a
// metric measured once) shows as a dot.
// Legend labels are plain text (escaped, elided in the middle); helper
// series (raw curves, dots, last-finite marks) have no legend entry. NaN/Inf values, which Qt Charts would drop silently, are marked:
// a red dot at each diverged curve's last finite value and red triangles
// along the top edge at the x of each non-finite value.
#include "core/export/chart_spec.h"

#include <QChartView>
#include <QPointF>
#include <QStringList>

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

class QAbstractAxis;
class QCategoryAxis;
class QGraphicsLineItem;
class QLabel;
class QLineSeries;
class QScatterSeries;
class QTimer;

namespace distillery::gui {

class CompareChartView : public QChartView {
  Q_OBJECT
public:
  explicit CompareChartView(QWidget* parent = nullptr);

  // New data (runs, metric or x axis). The spec's log, smoothing and range are kept as given.
  void setSpec(distillery::ChartSpec spec);
  // The chart as shown: x_min/x_max (and y_min/y_max) are set once the user zooms or pans.
  const distillery::ChartSpec& spec() const { return spec_; }

  void setLogY(bool logY);
  void setSmoothing(double weight);
  void resetZoom();
  bool isZoomed() const;
  // factor < 1 zooms in. around: the x (or y) value kept in place; default the centre.
  void zoomX(double factor, std::optional<double> around = std::nullopt);
  void zoomY(double factor, std::optional<double> around = std::nullopt);
  // Zooms to a rectangle in data coordinates, as the rubber band does.
  void zoomTo(double x0, double x1, double y0, double y1);
  // Moves the view by fractions of the visible span (0.1: a tenth to the right / up).
  void pan(double dxFraction, double dyFraction);
  // The visible range as drawn now (after fitting unset bounds).
  distillery::ChartBounds visibleRange() const;
  // spec() with the visible range filled in, for exports: the file shows the
  // same range as the screen even where the view fitted it.
  distillery::ChartSpec exportSpec() const;
  // Runs that diverged in any metric (told by the compare view): flagged in
  // the legend, and their runaway values do not stretch the y range.
  void setDivergedRuns(const std::set<int64_t>& runIds);

  // The hover read-out at a data x, as shown when the mouse is there.
  QString readoutAt(double x) const;
  void showReadoutAt(double x);
  void hideReadout();

  // For tests and the status bar.
  int plotWidthPixels() const;
  int drawnPointCount(int64_t runId) const; // the (smoothed) curve
  int rawPointCount(int64_t runId) const;   // the faint raw curve; 0 without smoothing
  int divergenceMarkerCount() const;        // triangles at the top edge plus last-finite dots
  bool isDiverged(int64_t runId) const;
  QCategoryAxis* yAxis() const { return axisY_; }
  QCategoryAxis* xAxis() const { return axisX_; }
  QStringList xTickLabels() const;
  QStringList yTickLabels() const;
  QLineSeries* curveSeries(int64_t runId) const;
  QScatterSeries* pointSeries(int64_t runId) const; // dots for curves of one point
  // Where the hover read-out stands (data x), when it is shown.
  std::optional<double> readoutX() const;
  // Recomputes the decimated series now (normally done on the next event loop pass).
  void redraw();

Q_SIGNALS:
  // The user zoomed or panned (the spec's range changed).
  void rangeChanged();

protected:
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;

private:
  struct Drawn {
    QLineSeries* line = nullptr; // smoothed (or raw when not smoothing)
    QLineSeries* raw = nullptr;  // faint, behind, only while smoothing
    QScatterSeries* dots = nullptr; // the point of a one-point curve, which a line cannot show
    // What is drawn, at full resolution: x plus displayed y, with values a
    // log axis cannot show set to NaN. Empty when the spec's raw is used as is.
    distillery::XYSeries shown;
    distillery::XYSeries rawShown;
    bool ownsShown = false, ownsRaw = false;
    bool hasNonFinite = false; // NaN/Inf in this curve
    bool diverged = false;     // this curve, or its run elsewhere
    long lastFinite = -1; // index of the last finite value before the first NaN/Inf
  };

  void buildSeries();
  void updateLegend();
  void hideHelperMarkers();
  void refreshReadout();
  QList<QPointF> toPoints(const distillery::XYSeries& s) const;
  double yToAxis(double y) const;
  void recomputeShown();
  void replaceYAxis();
  const distillery::XYSeries& shownOf(size_t curve) const;
  const distillery::XYSeries& rawShownOf(size_t curve) const;
  void applyAxes(const distillery::ChartBounds& b);
  void updateDivergenceMarkers(const distillery::ChartBounds& b, int columns);
  void scheduleRedraw();
  void takeRangeFromAxes();
  QString formatX(double x) const;

  distillery::ChartSpec spec_;
  std::vector<Drawn> drawn_;
  distillery::ChartBounds dataBounds_; // finite x extent of all curves
  distillery::ChartBounds shownRange_; // what the axes show now
  QCategoryAxis* axisX_ = nullptr;
  QCategoryAxis* axisY_ = nullptr;
  QScatterSeries* nanMarks_ = nullptr;
  QScatterSeries* lastFinite_ = nullptr;
  QGraphicsLineItem* cursorLine_ = nullptr;
  QLabel* readout_ = nullptr;
  std::optional<double> readoutX_; // data x of the shown read-out
  bool readoutFromMouse_ = false;  // placed by hovering (else by showReadoutAt)
  QTimer* redrawTimer_ = nullptr;
  bool settingAxes_ = false;
  QPoint panFrom_;
  bool panning_ = false;
  int lastPlotWidth_ = -1;
  int lastPlotHeight_ = -1;
  std::set<int64_t> divergedRuns_;
};

} // namespace distillery::gui
