#include "core/export/text_report.h"

#include "core/export/chart_file_export.h"
#include "core/export/forensics_section.h"
#include "core/base/file_output.h"
#include "core/analysis/metric_catalog.h"
#include "core/export/svg_canvas.h"
#include "core/export/table_export.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace distillery {

namespace fs = std::filesystem;

ChartFileWriter svgChartWriter(double width_in, double height_in) {
  return {"svg", [=](const ChartSpec& spec, const std::string& path) { writeChartFile(spec, path, width_in, height_in); }};
}

namespace {

std::string hexColour(uint32_t rgb) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06X", rgb & 0xffffffu);
  return buf;
}

uint32_t runColour(const ReportContent& report, int64_t run_id) {
  for (const ChartSpec& c : report.charts)
    for (const ChartCurve& curve : c.curves)
      if (curve.run_id == run_id) return curve.rgb;
  return 0x444444;
}

std::string figureCaption(const ChartSpec& spec) {
  if (!spec.caption.empty()) return spec.caption;
  std::string caption = spec.title + " against " + spec.xTitle();
  if (spec.smoothing > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "; EMA smoothing %.2f, raw values drawn faintly", spec.smoothing);
    caption += buf;
  }
  return caption + ".";
}

// A file name from a metric: letters, digits, - and _ only.
std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out.empty() ? "chart" : out;
}

struct ChartFile {
  std::string relative; // as written in the document
};

// Every figure in the order they are numbered: the charts, then the defense charts.
std::vector<const ChartSpec*> figures(const ReportContent& report) {
  std::vector<const ChartSpec*> out;
  for (const ChartSpec& c : report.charts) out.push_back(&c);
  for (const ChartSpec& c : report.defense_charts) out.push_back(&c);
  return out;
}

// Writes each figure to REPORT_charts/N-metric.ext beside the report.
std::vector<ChartFile> writeChartFiles(const ReportContent& report, const std::string& path,
                                       const ChartFileWriter& writer) {
  std::vector<ChartFile> files;
  const std::vector<const ChartSpec*> specs = figures(report);
  if (specs.empty()) return files;
  const fs::path report_path(path);
  const std::string dir_name = report_path.stem().string() + "_charts";
  const fs::path dir = report_path.parent_path() / dir_name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string name = std::to_string(i + 1) + "-" + safeName(specs[i]->metric) + "." + writer.extension;
    writer.write(*specs[i], (dir / name).string());
    files.push_back({dir_name + "/" + name});
  }
  return files;
}

// A path inside a Markdown link: spaces and odd characters percent-encoded.
std::string urlPath(const std::string& s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '.' || c == '-' || c == '_') out += c;
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

// LaTeX text that may break inside long paths and hashes.
std::string latexBreakable(const std::string& text) {
  std::string out;
  int run = 0;
  for (char c : text) {
    const std::string escaped = escapeLatex(std::string(1, c));
    out += escaped;
    run = c == ' ' ? 0 : run + 1;
    if (c == '/' || c == '_' || c == '.' || c == '-' || run >= 16) {
      out += "\\allowbreak{}";
      run = 0;
    }
  }
  return out;
}

} // namespace

