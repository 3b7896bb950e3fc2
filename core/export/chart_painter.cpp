#include "core/export/chart_painter.h"

#include "core/export/axis_ticks.h"
#include "core/export/series_decimation.h"

#include <algorithm>
#include <cmath>

namespace distillery {

const char* roleName(CanvasRole role) {
  switch (role) {
  case CanvasRole::Background: return "background";
  case CanvasRole::Frame: return "frame";
  case CanvasRole::Grid: return "grid";
  case CanvasRole::Tick: return "tick";
  case CanvasRole::TickLabel: return "tick-label";
  case CanvasRole::AxisTitle: return "axis-title";
  case CanvasRole::Title: return "title";
  case CanvasRole::Curve: return "curve";
  case CanvasRole::RawCurve: return "raw-curve";
  case CanvasRole::Marker: return "divergence";
  case CanvasRole::Legend: return "legend";
  case CanvasRole::Note: return "note";
  case CanvasRole::Point: return "point";
  }
  return "";
}

double estimatedTextWidth(const std::string& s, double size, bool bold) {
  // Advance widths of DejaVu Sans for ASCII 32..126, in 1/2048 em; viewers
  // that fall back to Helvetica or Arial draw narrower, so boxes still fit.
  static const short widths[95] = {
      651,  821,  942,  1716, 1303, 1946, 1593, 563,  799,  799,  1024, 1716, 651,  739,  651,  690,
      1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,  1716, 1716, 1716, 1087,
      2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604,  604,  1343, 1141, 1767, 1532, 1612,
      1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799,  690,  799,  1716, 1024,
      1024, 1255, 1300, 1126, 1300, 1260, 721,  1300, 1298, 569,  569,  1186, 569,  1995, 1298, 1253,
      1300, 1300, 842,  1067, 803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716};
  double units = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue; // continuation byte of a UTF-8 sequence
    units += (c >= 32 && c < 127) ? widths[c - 32] : 1300;
  }
  return units / 2048.0 * size * (bold ? 1.1 : 1.0);
}

namespace {

constexpr uint32_t kWhite = 0xffffff, kText = 0x222222, kFrame = 0x555555, kGrid = 0xe3e3e3, kTickText = 0x333333;
constexpr uint32_t kDiverged = 0xe00000;
constexpr double kTitleSize = 11, kAxisTitleSize = 9, kTickSize = 8, kLegendSize = 8;
constexpr double kMargin = 6, kTickLength = 3, kGap = 3;
constexpr double kCurveWidth = 1.3, kRawWidth = 0.8, kRawOpacity = 0.28, kPointRadius = 2.6, kMarkerRadius = 3.0;
constexpr size_t kMaxLabelChars = 40;

// One axis from data to canvas coordinates; log axes map log10 of the value.
struct Scale {
  double d0 = 0, d1 = 1, p0 = 0, p1 = 1;
  bool log = false;
  double map(double v) const {
    const double a = log ? std::log10(d0) : d0, b = log ? std::log10(d1) : d1;
    const double t = ((log ? std::log10(v) : v) - a) / (b - a);
    // Far-off values (a zoomed view) stay finite numbers for every backend.
    return std::clamp(p0 + t * (p1 - p0), -1e5, 1e5);
  }
};

struct LegendEntry {
  std::string text;
  uint32_t rgb = 0;
  bool diverged = false;
  bool dashed = false;
  bool markers = false;
  bool square = false;
  bool line = true;
  bool hollow = false;
  bool dotted = false;
};

struct PreparedCurve {
  int64_t run_id = 0;
  uint32_t rgb = 0;
  bool dashed = false;
  bool markers = false;
  bool square = false;
  bool line = true;
  bool hollow = false;
  bool dotted = false;
  XYSeries shown, raw;         // decimated, data coordinates
  std::vector<double> marks_x; // first x of each stretch of non-finite values
  std::vector<double> marks_y; // the value shown just before it (NaN: none)
};

// Long labels lose their middle: "#12" at the start and the end of the name,
// where runs of a sweep differ ("...-seed1", "...-seed2"), both stay.
std::string truncated(const std::string& s) {
  std::vector<size_t> starts; // byte offset of each UTF-8 character
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= kMaxLabelChars) return s;
  const size_t head = (kMaxLabelChars - 1) / 2, tail = kMaxLabelChars - 1 - head;
  return s.substr(0, starts[head]) + "\u2026" + s.substr(starts[starts.size() - tail]);
}

