#include "render/chart_export.h"

#include "core/export/chart_file_export.h"
#include "core/export/chart_painter.h"
#include "core/base/file_output.h"
#include "core/base/version.h"
#include "render/offscreen_gui.h"
#include "render/qpainter_canvas.h"

#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>

#include <cmath>
#include <stdexcept>

namespace distillery::render {

namespace {

void checkOptions(const std::string& path, const ChartImageOptions& o) {
  if (!(o.width_in >= 1.0 && o.width_in <= 40.0) || !(o.height_in >= 1.0 && o.height_in <= 40.0))
    throw std::runtime_error(path + ": chart size must be 1 to 40 inches each way");
  if (o.dpi < 30 || o.dpi > 1200) throw std::runtime_error(path + ": DPI must be 30 to 1200");
}

void writePng(const ChartSpec& spec, const std::string& path, const ChartImageOptions& o) {
  const int w = int(std::lround(o.width_in * o.dpi)), h = int(std::lround(o.height_in * o.dpi));
  if (double(w) * double(h) > 150e6) throw std::runtime_error(path + ": image too large; lower the DPI or the size");
  QImage image(w, h, QImage::Format_RGB32);
  if (image.isNull()) throw std::runtime_error(path + ": not enough memory for a " + std::to_string(w) + "x" +
                                               std::to_string(h) + " image");
  // The DPI travels in the file (pHYs), so a paper's layout places it at its physical size.
  const int dots_per_meter = int(std::lround(o.dpi / 0.0254));
  image.setDotsPerMeterX(dots_per_meter);
  image.setDotsPerMeterY(dots_per_meter);
  image.fill(Qt::white);
  {
    QPainter painter(&image);
    painter.scale(o.dpi / 72.0, o.dpi / 72.0);
    QPainterCanvas canvas(painter);
    ChartPaintOptions po;
    po.width_pt = o.width_in * 72.0;
    po.height_pt = o.height_in * 72.0;
    po.resolution_dpi = o.dpi;
    paintChart(spec, canvas, po);
  }
  QSaveFile file(QString::fromStdString(path));
  if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit())
    throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
}

void writePdf(const ChartSpec& spec, const std::string& path, const ChartImageOptions& o) {
  QSaveFile file(QString::fromStdString(path));
  if (!file.open(QIODevice::WriteOnly))
    throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
  {
    QPdfWriter writer(&file);
    writer.setCreator(QString::fromStdString("Distillery " + appVersion()));
    writer.setTitle(QString::fromStdString(spec.title));
    writer.setPageLayout(QPageLayout(
        QPageSize(QSizeF(o.width_in, o.height_in), QPageSize::Inch, QString(), QPageSize::ExactMatch),
        QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
    QPainter painter(&writer);
    if (!painter.isActive()) throw std::runtime_error("cannot write " + path + ": the PDF writer did not start");
    const double scale = writer.resolution() / 72.0;
    painter.scale(scale, scale);
    QPainterCanvas canvas(painter);
    ChartPaintOptions po;
    po.width_pt = o.width_in * 72.0;
    po.height_pt = o.height_in * 72.0;
    po.resolution_dpi = 150; // vectors: min/max per 1/150 in keeps every spike and the file small
    paintChart(spec, canvas, po);
  }
  if (!file.commit()) throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
}

} // namespace

void exportChart(const ChartSpec& spec, const std::string& path, const ChartImageOptions& options) {
  const std::string ext = fileExtension(path);
  checkOptions(path, options);
  if (coreWritesChartFormat(ext)) return writeChartFile(spec, path, options.width_in, options.height_in);
  if (ext == "png") {
    requireGuiApplication("PNG export");
    return writePng(spec, path, options);
  }
  if (ext == "pdf") {
    requireGuiApplication("PDF export");
    return writePdf(spec, path, options);
  }
  throw std::runtime_error(path + ": unknown chart format \"" + ext + "\"; expected .png, .svg, .pdf, .csv or .json");
}

} // namespace distillery::render