std::string reportToHtml(const ReportContent& report) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"generator\" content=\"" << escapeHtml(report.generator) << "\">\n"
    << "<title>" << escapeHtml(report.title) << "</title>\n<style>\n"
    << "body{font-family:\"DejaVu Sans\",Helvetica,Arial,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
       "color:#222;line-height:1.45}\n"
       "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;"
       "padding-bottom:.2rem;margin-top:2.2rem}h3{font-size:1.05rem;margin:1.4rem 0 .3rem}\n"
       ".meta{color:#666;font-size:.9rem}\n"
       "table{border-collapse:collapse;margin:.4rem 0 1.2rem;font-size:.85rem}\n"
       "caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:.3rem}\n"
       "th,td{padding:.22rem .6rem;border-bottom:1px solid #e6e6e6;text-align:left;vertical-align:top}\n"
       "thead th{border-bottom:1.5px solid #444;border-top:1.5px solid #444}\n"
       "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
       "table.kv th{font-weight:normal;color:#555;white-space:nowrap;border-top:0}\n"
       "table.kv td{word-break:break-word}\n"
       ".swatch{display:inline-block;width:.85em;height:.85em;border-radius:2px;margin-right:.45em;"
       "vertical-align:-.08em}\n"
       "figure{margin:1rem 0 1.6rem}figure svg{width:100%;height:auto;max-width:56rem}\n"
       "figcaption{font-size:.85rem;color:#555}\n"
       "pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.8rem}\n"
       ".notes{white-space:pre-wrap}\n"
       "@media print{h2,h3{page-break-after:avoid}figure,table{page-break-inside:avoid}}\n"
    << "</style>\n</head>\n<body>\n";
  h << "<h1>" << escapeHtml(report.title) << "</h1>\n<p class=\"meta\">Generated " << escapeHtml(report.generated_at)
    << " by " << escapeHtml(report.generator) << "; " << report.runs.size() << (report.runs.size() == 1 ? " run" : " runs")
    << ".</p>\n";

  h << "<h2>Runs and provenance</h2>\n";
  for (const ReportRun& r : report.runs) {
    h << "<h3><span class=\"swatch\" style=\"background:#" << hexColour(runColour(report, r.record.id))
      << "\"></span>" << escapeHtml(r.label) << "</h3>\n<table class=\"kv\">\n";
    for (const ProvenanceItem& item : r.provenance) {
      const bool notes = item.label == "Notes";
      h << "<tr><th>" << escapeHtml(item.label) << "</th><td" << (notes ? " class=\"notes\"" : "") << ">"
        << escapeHtml(item.value) << "</td></tr>\n";
    }
    h << "</table>\n";
  }

  if (!report.charts.empty()) {
    h << "<h2>Charts</h2>\n";
    for (size_t i = 0; i < report.charts.size(); ++i) {
      const ChartSpec& c = report.charts[i];
      h << "<figure>\n" << chartToSvg(c, 6.5, 3.6, false, "fig" + std::to_string(i + 1))
        << "<figcaption>Figure " << i + 1 << ": " << escapeHtml(figureCaption(c)) << "</figcaption>\n</figure>\n";
    }
  }

  if (report.hasDefenses()) {
    h << "<h2>Defenses</h2>\n<p>" << escapeHtml(defenseSectionIntro()) << "</p>\n";
    for (size_t i = 0; i < report.defense_charts.size(); ++i) {
      const ChartSpec& c = report.defense_charts[i];
      const size_t n = report.charts.size() + i + 1;
      h << "<figure>\n" << chartToSvg(c, 6.5, 3.6, false, "fig" + std::to_string(n)) << "<figcaption>Figure " << n
        << ": " << escapeHtml(figureCaption(c)) << "</figcaption>\n</figure>\n";
    }
    h << tableToHtml(report.defense_table);
  }
  if (report.hasForensics())
    h << "<h2>Forensics</h2>\n<p>" << escapeHtml(forensicsSectionIntro()) << "</p>\n"
      << tableToHtml(report.forensics_table) << tableToHtml(report.forensics_sources);

  h << "<h2>Summary</h2>\n" << tableToHtml(report.accuracy_table) << tableToHtml(report.cost_table);
  if (!report.cost_notes.empty()) {
    h << "<p>Costs counted on the cost chart:</p>\n<ul>\n";
    for (const std::string& note : report.cost_notes) h << "<li>" << escapeHtml(note) << "</li>\n";
    h << "</ul>\n";
  }
  h << "<h2>Configuration differences</h2>\n";
  if (report.runs.size() < 2) h << "<p>One run only: its whole configuration follows.</p>\n";
  else if (report.diff_table.rows.empty()) h << "<p>The runs' configurations are identical.</p>\n";
  else h << tableToHtml(report.diff_table);

  h << "<h2>Run configurations</h2>\n";
  for (const ReportRun& r : report.runs)
    h << "<details open>\n<summary>" << escapeHtml(r.label) << "</summary>\n<pre>" << escapeHtml(r.config_pretty)
      << "</pre>\n</details>\n";
  h << "</body>\n</html>\n";
  return h.str();
}

