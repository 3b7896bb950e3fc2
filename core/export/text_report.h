#pragma once
// Reports as text documents: HTML (self-contained: charts inline as SVG, CSS
// inline, nothing fetched), Markdown and LaTeX (tables inline, charts as
// sibling files REPORT_charts/<metric>.<ext>). All user text is escaped.
#include "core/export/report_content.h"

#include <functional>
#include <string>

namespace distillery {

// How the Markdown and LaTeX reports write their chart files.
struct ChartFileWriter {
  std::string extension; // "svg", "pdf", "png"
  std::function<void(const ChartSpec& spec, const std::string& path)> write;
};
// SVG charts of that size, written by the core (no Qt).
ChartFileWriter svgChartWriter(double width_in = 6.5, double height_in = 3.6);

std::string reportToHtml(const ReportContent& report);
// Writes the chart files first, then the document that refers to them.
void writeMarkdownReport(const ReportContent& report, const std::string& path, const ChartFileWriter& charts);
// A complete article (booktabs, graphicx, longtable); SVG charts use the svg package.
void writeLatexReport(const ReportContent& report, const std::string& path, const ChartFileWriter& charts);

// .html, .md or .tex by extension, charts as SVG; throws std::runtime_error
// naming the file for .pdf (needs the Qt build) or an unknown extension.
void writeTextReport(const ReportContent& report, const std::string& path);

} // namespace distillery
