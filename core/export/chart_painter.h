#pragma once
// Lays out and draws one chart (a ChartSpec) on any ChartCanvas: title, plot
// frame, grid, ticks, axis titles with units, legend with run colours,
// smoothed curves over faint raw ones, divergence marks. Every export format
// goes through here, so a PNG, an SVG and a PDF of a chart look the same.
#include "core/export/chart_canvas.h"
#include "core/export/chart_spec.h"

namespace distillery {

struct ChartPaintOptions {
  double width_pt = 432;  // 6 in
  double height_pt = 288; // 4 in
  // Curves are reduced to the min/max of each output column at this
  // resolution: a PNG's DPI, or about 150 for vectors (small files, no spike lost).
  double resolution_dpi = 150;
};

enum class LegendPlacement { None, TopRight, TopLeft, BottomRight, BottomLeft, OutsideRight, OutsideBottom };

// Where things went, for tests and for callers that add to the drawing.
struct ChartLayout {
  CanvasRect plot;
  CanvasRect legend;
  LegendPlacement legend_placement = LegendPlacement::None;
  ChartBounds bounds;
  int decimation_columns = 0;
  size_t drawn_points = 0; // curve points handed to the canvas, raw curves included
};

ChartLayout paintChart(const ChartSpec& spec, ChartCanvas& canvas, const ChartPaintOptions& options = {});

// Typical widths of DejaVu Sans / Helvetica glyphs, for canvases that cannot
// measure text (the SVG writer): close enough to keep labels apart.
double estimatedTextWidth(const std::string& utf8, double size_pt, bool bold);

} // namespace distillery
