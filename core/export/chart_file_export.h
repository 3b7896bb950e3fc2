#pragma once
// A chart to a file in the formats the core writes itself: SVG (vectors) and
// the chart's points as CSV or JSON. PNG and PDF need QtGui: render/chart_export.h.
#include "core/export/chart_spec.h"

#include <string>

namespace distillery {

// "svg", "csv", "json" (lower case, no dot).
bool coreWritesChartFormat(const std::string& extension);

// By the path's extension. Throws std::runtime_error naming the file when it
// cannot be written, or naming the extension when the core cannot write it.
void writeChartFile(const ChartSpec& spec, const std::string& path, double width_in, double height_in);

} // namespace distillery