void writeMarkdownReport(const ReportContent& report, const std::string& path, const ChartFileWriter& writer) {
  const std::vector<ChartFile> files = writeChartFiles(report, path, writer);
  std::ostringstream m;
  m << "# " << escapeMarkdownText(report.title) << "\n\n"
    << "Generated " << escapeMarkdownText(report.generated_at) << " by " << escapeMarkdownText(report.generator) << ".\n\n";

  m << "## Runs and provenance\n\n";
  for (const ReportRun& r : report.runs) {
    m << "### " << escapeMarkdownCell(r.label) << "\n\n| Field | Value |\n| :--- | :--- |\n";
    for (const ProvenanceItem& item : r.provenance)
      m << "| " << escapeMarkdownCell(item.label) << " | " << escapeMarkdownCell(item.value) << " |\n";
    m << "\n";
  }

  if (!report.charts.empty()) {
    m << "## Charts\n\n";
    for (size_t i = 0; i < report.charts.size(); ++i)
      m << "![" << escapeMarkdownCell(report.charts[i].title) << "](" << urlPath(files[i].relative) << ")\n\n"
        << "*Figure " << i + 1 << ": " << escapeMarkdownCell(figureCaption(report.charts[i])) << "*\n\n";
  }
  if (report.hasDefenses()) {
    m << "## Defenses\n\n" << escapeMarkdownText(defenseSectionIntro()) << "\n\n";
    for (size_t i = 0; i < report.defense_charts.size(); ++i) {
      const size_t n = report.charts.size() + i;
      m << "![" << escapeMarkdownCell(report.defense_charts[i].title) << "](" << urlPath(files[n].relative) << ")\n\n"
        << "*Figure " << n + 1 << ": " << escapeMarkdownCell(figureCaption(report.defense_charts[i])) << "*\n\n";
    }
    m << tableToMarkdown(report.defense_table) << "\n";
  }
  if (report.hasForensics())
    m << "## Forensics\n\n" << escapeMarkdownText(forensicsSectionIntro()) << "\n\n"
      << tableToMarkdown(report.forensics_table) << "\n" << tableToMarkdown(report.forensics_sources) << "\n";

  m << "## Summary\n\n" << tableToMarkdown(report.accuracy_table) << "\n" << tableToMarkdown(report.cost_table) << "\n";
  if (!report.cost_notes.empty()) {
    m << "Costs counted on the cost chart:\n\n";
    for (const std::string& note : report.cost_notes) m << "- " << escapeMarkdownText(note) << "\n";
    m << "\n";
  }
  m << "## Configuration differences\n\n";
  if (report.runs.size() < 2) m << "One run only: its whole configuration follows.\n\n";
  else if (report.diff_table.rows.empty()) m << "The runs' configurations are identical.\n\n";
  else m << tableToMarkdown(report.diff_table) << "\n";

  m << "## Run configurations\n\n";
  for (const ReportRun& r : report.runs) {
    m << "### " << escapeMarkdownCell(r.label) << "\n\n| Key | Value |\n| :--- | :--- |\n";
    for (const auto& [key, value] : r.config_flat)
      m << "| " << escapeMarkdownCell(key) << " | " << escapeMarkdownCell(value) << " |\n";
    m << "\n";
  }
  writeTextFile(path, m.str());
}

