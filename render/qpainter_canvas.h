#pragma once
// The chart canvas on a QPainter: PNG (QImage) and PDF (QPdfWriter) share it.
// The painter must already map one unit to one typographic point.
#include "core/export/chart_canvas.h"

class QPainter;
class QFont;

namespace distillery::render {

class QPainterCanvas : public ChartCanvas {
public:
  explicit QPainterCanvas(QPainter& painter);

  double textWidth(const std::string& utf8, const TextStyle& style) override;
  void fillRect(const CanvasRect& rect, uint32_t rgb, double opacity, CanvasRole role) override;
  void strokeRect(const CanvasRect& rect, const Stroke& stroke, CanvasRole role) override;
  void line(CanvasPoint a, CanvasPoint b, const Stroke& stroke, CanvasRole role) override;
  void path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke& stroke, CanvasRole role,
            int64_t run_id) override;
  void dot(CanvasPoint centre, double radius, uint32_t rgb, CanvasRole role, int64_t run_id) override;
  void text(double x, double y, const std::string& utf8, const TextStyle& style, CanvasRole role) override;
  void pushClip(const CanvasRect& rect) override;
  void popClip() override;

private:
  QFont font(const TextStyle& style) const;
  void applyPen(const Stroke& stroke);

  QPainter& painter_;
  int clips_ = 0;
};

// The font charts use, at `points` typographic points on that painter's device
// (whose logical DPI may be anything: 72 for points, 1200 for a PDF writer).
QFont chartFont(const QPainter& painter, double points, bool bold = false);
// The same family at real typographic points, for an unscaled painter or a QTextDocument.
QFont documentFont(double points, bool bold = false);

} // namespace distillery::render