// Cohen-Sutherland style test: does the segment a-b touch the rectangle?
bool segmentHitsRect(CanvasPoint a, CanvasPoint b, const CanvasRect& r) {
  auto code = [&](CanvasPoint p) {
    int c = 0;
    if (p.x < r.x) c |= 1;
    else if (p.x > r.right()) c |= 2;
    if (p.y < r.y) c |= 4;
    else if (p.y > r.bottom()) c |= 8;
    return c;
  };
  int ca = code(a), cb = code(b);
  for (int iter = 0; iter < 8; ++iter) {
    if (!(ca | cb)) return true;
    if (ca & cb) return false;
    const int out = ca ? ca : cb;
    CanvasPoint p;
    if (out & 8) { p.x = a.x + (b.x - a.x) * (r.bottom() - a.y) / (b.y - a.y); p.y = r.bottom(); }
    else if (out & 4) { p.x = a.x + (b.x - a.x) * (r.y - a.y) / (b.y - a.y); p.y = r.y; }
    else if (out & 2) { p.y = a.y + (b.y - a.y) * (r.right() - a.x) / (b.x - a.x); p.x = r.right(); }
    else { p.y = a.y + (b.y - a.y) * (r.x - a.x) / (b.x - a.x); p.x = r.x; }
    if (out == ca) { a = p; ca = code(a); }
    else { b = p; cb = code(b); }
  }
  return false;
}

// Liang-Barsky: the part of segment a-b inside r, if any.
bool clipSegment(CanvasPoint& a, CanvasPoint& b, const CanvasRect& r) {
  double t0 = 0, t1 = 1;
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - r.x, r.right() - a.x, a.y - r.y, r.bottom() - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const CanvasPoint a0 = a;
  // Uncut ends stay bit-identical, so the next segment is seen to continue the piece.
  if (t0 > 0) a = {a0.x + t0 * dx, a0.y + t0 * dy};
  if (t1 < 1) b = {a0.x + t1 * dx, a0.y + t1 * dy};
  return true;
}

// A polyline cut to the rectangle: the connected pieces inside it.
std::vector<std::vector<CanvasPoint>> clippedPieces(const std::vector<CanvasPoint>& pts, const CanvasRect& r) {
  std::vector<std::vector<CanvasPoint>> pieces;
  bool open = false; // the last piece ends where the next segment starts
  for (size_t i = 1; i < pts.size(); ++i) {
    CanvasPoint a = pts[i - 1], b = pts[i];
    if (!clipSegment(a, b, r)) {
      open = false;
      continue;
    }
    const bool continues = open && a.x == pts[i - 1].x && a.y == pts[i - 1].y;
    if (!continues) pieces.push_back({a});
    pieces.back().push_back(b);
    // The next segment continues this piece only if b was not cut.
    open = b.x == pts[i].x && b.y == pts[i].y;
  }
  return pieces;
}

std::vector<CanvasPoint> mapped(const XYSeries& s, const Scale& sx, const Scale& sy) {
  std::vector<CanvasPoint> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) out.push_back({sx.map(s.x[i]), sy.map(s.y[i])});
  return out;
}

PreparedCurve prepareCurve(const ChartSpec& spec, const ChartCurve& curve, const ChartBounds& b, int columns) {
  PreparedCurve p;
  p.run_id = curve.run_id;
  p.rgb = curve.rgb;
  p.dashed = curve.dashed;
  p.markers = curve.markers;
  p.square = curve.square_markers;
  p.line = curve.line;
  p.hollow = curve.hollow_markers;
  p.dotted = curve.dotted;
  const std::vector<double> shown = displayedValues(spec, curve);
  XYSeries s{curve.raw.x, shown};
  XYSeries raw = curve.raw;
  if (spec.log_y) { // a log axis cannot show zero or negative values
    for (double& y : s.y) if (y <= 0) y = NAN;
    for (double& y : raw.y) if (y <= 0) y = NAN;
  }
  if (spec.log_x) // nor at zero or negative x
    for (size_t i = 0; i < s.size(); ++i)
      if (s.x[i] <= 0) s.y[i] = raw.y[i] = NAN;
  p.shown = decimateMinMax(s, b.x_min, b.x_max, columns);
  if (spec.smoothing > 0) p.raw = decimateMinMax(raw, b.x_min, b.x_max, columns);

  double last_finite = NAN;
  bool in_stretch = false;
  for (size_t i = 0; i < curve.raw.size(); ++i) {
    const double y = curve.raw.y[i];
    if (std::isfinite(y)) {
      in_stretch = false;
      if (std::isfinite(s.y[i])) last_finite = s.y[i];
      continue;
    }
    if (in_stretch) continue;
    in_stretch = true;
    const double x = curve.raw.x[i];
    if (x < b.x_min || x > b.x_max) continue;
    p.marks_x.push_back(x);
    p.marks_y.push_back(last_finite);
  }
  // A spec built elsewhere may list divergence without the raw NaN values.
  if (p.marks_x.empty())
    for (double x : curve.divergence_x)
      if (x >= b.x_min && x <= b.x_max) {
        p.marks_x.push_back(x);
        p.marks_y.push_back(NAN);
      }
  return p;
}

