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
constexpr double kCurveWidth = 1.3, kRawWidth = 0.8, kRawOpacity = 0.28, kPointRadius = 2.6;
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
};

struct PreparedCurve {
  int64_t run_id = 0;
  uint32_t rgb = 0;
  bool dashed = false;
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

} // namespace

ChartLayout paintChart(const ChartSpec& spec, ChartCanvas& canvas, const ChartPaintOptions& options) {
  ChartLayout layout;
  const double W = std::max(60.0, options.width_pt), H = std::max(60.0, options.height_pt);
  const ChartBounds b = chartBounds(spec);
  layout.bounds = b;
  canvas.fillRect({0, 0, W, H}, kWhite, 1.0, CanvasRole::Background);

  // Legend entries and size.
  std::vector<LegendEntry> entries;
  for (const ChartCurve& c : spec.curves) {
    bool diverged = !c.divergence_x.empty();
    for (double y : c.raw.y) diverged = diverged || !std::isfinite(y);
    // A run without this metric stays in the legend, so the reader knows it was compared.
    const char* note = diverged ? " (diverged)" : c.raw.empty() ? " (no data)" : "";
    entries.push_back({truncated(c.label) + note, c.rgb, diverged, c.dashed});
  }
  const TextStyle legend_style{kLegendSize, false, kText, TextAlign::Left, false};
  const double swatch = 14, pad = 4;
  LegendBox legend;
  legend.row = kLegendSize * 1.45;
  double widest = 0;
  for (const LegendEntry& e : entries) widest = std::max(widest, canvas.textWidth(e.text, legend_style));
  legend.col_w = swatch + 4 + widest;
  legend.w = 2 * pad + legend.col_w;
  legend.h = 2 * pad + legend.row * double(entries.size());

  // Vertical space: title on top, tick labels and the x title below.
  double top = kMargin;
  if (!spec.title.empty()) top += kTitleSize * 1.3;
  top += 4;
  const double bottom_base = kMargin + kAxisTitleSize * 1.25 + kGap + kTickSize * 1.25 + kTickLength + kGap;

  const TextStyle tick_style{kTickSize, false, kTickText, TextAlign::Center, false};
  auto yTicksFor = [&](double plot_h) {
    const int target = std::max(2, int(plot_h / 38));
    return spec.log_y ? logTicks(b.y_min, b.y_max, target) : linearTicks(b.y_min, b.y_max, target);
  };
  auto xTicksFor = [&](double plot_w) {
    const int target = std::max(2, int(plot_w / 60));
    return spec.log_x ? logTicks(b.x_min, b.x_max, target) : linearTicks(b.x_min, b.x_max, target);
  };

  // The plot rectangle for a legend placement: outside placements take room from it.
  auto plotFor = [&](LegendPlacement placement, LegendBox& box) {
    double bottom = bottom_base;
    double right = kMargin + 8;
    if (placement == LegendPlacement::OutsideBottom) {
      box.columns = std::max(1, int((W - 2 * kMargin) / (box.col_w + 12)));
      const int rows = int((entries.size() + size_t(box.columns) - 1) / size_t(box.columns));
      box.w = 2 * pad + box.columns * box.col_w + (box.columns - 1) * 12;
      box.h = 2 * pad + rows * box.row;
      bottom += box.h + 4;
    }
    if (placement == LegendPlacement::OutsideRight) right += box.w + 4;
    const double plot_h_guess = std::max(20.0, H - top - bottom);
    double widest_y = 0;
    for (const AxisTick& t : yTicksFor(plot_h_guess))
      if (!t.label.empty()) widest_y = std::max(widest_y, canvas.textWidth(t.label, tick_style));
    const double left = kMargin + kAxisTitleSize * 1.25 + kGap + widest_y + kGap + kTickLength;
    // The last x label is centred on the frame's edge: leave it room.
    const auto xt = xTicksFor(std::max(20.0, W - left - right));
    if (!xt.empty() && placement != LegendPlacement::OutsideRight)
      right = std::max(right, kMargin + canvas.textWidth(xt.back().label, tick_style) / 2);
    return CanvasRect{left, top, std::max(20.0, W - left - right), std::max(20.0, H - top - bottom)};
  };

  LegendBox inside_box = legend;
  CanvasRect plot = plotFor(LegendPlacement::TopRight, inside_box);
  const int columns = std::max(1, int(std::ceil(plot.w * options.resolution_dpi / 72.0)));
  layout.decimation_columns = columns;

  std::vector<PreparedCurve> curves;
  for (const ChartCurve& c : spec.curves) curves.push_back(prepareCurve(spec, c, b, columns));
  bool any_data = false;
  for (const PreparedCurve& c : curves) any_data = any_data || !c.shown.empty() || !c.marks_x.empty();

  Scale sx{b.x_min, b.x_max, 0, 0, spec.log_x}, sy{b.y_min, b.y_max, 0, 0, spec.log_y};
  auto setScales = [&](const CanvasRect& r) {
    sx.p0 = r.x;
    sx.p1 = r.right();
    sy.p0 = r.bottom();
    sy.p1 = r.y;
  };

  // Legend: inside a corner that no curve touches, else outside the plot.
  LegendPlacement placement = LegendPlacement::None;
  CanvasRect legend_rect;
  if (!entries.empty()) {
    setScales(plot);
    std::vector<std::vector<CanvasPoint>> lines;
    for (const PreparedCurve& c : curves) {
      lines.push_back(mapped(c.shown, sx, sy));
      lines.push_back(mapped(c.raw, sx, sy));
      for (size_t i = 0; i < c.marks_x.size(); ++i) {
        const double mx = sx.map(c.marks_x[i]);
        lines.push_back({{mx, plot.y}, {mx, plot.bottom()}}); // the divergence line spans the plot
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
    // Any size may go inside as long as it covers no data; only a legend that fills the plot may not.
    const bool fits_inside = legend.w < plot.w * 0.85 && legend.h < plot.h * 0.85;
    const std::pair<LegendPlacement, CanvasRect> corners[] = {
        {LegendPlacement::TopRight, {plot.right() - inset - legend.w, plot.y + inset, legend.w, legend.h}},
        {LegendPlacement::TopLeft, {plot.x + inset, plot.y + inset, legend.w, legend.h}},
        {LegendPlacement::BottomRight,
         {plot.right() - inset - legend.w, plot.bottom() - inset - legend.h, legend.w, legend.h}},
        {LegendPlacement::BottomLeft, {plot.x + inset, plot.bottom() - inset - legend.h, legend.w, legend.h}},
    };
    if (fits_inside)
      for (const auto& [where, rect] : corners)
        if (free(rect)) {
          placement = where;
          legend_rect = rect;
          break;
        }
    if (placement == LegendPlacement::None) {
      placement = legend.w <= W * 0.3 ? LegendPlacement::OutsideRight : LegendPlacement::OutsideBottom;
      plot = plotFor(placement, legend);
      if (placement == LegendPlacement::OutsideRight)
        legend_rect = {W - kMargin - legend.w, plot.y, legend.w, legend.h};
      else
        legend_rect = {std::max(kMargin, plot.x + (plot.w - legend.w) / 2), H - kMargin - legend.h, legend.w, legend.h};
    }
  }
  setScales(plot);
  layout.plot = plot;
  layout.legend = legend_rect;
  layout.legend_placement = placement;

  // Grid and ticks.
  const auto xticks = xTicksFor(plot.w);
  const auto yticks = yTicksFor(plot.h);
  const Stroke grid{kGrid, 0.5, 1.0, false};
  const Stroke tick{kFrame, 0.6, 1.0, false};
  for (const AxisTick& t : yticks) {
    const double y = sy.map(t.value);
    if (t.major) canvas.line({plot.x, y}, {plot.right(), y}, grid, CanvasRole::Grid);
  }
  for (const AxisTick& t : xticks) {
    const double x = sx.map(t.value);
    if (t.major) canvas.line({x, plot.y}, {x, plot.bottom()}, grid, CanvasRole::Grid);
  }

  // Curves, clipped to the visible range: faint raw data first, the shown curve on top.
  // Clipped here too, not only by the canvas, so SVG viewers without clip paths agree.
  canvas.pushClip(plot);
  size_t drawn = 0;
  for (const PreparedCurve& c : curves) {
    if (c.raw.size() < 2) continue;
    const auto pieces = clippedPieces(mapped(c.raw, sx, sy), plot);
    if (pieces.empty()) continue;
    canvas.path(pieces, {c.rgb, kRawWidth, kRawOpacity, false}, CanvasRole::RawCurve, c.run_id);
    for (const auto& p : pieces) drawn += p.size();
  }
  for (const PreparedCurve& c : curves) {
    if (c.shown.empty()) continue;
    const std::vector<CanvasPoint> pts = mapped(c.shown, sx, sy);
    if (pts.size() == 1) {
      // A metric measured once (test accuracy at the end) has no line to draw: a disc marks it.
      if (plot.contains(pts[0].x, pts[0].y)) {
        canvas.dot(pts[0], kPointRadius, c.rgb, CanvasRole::Point, c.run_id);
        ++drawn;
      }
      continue;
    }
    const auto pieces = clippedPieces(pts, plot);
    if (pieces.empty()) continue;
    canvas.path(pieces, {c.rgb, kCurveWidth, 1.0, c.dashed}, CanvasRole::Curve, c.run_id);
    for (const auto& p : pieces) drawn += p.size();
  }
  // Divergence: a dashed red line where values became NaN/Inf and a red X at
  // the last value before it; charts elsewhere silently drop such points.
  const Stroke mark_line{kDiverged, 0.7, 0.55, true};
  const Stroke mark_x{kDiverged, 1.3, 1.0, false};
  for (const PreparedCurve& c : curves) {
    double last_px = -1e9;
    for (size_t i = 0; i < c.marks_x.size(); ++i) {
      const double px = sx.map(c.marks_x[i]);
      if (std::abs(px - last_px) < 3) continue; // marks closer than 3 pt read as one
      last_px = px;
      canvas.line({px, plot.y}, {px, plot.bottom()}, mark_line, CanvasRole::Marker);
      double py = std::isfinite(c.marks_y[i]) ? sy.map(c.marks_y[i]) : plot.y + 6;
      py = std::clamp(py, plot.y + 4, plot.bottom() - 4);
      const double r = 3.2;
      canvas.line({px - r, py - r}, {px + r, py + r}, mark_x, CanvasRole::Marker);
      canvas.line({px - r, py + r}, {px + r, py - r}, mark_x, CanvasRole::Marker);
    }
  }
  canvas.popClip();
  layout.drawn_points = drawn;

  if (!any_data) {
    TextStyle note{kAxisTitleSize, false, 0x888888, TextAlign::Center, false};
    canvas.text(plot.x + plot.w / 2, plot.y + plot.h / 2, spec.curves.empty() ? "No runs" : "No data for this metric",
                note, CanvasRole::Note);
  }

  canvas.strokeRect(plot, {kFrame, 0.8, 1.0, false}, CanvasRole::Frame);

  // Tick marks and labels, outside the frame.
  TextStyle ylabel = tick_style;
  ylabel.align = TextAlign::Right;
  for (const AxisTick& t : yticks) {
    const double y = sy.map(t.value);
    canvas.line({plot.x - (t.major ? kTickLength : kTickLength * 0.6), y}, {plot.x, y}, tick, CanvasRole::Tick);
    if (!t.label.empty())
      canvas.text(plot.x - kTickLength - kGap, y + kTickSize * 0.35, t.label, ylabel, CanvasRole::TickLabel);
  }
  for (const AxisTick& t : xticks) {
    const double x = sx.map(t.value);
    canvas.line({x, plot.bottom()}, {x, plot.bottom() + (t.major ? kTickLength : kTickLength * 0.6)}, tick,
                CanvasRole::Tick);
    if (t.label.empty()) continue; // a log axis's minor tick
    canvas.text(x, plot.bottom() + kTickLength + kGap + kTickSize * 0.8, t.label, tick_style, CanvasRole::TickLabel);
  }

  // Axis titles and the chart title.
  const TextStyle xtitle{kAxisTitleSize, false, kText, TextAlign::Center, false};
  const double x_title_y = plot.bottom() + kTickLength + kGap + kTickSize * 1.25 + kGap + kAxisTitleSize * 0.85;
  canvas.text(plot.x + plot.w / 2, x_title_y, spec.xTitle(), xtitle, CanvasRole::AxisTitle);
  const TextStyle ytitle{kAxisTitleSize, false, kText, TextAlign::Center, true};
  canvas.text(kMargin + kAxisTitleSize * 0.85, plot.y + plot.h / 2, spec.yTitle(), ytitle, CanvasRole::AxisTitle);
  if (!spec.title.empty()) {
    const TextStyle title{kTitleSize, true, kText, TextAlign::Center, false};
    canvas.text(plot.x + plot.w / 2, kMargin + kTitleSize * 0.95, spec.title, title, CanvasRole::Title);
  }

  // The legend, on a white ground.
  if (placement != LegendPlacement::None) {
    const bool inside = placement != LegendPlacement::OutsideRight && placement != LegendPlacement::OutsideBottom;
    if (inside) {
      canvas.fillRect(legend_rect, kWhite, 0.9, CanvasRole::Legend);
      canvas.strokeRect(legend_rect, {0xbbbbbb, 0.5, 1.0, false}, CanvasRole::Legend);
    }
    const int cols = placement == LegendPlacement::OutsideBottom ? legend.columns : 1;
    for (size_t i = 0; i < entries.size(); ++i) {
      const int col = int(i % size_t(cols)), row = int(i / size_t(cols));
      const double ex = legend_rect.x + pad + col * (legend.col_w + 12);
      const double ey = legend_rect.y + pad + row * legend.row + legend.row / 2;
      canvas.line({ex, ey}, {ex + swatch, ey}, {entries[i].rgb, 2.2, 1.0, entries[i].dashed}, CanvasRole::Legend);
      if (entries[i].diverged) {
        const double r = 2.4, cx = ex + swatch / 2;
        canvas.line({cx - r, ey - r}, {cx + r, ey + r}, {kDiverged, 1.1, 1.0, false}, CanvasRole::Legend);
        canvas.line({cx - r, ey + r}, {cx + r, ey - r}, {kDiverged, 1.1, 1.0, false}, CanvasRole::Legend);
      }
      canvas.text(ex + swatch + 4, ey + kLegendSize * 0.35, entries[i].text, legend_style, CanvasRole::Legend);
    }
  }
  return layout;
}

} // namespace distillery
