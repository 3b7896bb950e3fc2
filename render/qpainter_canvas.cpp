#include "render/qpainter_canvas.h"

#include <QFont>
#include <QFontMetricsF>
#include <QPaintDevice>
#include <QPainter>
#include <QPainterPath>
#include <QPen>

#include <algorithm>

namespace distillery::render {

namespace {
QColor qcolour(uint32_t rgb, double opacity = 1.0) {
  QColor c(int((rgb >> 16) & 0xff), int((rgb >> 8) & 0xff), int(rgb & 0xff));
  c.setAlphaF(float(std::clamp(opacity, 0.0, 1.0)));
  return c;
}
} // namespace

QFont chartFont(const QPainter& painter, double points, bool bold) {
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setStyleHint(QFont::SansSerif);
  // The painter's units are points already; QFont would scale point sizes by
  // the device's DPI once more, so ask for the size that comes out as `points` units.
  const int dpi = painter.device() ? painter.device()->logicalDpiY() : 72;
  f.setPointSizeF(points * 72.0 / double(dpi > 0 ? dpi : 72));
  f.setBold(bold);
  // A letter spacing, however small, makes Qt shape without ligatures, so a
  // PDF's "fi" stays two letters that text search and pdftotext find.
  f.setLetterSpacing(QFont::AbsoluteSpacing, 1.0 / 64);
  return f;
}

QFont documentFont(double points, bool bold) {
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setStyleHint(QFont::SansSerif);
  f.setPointSizeF(points);
  f.setBold(bold);
  f.setLetterSpacing(QFont::AbsoluteSpacing, 1.0 / 64);
  return f;
}

QPainterCanvas::QPainterCanvas(QPainter& painter) : painter_(painter) {
  painter_.setRenderHint(QPainter::Antialiasing, true);
  painter_.setRenderHint(QPainter::TextAntialiasing, true);
}

QFont QPainterCanvas::font(const TextStyle& style) const { return chartFont(painter_, style.size, style.bold); }

double QPainterCanvas::textWidth(const std::string& utf8, const TextStyle& style) {
  return QFontMetricsF(font(style), painter_.device()).horizontalAdvance(QString::fromStdString(utf8));
}

void QPainterCanvas::applyPen(const Stroke& s) {
  QPen pen(qcolour(s.rgb, s.opacity));
  pen.setWidthF(s.width);
  pen.setCapStyle(Qt::RoundCap);
  pen.setJoinStyle(Qt::RoundJoin);
  if (s.dotted) pen.setDashPattern({1.0 / s.width, 1.6 / s.width}); // in pen widths
  else if (s.dashed) pen.setDashPattern({3.0 / s.width, 2.0 / s.width});
  painter_.setPen(pen);
  painter_.setBrush(Qt::NoBrush);
}

void QPainterCanvas::fillRect(const CanvasRect& r, uint32_t rgb, double opacity, CanvasRole) {
  painter_.fillRect(QRectF(r.x, r.y, r.w, r.h), qcolour(rgb, opacity));
}

void QPainterCanvas::strokeRect(const CanvasRect& r, const Stroke& s, CanvasRole) {
  applyPen(s);
  painter_.drawRect(QRectF(r.x, r.y, r.w, r.h));
}

void QPainterCanvas::line(CanvasPoint a, CanvasPoint b, const Stroke& s, CanvasRole) {
  applyPen(s);
  painter_.drawLine(QPointF(a.x, a.y), QPointF(b.x, b.y));
}

void QPainterCanvas::path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke& s, CanvasRole, int64_t) {
  QPainterPath path;
  for (const auto& piece : pieces) {
    if (piece.empty()) continue;
    path.moveTo(piece[0].x, piece[0].y);
    for (size_t i = 1; i < piece.size(); ++i) path.lineTo(piece[i].x, piece[i].y);
  }
  if (path.isEmpty()) return;
  applyPen(s);
  painter_.drawPath(path);
}

void QPainterCanvas::dot(CanvasPoint c, double radius, uint32_t rgb, CanvasRole, int64_t) {
  painter_.setPen(Qt::NoPen);
  painter_.setBrush(qcolour(rgb, 1.0));
  painter_.drawEllipse(QPointF(c.x, c.y), radius, radius);
  painter_.setBrush(Qt::NoBrush);
}

void QPainterCanvas::text(double x, double y, const std::string& utf8, const TextStyle& st, CanvasRole) {
  const QString text = QString::fromStdString(utf8);
  const QFont f = font(st);
  painter_.setFont(f);
  painter_.setPen(qcolour(st.rgb));
  const double w = QFontMetricsF(f, painter_.device()).horizontalAdvance(text);
  const double dx = st.align == TextAlign::Left ? 0.0 : st.align == TextAlign::Center ? -w / 2 : -w;
  if (!st.vertical) {
    painter_.drawText(QPointF(x + dx, y), text);
    return;
  }
  painter_.save();
  painter_.translate(x, y);
  painter_.rotate(-90);
  painter_.drawText(QPointF(dx, 0), text);
  painter_.restore();
}

void QPainterCanvas::pushClip(const CanvasRect& r) {
  painter_.save();
  painter_.setClipRect(QRectF(r.x, r.y, r.w, r.h), painter_.hasClipping() ? Qt::IntersectClip : Qt::ReplaceClip);
  ++clips_;
}

void QPainterCanvas::popClip() {
  if (clips_ == 0) return;
  painter_.restore();
  --clips_;
}

} // namespace distillery::render