struct LegendBox {
  double w = 0, h = 0, row = 0, col_w = 0;
  int columns = 1;
};

constexpr double kSwatch = 14, kLegendPad = 4;

// One paintChart call: what it measured and decided, and its steps in order.
class ChartPainting {
public:
  ChartPainting(const ChartSpec& spec, ChartCanvas& canvas, const ChartPaintOptions& options)
      : spec_(spec), canvas_(canvas), options_(options), W_(std::max(60.0, options.width_pt)),
        H_(std::max(60.0, options.height_pt)), b_(chartBounds(spec)), sx_{b_.x_min, b_.x_max, 0, 0, spec.log_x},
        sy_{b_.y_min, b_.y_max, 0, 0, spec.log_y} {}

  ChartLayout paint() {
    layout_.bounds = b_;
    canvas_.fillRect({0, 0, W_, H_}, kWhite, 1.0, CanvasRole::Background);
    measureLegend();
    measureMargins();
    LegendBox inside_box = legend_;
    plot_ = plotFor(LegendPlacement::TopRight, inside_box);
    prepareCurves();
    placeLegend();
    setScales(plot_);
    layout_.plot = plot_;
    layout_.legend = legend_rect_;
    layout_.legend_placement = placement_;
    const auto xticks = xTicksFor(plot_.w);
    const auto yticks = yTicksFor(plot_.h);
    drawGrid(xticks, yticks);
    canvas_.pushClip(plot_);
    drawCurves();
    drawDivergenceMarks();
    canvas_.popClip();
    drawPointLabels();
    drawNoDataNote();
    canvas_.strokeRect(plot_, {kFrame, 0.8, 1.0, false}, CanvasRole::Frame);
    drawTicks(xticks, yticks);
    drawTitles();
    drawLegend();
    return layout_;
  }

private:
  // Legend entries and the size of a one-column legend.
  void measureLegend() {
    for (const ChartCurve& c : spec_.curves) {
      bool diverged = !c.divergence_x.empty();
      for (double y : c.raw.y) diverged = diverged || !std::isfinite(y);
      // A run without this metric stays in the legend, so the reader knows it was compared.
      const char* note = diverged ? " (diverged)" : c.raw.empty() ? " (no data)" : "";
      entries_.push_back({truncated(c.label) + note, c.rgb, diverged, c.dashed, c.markers, c.square_markers, c.line,
                          c.hollow_markers, c.dotted});
    }
    legend_.row = kLegendSize * 1.45;
    double widest = 0;
    for (const LegendEntry& e : entries_) widest = std::max(widest, canvas_.textWidth(e.text, legend_style_));
    legend_.col_w = kSwatch + 4 + widest;
    legend_.w = 2 * kLegendPad + legend_.col_w;
    legend_.h = 2 * kLegendPad + legend_.row * double(entries_.size());
  }

  // Vertical space: title on top, tick labels and the x title below.
  void measureMargins() {
    top_ = kMargin;
    if (!spec_.title.empty()) top_ += kTitleSize * 1.3;
    top_ += 4;
    bottom_base_ = kMargin + kAxisTitleSize * 1.25 + kGap + kTickSize * 1.25 + kTickLength + kGap;
  }

  std::vector<AxisTick> yTicksFor(double plot_h) const {
    const int target = std::max(2, int(plot_h / 38));
    return spec_.log_y ? logTicks(b_.y_min, b_.y_max, target) : linearTicks(b_.y_min, b_.y_max, target);
  }
  std::vector<AxisTick> xTicksFor(double plot_w) const {
    const int target = std::max(2, int(plot_w / 60));
    return spec_.log_x ? logTicks(b_.x_min, b_.x_max, target) : linearTicks(b_.x_min, b_.x_max, target);
  }

