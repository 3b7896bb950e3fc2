#pragma once
// What the chart painter draws on: a few primitives in typographic points
// (1/72 in, origin top-left, y down). The SVG writer (core) and the QPainter
// canvas (render/) implement it, so PNG, SVG and PDF share one layout.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct CanvasPoint {
  double x = 0, y = 0;
};

struct CanvasRect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  bool contains(double px, double py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};

struct Stroke {
  uint32_t rgb = 0x000000;
  double width = 1.0;
  double opacity = 1.0;
  bool dashed = false;
  bool dotted = false; // wins over dashed
};

enum class TextAlign { Left, Center, Right };

struct TextStyle {
  double size = 9.0; // points
  bool bold = false;
  uint32_t rgb = 0x000000;
  TextAlign align = TextAlign::Left;
  bool vertical = false; // rotated a quarter turn anticlockwise, read bottom to top
};

// What an element shows; the SVG writer writes it as the element's class, so
// tests and readers can pick out e.g. the one curve path of each run.
enum class CanvasRole { Background, Frame, Grid, Tick, TickLabel, AxisTitle, Title, Curve, RawCurve, Marker, Legend, Note, Point };
const char* roleName(CanvasRole role);

class ChartCanvas {
public:
  virtual ~ChartCanvas() = default;
  // Advance width of the text at that style, in points.
  virtual double textWidth(const std::string& utf8, const TextStyle& style) = 0;
  virtual void fillRect(const CanvasRect& rect, uint32_t rgb, double opacity, CanvasRole role) = 0;
  virtual void strokeRect(const CanvasRect& rect, const Stroke& stroke, CanvasRole role) = 0;
  virtual void line(CanvasPoint a, CanvasPoint b, const Stroke& stroke, CanvasRole role) = 0;
  // One stroked path of one or more connected pieces (a curve cut by the
  // plot's edges); run_id names the run it belongs to (0: none).
  virtual void path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke& stroke, CanvasRole role,
                    int64_t run_id) = 0;
  // A filled disc: a measured value with no neighbour to join (a one-point
  // metric such as test accuracy), which a line alone would not show.
  virtual void dot(CanvasPoint centre, double radius, uint32_t rgb, CanvasRole role, int64_t run_id) = 0;
  // (x, y) is the baseline point the alignment refers to; vertical text turns around it.
  virtual void text(double x, double y, const std::string& utf8, const TextStyle& style, CanvasRole role) = 0;
  // Clips everything drawn until the matching popClip.
  virtual void pushClip(const CanvasRect& rect) = 0;
  virtual void popClip() = 0;
};

} // namespace distillery