void writeLatexReport(const ReportContent& report, const std::string& path, const ChartFileWriter& writer) {
  const std::vector<ChartFile> files = writeChartFiles(report, path, writer);
  const bool svg = writer.extension == "svg";
  std::ostringstream t;
  t << "% Generated " << report.generated_at << " by " << report.generator << ".\n"
    << "% Compile with pdflatex" << (svg ? " -shell-escape (the svg package calls Inkscape)" : "")
    << "; the tables need booktabs.\n"
    << "\\documentclass[10pt]{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
    << "\\usepackage{lmodern}\n\\usepackage[a4paper,margin=2cm]{geometry}\n\\usepackage{booktabs}\n"
    << "\\usepackage{longtable}\n\\usepackage{graphicx}\n\\usepackage{xcolor}\n"
    << (svg ? "\\usepackage{svg}\n" : "") << "\\title{" << escapeLatex(report.title) << "}\n"
    << "\\author{}\n\\date{Generated " << escapeLatex(report.generated_at) << " by " << escapeLatex(report.generator)
    << "}\n\\begin{document}\n\\maketitle\n\n";

  t << "\\section{Runs and provenance}\n";
  for (const ReportRun& r : report.runs) {
    t << "\\subsection*{\\textcolor[HTML]{" << hexColour(runColour(report, r.record.id)) << "}{\\rule{0.8em}{0.8em}}~"
      << escapeLatex(r.label) << "}\n"
      << "\\begin{longtable}{@{}p{0.24\\linewidth}p{0.72\\linewidth}@{}}\n\\toprule\n";
    for (const ProvenanceItem& item : r.provenance)
      t << escapeLatex(item.label) << " & " << latexBreakable(item.value) << " \\\\\n";
    t << "\\bottomrule\n\\end{longtable}\n\n";
  }

  if (!report.charts.empty()) {
    t << "\\section{Charts}\n";
    for (size_t i = 0; i < report.charts.size(); ++i) {
      std::string file = files[i].relative;
      t << "\\begin{figure}[htbp]\n  \\centering\n";
      if (svg) t << "  \\includesvg[width=\\linewidth]{" << file.substr(0, file.size() - 4) << "}\n";
      else t << "  \\includegraphics[width=\\linewidth]{" << file << "}\n";
      t << "  \\caption{" << escapeLatex(figureCaption(report.charts[i])) << "}\n  \\label{fig:"
        << safeName(report.charts[i].metric) << "}\n\\end{figure}\n\n";
    }
  }

  if (report.hasDefenses()) {
    t << "\\section{Defenses}\n" << escapeLatex(defenseSectionIntro()) << "\n\n";
    for (size_t i = 0; i < report.defense_charts.size(); ++i) {
      const std::string file = files[report.charts.size() + i].relative;
      t << "\\begin{figure}[htbp]\n  \\centering\n";
      if (svg) t << "  \\includesvg[width=\\linewidth]{" << file.substr(0, file.size() - 4) << "}\n";
      else t << "  \\includegraphics[width=\\linewidth]{" << file << "}\n";
      t << "  \\caption{" << escapeLatex(figureCaption(report.defense_charts[i])) << "}\n  \\label{fig:"
        << safeName(report.defense_charts[i].metric) << "}\n\\end{figure}\n\n";
    }
    t << tableToLatex(report.defense_table, "tab:defenses") << "\n";
  }
  if (report.hasForensics())
    t << "\\section{Forensics}\n" << escapeLatex(forensicsSectionIntro()) << "\n\n"
      << tableToLatex(report.forensics_table, "tab:forensics") << "\n"
      << tableToLatex(report.forensics_sources, "tab:forensics-sources") << "\n";

  t << "\\section{Summary}\n" << tableToLatex(report.accuracy_table, "tab:accuracy") << "\n"
    << tableToLatex(report.cost_table, "tab:cost") << "\n";
  if (!report.cost_notes.empty()) {
    t << "Costs counted on the cost chart:\n\\begin{itemize}\n";
    for (const std::string& note : report.cost_notes) t << "  \\item " << escapeLatex(note) << "\n";
    t << "\\end{itemize}\n\n";
  }
  t << "\\section{Configuration differences}\n";
  if (report.runs.size() < 2) t << "One run only: its whole configuration follows.\n\n";
  else if (report.diff_table.rows.empty()) t << "The runs' configurations are identical.\n\n";
  else t << tableToLatex(report.diff_table, "tab:config-diff") << "\n";

  t << "\\section{Run configurations}\n";
  for (const ReportRun& r : report.runs) {
    t << "\\subsection*{" << escapeLatex(r.label) << "}\n{\\small\n"
      << "\\begin{longtable}{@{}p{0.4\\linewidth}p{0.56\\linewidth}@{}}\n\\toprule\nKey & Value \\\\\n\\midrule\n";
    for (const auto& [key, value] : r.config_flat)
      t << latexBreakable(key) << " & " << latexBreakable(value) << " \\\\\n";
    t << "\\bottomrule\n\\end{longtable}\n}\n\n";
  }
  t << "\\end{document}\n";
  writeTextFile(path, t.str());
}

void writeTextReport(const ReportContent& report, const std::string& path) {
  const std::string ext = fileExtension(path);
  if (ext == "html" || ext == "htm") return writeTextFile(path, reportToHtml(report));
  if (ext == "md") return writeMarkdownReport(report, path, svgChartWriter());
  if (ext == "tex") return writeLatexReport(report, path, svgChartWriter());
  if (ext == "pdf")
    throw std::runtime_error(path + ": PDF reports need the Qt build (distillery_render); this build writes .html, .md and .tex");
  throw std::runtime_error(path + ": unknown report format \"" + ext + "\"; expected .html, .pdf, .md or .tex");
}

} // namespace distillery