  // The plot rectangle for a legend placement: outside placements take room from it.
  CanvasRect plotFor(LegendPlacement placement, LegendBox& box) const {
    double bottom = bottom_base_;
    double right = kMargin + 8;
    if (placement == LegendPlacement::OutsideBottom) {
      box.columns = std::max(1, int((W_ - 2 * kMargin) / (box.col_w + 12)));
      const int rows = int((entries_.size() + size_t(box.columns) - 1) / size_t(box.columns));
      box.w = 2 * kLegendPad + box.columns * box.col_w + (box.columns - 1) * 12;
      box.h = 2 * kLegendPad + rows * box.row;
      bottom += box.h + 4;
    }
    if (placement == LegendPlacement::OutsideRight) right += box.w + 4;
    const double plot_h_guess = std::max(20.0, H_ - top_ - bottom);
    double widest_y = 0;
    for (const AxisTick& t : yTicksFor(plot_h_guess))
      if (!t.label.empty()) widest_y = std::max(widest_y, canvas_.textWidth(t.label, tick_style_));
    const double left = kMargin + kAxisTitleSize * 1.25 + kGap + widest_y + kGap + kTickLength;
    // The last x label is centred on the frame's edge: leave it room.
    const auto xt = xTicksFor(std::max(20.0, W_ - left - right));
    if (!xt.empty() && placement != LegendPlacement::OutsideRight)
      right = std::max(right, kMargin + canvas_.textWidth(xt.back().label, tick_style_) / 2);
    return CanvasRect{left, top_, std::max(20.0, W_ - left - right), std::max(20.0, H_ - top_ - bottom)};
  }

  // Each curve decimated to the plot's pixel columns (min/max per column).
  void prepareCurves() {
    const int columns = std::max(1, int(std::ceil(plot_.w * options_.resolution_dpi / 72.0)));
    layout_.decimation_columns = columns;
    for (const ChartCurve& c : spec_.curves) curves_.push_back(prepareCurve(spec_, c, b_, columns));
    for (const PreparedCurve& c : curves_) any_data_ = any_data_ || !c.shown.empty() || !c.marks_x.empty();
  }

  void setScales(const CanvasRect& r) {
    sx_.p0 = r.x;
    sx_.p1 = r.right();
    sy_.p0 = r.bottom();
    sy_.p1 = r.y;
  }

  // Inside a corner that no curve touches, else outside the plot.
  void placeLegend() {
    if (entries_.empty()) return;
    setScales(plot_);
    std::vector<std::vector<CanvasPoint>> lines;
    for (const PreparedCurve& c : curves_) {
      // Markers and their labels are each a point the legend must not cover.
      if (c.markers)
        for (const CanvasPoint& pt : mapped(c.shown, sx_, sy_)) {
          lines.push_back({pt});
          lines.push_back({{pt.x + 24, pt.y - 4}});
        }
      if (!c.line) continue;
      lines.push_back(mapped(c.shown, sx_, sy_));
      lines.push_back(mapped(c.raw, sx_, sy_));
      for (size_t i = 0; i < c.marks_x.size(); ++i) {
        const double mx = sx_.map(c.marks_x[i]);
        lines.push_back({{mx, plot_.y}, {mx, plot_.bottom()}}); // the divergence line spans the plot
      }
    }
    auto free = [&](const CanvasRect& r) {
      const CanvasRect grown{r.x - 2, r.y - 2, r.w + 4, r.h + 4};
      for (const auto& pts : lines) {
        if (pts.size() == 1 && grown.contains(pts[0].x, pts[0].y)) return false;
        for (size_t i = 1; i < pts.size(); ++i)
          if (segmentHitsRect(pts[i - 1], pts[i], grown)) return false;
      }
      return true;
    };
    const double inset = 5;
    const LegendBox& l = legend_;
    // Any size may go inside as long as it covers no data; only a legend that fills the plot may not.
    const bool fits_inside = l.w < plot_.w * 0.85 && l.h < plot_.h * 0.85;
    const std::pair<LegendPlacement, CanvasRect> corners[] = {
        {LegendPlacement::TopRight, {plot_.right() - inset - l.w, plot_.y + inset, l.w, l.h}},
        {LegendPlacement::TopLeft, {plot_.x + inset, plot_.y + inset, l.w, l.h}},
        {LegendPlacement::BottomRight, {plot_.right() - inset - l.w, plot_.bottom() - inset - l.h, l.w, l.h}},
        {LegendPlacement::BottomLeft, {plot_.x + inset, plot_.bottom() - inset - l.h, l.w, l.h}},
    };
    if (fits_inside)
      for (const auto& [where, rect] : corners)
        if (free(rect)) {
          placement_ = where;
          legend_rect_ = rect;
          return;
        }
    placement_ = legend_.w <= W_ * 0.3 ? LegendPlacement::OutsideRight : LegendPlacement::OutsideBottom;
    plot_ = plotFor(placement_, legend_);
    if (placement_ == LegendPlacement::OutsideRight)
      legend_rect_ = {W_ - kMargin - legend_.w, plot_.y, legend_.w, legend_.h};
    else
      legend_rect_ = {std::max(kMargin, plot_.x + (plot_.w - legend_.w) / 2), H_ - kMargin - legend_.h, legend_.w,
                      legend_.h};
  }

