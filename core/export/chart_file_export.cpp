#include "core/export/chart_file_export.h"

#include "core/base/file_output.h"
#include "core/export/point_export.h"
#include "core/export/svg_canvas.h"

#include <sstream>
#include <stdexcept>

namespace distillery {

bool coreWritesChartFormat(const std::string& ext) { return ext == "svg" || ext == "csv" || ext == "json"; }

void writeChartFile(const ChartSpec& spec, const std::string& path, double width_in, double height_in) {
  const std::string ext = fileExtension(path);
  if (ext == "svg") return writeTextFile(path, chartToSvg(spec, width_in, height_in));
  std::ostringstream out;
  if (ext == "csv") {
    writeChartCsv(spec, out);
    return writeTextFile(path, out.str());
  }
  if (ext == "json") {
    writeChartJson(spec, out);
    return writeTextFile(path, out.str());
  }
  if (ext == "png" || ext == "pdf")
    throw std::runtime_error(path + ": ." + ext + " charts need the Qt build (distillery_render); this build writes .svg, .csv and .json");
  throw std::runtime_error(path + ": unknown chart format \"" + ext + "\"; expected .png, .svg, .pdf, .csv or .json");
}

} // namespace distillery
