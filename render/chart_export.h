#pragma once
// Charts to files fit for a paper: PNG at a chosen DPI, SVG and PDF as
// vectors, each with title, legend, axis titles with units, divergence marks.
// Uses QtGui only (QPainter), no widgets, so distillery-cli can export
// offscreen. The same ChartSpec the compare view shows is what gets drawn.
#include "core/export/chart_spec.h"

#include <string>

namespace distillery::render {

struct ChartImageOptions {
  double width_in = 6.0;  // physical size; a paper column is ~3.3 in, a page ~6.5 in
  double height_in = 4.0;
  int dpi = 200;          // PNG only
};

// The format follows the extension: .png, .svg, .pdf (also .csv and .json:
// the chart's points at full resolution). Throws std::runtime_error naming
// the file when it cannot be written or the extension is unknown.
void exportChart(const ChartSpec& spec, const std::string& path, const ChartImageOptions& options = {});

} // namespace distillery::render