  void drawGrid(const std::vector<AxisTick>& xticks, const std::vector<AxisTick>& yticks) {
    const Stroke grid{kGrid, 0.5, 1.0, false};
    for (const AxisTick& t : yticks) {
      const double y = sy_.map(t.value);
      if (t.major) canvas_.line({plot_.x, y}, {plot_.right(), y}, grid, CanvasRole::Grid);
    }
    for (const AxisTick& t : xticks) {
      const double x = sx_.map(t.value);
      if (t.major) canvas_.line({x, plot_.y}, {x, plot_.bottom()}, grid, CanvasRole::Grid);
    }
  }

  // Clipped to the visible range: faint raw data first, the shown curve on top.
  // Clipped here too, not only by the canvas, so SVG viewers without clip paths agree.
  void drawCurves() {
    size_t drawn = 0;
    for (const PreparedCurve& c : curves_) {
      if (c.raw.size() < 2) continue;
      const auto pieces = clippedPieces(mapped(c.raw, sx_, sy_), plot_);
      if (pieces.empty()) continue;
      canvas_.path(pieces, {c.rgb, kRawWidth, kRawOpacity, false}, CanvasRole::RawCurve, c.run_id);
      for (const auto& p : pieces) drawn += p.size();
    }
    for (const PreparedCurve& c : curves_) {
      if (c.shown.empty()) continue;
      const std::vector<CanvasPoint> pts = mapped(c.shown, sx_, sy_);
      if (pts.size() == 1) {
        // A metric measured once (test accuracy at the end) has no line to draw: a disc marks it.
        if (plot_.contains(pts[0].x, pts[0].y)) {
          if (c.markers) marker(pts[0], c.rgb, c.square, c.hollow, CanvasRole::Point, c.run_id);
          else canvas_.dot(pts[0], kPointRadius, c.rgb, CanvasRole::Point, c.run_id);
          ++drawn;
        }
        continue;
      }
      // The line first, so that markers (a hollow one's white middle) sit over it.
      if (c.line) {
        const auto pieces = clippedPieces(pts, plot_);
        if (!pieces.empty())
          canvas_.path(pieces, {c.rgb, kCurveWidth, 1.0, c.dashed, c.dotted}, CanvasRole::Curve, c.run_id);
        for (const auto& p : pieces) drawn += p.size();
      }
      if (c.markers)
        for (const CanvasPoint& pt : pts)
          if (plot_.contains(pt.x, pt.y)) {
            marker(pt, c.rgb, c.square, c.hollow, CanvasRole::Point, c.run_id);
            if (!c.line) ++drawn;
          }
    }
    layout_.drawn_points = drawn;
  }

  // A disc, or a square of about the same area; hollow: a white middle inside a ring of the colour.
  void marker(CanvasPoint at, uint32_t rgb, bool square, bool hollow, CanvasRole role, int64_t run_id) {
    constexpr double kRing = 1.1;
    if (!square) {
      canvas_.dot(at, kMarkerRadius, rgb, role, run_id);
      if (hollow) canvas_.dot(at, kMarkerRadius - kRing, kWhite, role, run_id);
      return;
    }
    const double half = kMarkerRadius * 0.9;
    canvas_.fillRect({at.x - half, at.y - half, 2 * half, 2 * half}, rgb, 1.0, role);
    if (hollow)
      canvas_.fillRect({at.x - half + kRing, at.y - half + kRing, 2 * (half - kRing), 2 * (half - kRing)}, kWhite, 1.0,
                       role);
  }

  // Each marked point's label (a run id) up and to the right of its disc,
  // from the full-resolution points: a label belongs to one point, not to a
  // column. A label that would overlap one already drawn is left out:
  // coinciding points (runs of equal figures) would pile their ids into a blot.
  void drawPointLabels() {
    const TextStyle style{kTickSize, false, kText, TextAlign::Left, false};
    std::vector<CanvasRect> drawn;
    for (const ChartCurve& c : spec_.curves) {
      if (c.point_labels.empty()) continue;
      for (size_t i = 0; i < c.raw.size() && i < c.point_labels.size(); ++i) {
        if (c.point_labels[i].empty() || !std::isfinite(c.raw.x[i]) || !std::isfinite(c.raw.y[i])) continue;
        if ((spec_.log_x && c.raw.x[i] <= 0) || (spec_.log_y && c.raw.y[i] <= 0)) continue;
        const CanvasPoint pt{sx_.map(c.raw.x[i]), sy_.map(c.raw.y[i])};
        if (!plot_.contains(pt.x, pt.y)) continue;
        const double x = pt.x + kMarkerRadius + 1.5, baseline = pt.y - kMarkerRadius - 1;
        const CanvasRect box{x, baseline - kTickSize * 0.8, canvas_.textWidth(c.point_labels[i], style),
                             kTickSize * 1.0};
        const auto overlaps = [&](const CanvasRect& r) {
          return box.x < r.right() && r.x < box.right() && box.y < r.bottom() && r.y < box.bottom();
        };
        if (std::any_of(drawn.begin(), drawn.end(), overlaps)) continue;
        drawn.push_back(box);
        canvas_.text(x, baseline, c.point_labels[i], style, CanvasRole::Note);
      }
    }
  }

  // A dashed red line where values became NaN/Inf and a red X at the last
  // value before it; charts elsewhere silently drop such points.
  void drawDivergenceMarks() {
    const Stroke mark_line{kDiverged, 0.7, 0.55, true};
    const Stroke mark_x{kDiverged, 1.3, 1.0, false};
    for (const PreparedCurve& c : curves_) {
      double last_px = -1e9;
      for (size_t i = 0; i < c.marks_x.size(); ++i) {
        const double px = sx_.map(c.marks_x[i]);
        if (std::abs(px - last_px) < 3) continue; // marks closer than 3 pt read as one
        last_px = px;
        canvas_.line({px, plot_.y}, {px, plot_.bottom()}, mark_line, CanvasRole::Marker);
        double py = std::isfinite(c.marks_y[i]) ? sy_.map(c.marks_y[i]) : plot_.y + 6;
        py = std::clamp(py, plot_.y + 4, plot_.bottom() - 4);
        const double r = 3.2;
        canvas_.line({px - r, py - r}, {px + r, py + r}, mark_x, CanvasRole::Marker);
        canvas_.line({px - r, py + r}, {px + r, py - r}, mark_x, CanvasRole::Marker);
      }
    }
  }

  void drawNoDataNote() {
    if (any_data_) return;
    TextStyle note{kAxisTitleSize, false, 0x888888, TextAlign::Center, false};
    canvas_.text(plot_.x + plot_.w / 2, plot_.y + plot_.h / 2,
                 spec_.curves.empty() ? "No runs" : "No data for this metric", note, CanvasRole::Note);
  }

  // Tick marks and labels, outside the frame.
  void drawTicks(const std::vector<AxisTick>& xticks, const std::vector<AxisTick>& yticks) {
    const Stroke tick{kFrame, 0.6, 1.0, false};
    TextStyle ylabel = tick_style_;
    ylabel.align = TextAlign::Right;
    for (const AxisTick& t : yticks) {
      const double y = sy_.map(t.value);
      canvas_.line({plot_.x - (t.major ? kTickLength : kTickLength * 0.6), y}, {plot_.x, y}, tick, CanvasRole::Tick);
      if (!t.label.empty())
        canvas_.text(plot_.x - kTickLength - kGap, y + kTickSize * 0.35, t.label, ylabel, CanvasRole::TickLabel);
    }
    for (const AxisTick& t : xticks) {
      const double x = sx_.map(t.value);
      canvas_.line({x, plot_.bottom()}, {x, plot_.bottom() + (t.major ? kTickLength : kTickLength * 0.6)}, tick,
                   CanvasRole::Tick);
      if (t.label.empty()) continue; // a log axis's minor tick
      canvas_.text(x, plot_.bottom() + kTickLength + kGap + kTickSize * 0.8, t.label, tick_style_,
                   CanvasRole::TickLabel);
    }
  }

  // Axis titles and the chart title.
  void drawTitles() {
    const TextStyle xtitle{kAxisTitleSize, false, kText, TextAlign::Center, false};
    const double x_title_y = plot_.bottom() + kTickLength + kGap + kTickSize * 1.25 + kGap + kAxisTitleSize * 0.85;
    canvas_.text(plot_.x + plot_.w / 2, x_title_y, spec_.xTitle(), xtitle, CanvasRole::AxisTitle);
    const TextStyle ytitle{kAxisTitleSize, false, kText, TextAlign::Center, true};
    canvas_.text(kMargin + kAxisTitleSize * 0.85, plot_.y + plot_.h / 2, spec_.yTitle(), ytitle,
                 CanvasRole::AxisTitle);
    if (!spec_.title.empty()) {
      const TextStyle title{kTitleSize, true, kText, TextAlign::Center, false};
      canvas_.text(plot_.x + plot_.w / 2, kMargin + kTitleSize * 0.95, spec_.title, title, CanvasRole::Title);
    }
  }

  // The legend, on a white ground when it sits inside the plot.
  void drawLegend() {
    if (placement_ == LegendPlacement::None) return;
    const bool inside = placement_ != LegendPlacement::OutsideRight && placement_ != LegendPlacement::OutsideBottom;
    if (inside) {
      canvas_.fillRect(legend_rect_, kWhite, 0.9, CanvasRole::Legend);
      canvas_.strokeRect(legend_rect_, {0xbbbbbb, 0.5, 1.0, false}, CanvasRole::Legend);
    }
    const int cols = placement_ == LegendPlacement::OutsideBottom ? legend_.columns : 1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const int col = int(i % size_t(cols)), row = int(i / size_t(cols));
      const double ex = legend_rect_.x + kLegendPad + col * (legend_.col_w + 12);
      const double ey = legend_rect_.y + kLegendPad + row * legend_.row + legend_.row / 2;
      if (entries_[i].line)
        canvas_.line({ex, ey}, {ex + kSwatch, ey}, {entries_[i].rgb, 2.2, 1.0, entries_[i].dashed, entries_[i].dotted},
                     CanvasRole::Legend);
      if (entries_[i].markers)
        marker({ex + kSwatch / 2, ey}, entries_[i].rgb, entries_[i].square, entries_[i].hollow, CanvasRole::Legend, 0);
      if (entries_[i].diverged) {
        const double r = 2.4, cx = ex + kSwatch / 2;
        canvas_.line({cx - r, ey - r}, {cx + r, ey + r}, {kDiverged, 1.1, 1.0, false}, CanvasRole::Legend);
        canvas_.line({cx - r, ey + r}, {cx + r, ey - r}, {kDiverged, 1.1, 1.0, false}, CanvasRole::Legend);
      }
      canvas_.text(ex + kSwatch + 4, ey + kLegendSize * 0.35, entries_[i].text, legend_style_, CanvasRole::Legend);
    }
  }

  const ChartSpec& spec_;
  ChartCanvas& canvas_;
  const ChartPaintOptions& options_;
  const double W_, H_;
  const ChartBounds b_;
  const TextStyle legend_style_{kLegendSize, false, kText, TextAlign::Left, false};
  const TextStyle tick_style_{kTickSize, false, kTickText, TextAlign::Center, false};
  ChartLayout layout_;
  std::vector<LegendEntry> entries_;
  LegendBox legend_;
  double top_ = 0, bottom_base_ = 0;
  CanvasRect plot_;
  std::vector<PreparedCurve> curves_;
  bool any_data_ = false;
  Scale sx_, sy_;
  LegendPlacement placement_ = LegendPlacement::None;
  CanvasRect legend_rect_;
};

} // namespace

ChartLayout paintChart(const ChartSpec& spec, ChartCanvas& canvas, const ChartPaintOptions& options) {
  return ChartPainting(spec, canvas, options).paint();
}

} // namespace distillery
