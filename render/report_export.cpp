#include "render/report_export.h"

#include "core/export/chart_painter.h"
#include "core/export/defense_chart.h"
#include "core/export/forensics_section.h"
#include "core/base/file_output.h"
#include "core/export/report_content.h"
#include "core/export/table_export.h"
#include "core/export/text_report.h"
#include "core/base/version.h"
#include "render/chart_export.h"
#include "render/offscreen_gui.h"
#include "render/qpainter_canvas.h"

#include <QAbstractTextDocumentLayout>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QTextDocument>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace distillery::render {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString html(const std::string& s) { return q(escapeHtml(s)); }

std::string hexColour(uint32_t rgb) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", rgb & 0xffffffu);
  return buf;
}

uint32_t runColour(const ReportContent& report, int64_t run_id) {
  for (const ChartSpec& c : report.charts)
    for (const ChartCurve& curve : c.curves)
      if (curve.run_id == run_id) return curve.rgb;
  return 0x444444;
}

// Table cell text with line-break chances (a zero-width space) after / , = _
// and after a dot before a letter, so a long run name such as
// "tiny-kd/method.temperature=1.0,seed=0" wraps between its parts: narrow
// columns broke QTextDocument's layout mid-word ("temperat|ure"). Numbers
// ("1.0") keep their dots unbroken.
QString breakable(const std::string& text) {
  const QString escaped = html(text);
  QString out;
  out.reserve(escaped.size() + escaped.size() / 4);
  for (qsizetype i = 0; i < escaped.size(); ++i) {
    const QChar c = escaped.at(i);
    out += c;
    const bool beforeLetter = i + 1 < escaped.size() && escaped.at(i + 1).isLetter();
    if (i + 1 < escaped.size() && (c == u'/' || c == u',' || c == u'=' || c == u'_' || (c == u'.' && beforeLetter)))
      out += QChar(0x200B);
  }
  return out;
}

// Tables for QTextDocument, which knows a subset of HTML 4 and CSS.
QString qtTable(const TableData& t) {
  QString out = "<p style=\"margin-top:10px\"><b>" + html(t.caption) + "</b></p>"
                "<table border=\"0.5\" cellspacing=\"0\" cellpadding=\"3\" width=\"100%\" "
                "style=\"border-collapse:collapse;border-color:#999999;font-size:8pt\"><thead><tr>";
  auto align = [&](size_t c) { return c < t.numeric.size() && t.numeric[c] ? QString(" align=\"right\"") : QString(); };
  for (size_t c = 0; c < t.headers.size(); ++c)
    out += "<th bgcolor=\"#eeeeee\"" + align(c) + ">" + breakable(t.headers[c]) + "</th>";
  out += "</tr></thead>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t c = 0; c < t.headers.size(); ++c)
      out += "<td" + align(c) + ">" + (c < row.size() ? breakable(row[c]) : QString()) + "</td>";
    out += "</tr>";
  }
  return out + "</table>";
}

// A multi-page PDF: text sections flow through QTextDocument's pagination,
// charts are painted as vectors with the same painter code as chart exports.
class PdfReport {
public:
  PdfReport(QPdfWriter& writer, const ReportContent& report) : writer_(writer), report_(report) {
    writer_.setCreator(q("Distillery " + appVersion()));
    writer_.setTitle(q(report.title));
    writer_.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(18, 16, 18, 18),
                                      QPageLayout::Millimeter));
    painter_.begin(&writer_);
    const QRect r = writer_.pageLayout().paintRectPixels(writer_.resolution());
    page_w_ = r.width();
    page_h_ = r.height() - footerHeight();
  }

  bool active() const { return painter_.isActive(); }

  void write() {
    textSection(titleSection());
    chartPages(report_.charts, 0, {});
    if (report_.hasDefenses()) {
      chartPages(report_.defense_charts, report_.charts.size(),
                 "<h2>Defenses</h2><p>" + html(defenseSectionIntro()) + "</p>");
      textSection(qtTable(report_.defense_table));
    }
    if (report_.hasForensics())
      textSection("<h2>Forensics</h2><p>" + html(forensicsSectionIntro()) + "</p>" + qtTable(report_.forensics_table) +
                  qtTable(report_.forensics_sources));
    textSection(summarySection());
    textSection(configSection());
    painter_.end();
  }

private:
  double pt() const { return writer_.resolution() / 72.0; } // device units per point
  double footerHeight() const { return 18 * pt(); }

  void startPage() {
    if (pages_ > 0) writer_.newPage();
    ++pages_;
    painter_.save();
    painter_.setFont(documentFont(7.5));
    painter_.setPen(QColor(0x77, 0x77, 0x77));
    const QRectF footer(0, page_h_ + 4 * pt(), page_w_, footerHeight() - 4 * pt());
    painter_.drawText(footer, Qt::AlignLeft | Qt::AlignBottom, q(report_.title));
    painter_.drawText(footer, Qt::AlignRight | Qt::AlignBottom, QString("page %1").arg(pages_));
    painter_.restore();
  }

  void textSection(const QString& body) {
    QTextDocument doc;
    doc.documentLayout()->setPaintDevice(&writer_);
    doc.setDefaultFont(documentFont(9));
    doc.setDefaultStyleSheet("h1{font-size:18pt} h2{font-size:13pt;margin-top:14px} h3{font-size:10.5pt;margin-top:10px}"
                             " th{font-weight:bold;text-align:left} pre{font-size:7.5pt}");
    doc.setDocumentMargin(0);
    doc.setHtml(body);
    doc.setPageSize(QSizeF(page_w_, page_h_));
    for (int i = 0; i < doc.pageCount(); ++i) {
      startPage();
      painter_.save();
      painter_.translate(0, -i * page_h_);
      const QRectF clip(0, i * page_h_, page_w_, page_h_);
      painter_.setClipRect(clip);
      QAbstractTextDocumentLayout::PaintContext context;
      context.clip = clip;
      context.palette.setColor(QPalette::Text, Qt::black);
      doc.documentLayout()->draw(&painter_, context);
      painter_.restore();
    }
  }

  QString titleSection() const {
    QString h = "<h1>" + html(report_.title) + "</h1><p style=\"color:#555555\">Generated " +
                html(report_.generated_at) + " by " + html(report_.generator) + "; " +
                QString::number(report_.runs.size()) + (report_.runs.size() == 1 ? " run" : " runs") + ".</p>";
    h += "<h2>Runs and provenance</h2>";
    for (const ReportRun& r : report_.runs) {
      h += "<h3><span style=\"background-color:" + q(hexColour(runColour(report_, r.record.id))) +
           "\">&nbsp;&nbsp;&nbsp;</span>&nbsp;" + html(r.label) + "</h3>";
      h += "<table cellspacing=\"0\" cellpadding=\"2\" width=\"100%\">";
      for (const ProvenanceItem& item : r.provenance) {
        QString value = html(item.value);
        value.replace("\n", "<br>");
        h += "<tr><td width=\"24%\" style=\"color:#555555\">" + html(item.label) + "</td><td>" + value + "</td></tr>";
      }
      h += "</table>";
    }
    return h;
  }

  QString summarySection() const {
    QString h = "<h2>Summary</h2>" + qtTable(report_.accuracy_table) + qtTable(report_.cost_table);
    if (!report_.cost_notes.empty()) {
      h += "<p>Costs counted on the cost chart:</p><ul>";
      for (const std::string& note : report_.cost_notes) h += "<li>" + html(note) + "</li>";
      h += "</ul>";
    }
    h += "<h2>Configuration differences</h2>";
    if (report_.runs.size() < 2) h += "<p>One run only: its whole configuration follows.</p>";
    else if (report_.diff_table.rows.empty()) h += "<p>The runs' configurations are identical.</p>";
    else h += qtTable(report_.diff_table);
    return h;
  }

  QString configSection() const {
    QString h = "<h2>Run configurations</h2>";
    for (const ReportRun& r : report_.runs)
      h += "<h3>" + html(r.label) + "</h3><pre style=\"white-space:pre-wrap\">" + html(r.config_pretty) + "</pre>";
    return h;
  }

  // A heading and paragraph at the top of the page, as the text sections draw them; returns its height.
  double pageHeading(const QString& body) {
    QTextDocument doc;
    doc.documentLayout()->setPaintDevice(&writer_);
    doc.setDefaultFont(documentFont(9));
    doc.setDefaultStyleSheet("h2{font-size:13pt;margin-top:0px}");
    doc.setDocumentMargin(0);
    doc.setHtml(body);
    doc.setTextWidth(page_w_);
    QAbstractTextDocumentLayout::PaintContext context;
    context.palette.setColor(QPalette::Text, Qt::black);
    doc.documentLayout()->draw(&painter_, context);
    return doc.size().height() + 6 * pt();
  }

  // Two charts a page, each with its caption, drawn as vectors; numbered on
  // from first_figure; heading (HTML) tops the first page.
  void chartPages(const std::vector<ChartSpec>& charts, size_t first_figure, const QString& heading) {
    if (charts.empty()) return;
    const double caption_h = 34 * pt(); // three lines of 8.5 pt
    double heading_h = 0;
    const double chart_w_pt = page_w_ / pt();
    for (size_t i = 0; i < charts.size(); ++i) {
      const ChartSpec& spec = charts[i];
      if (i % 2 == 0) {
        startPage();
        heading_h = i == 0 && !heading.isEmpty() ? pageHeading(heading) : 0;
      }
      const double slot_h = (page_h_ - heading_h) / 2;
      const double chart_h_pt = std::min(4.2 * 72, (slot_h - caption_h) / pt());
      const double top = heading_h + (i % 2) * slot_h;
      painter_.save();
      painter_.translate(0, top);
      painter_.scale(pt(), pt());
      QPainterCanvas canvas(painter_);
      ChartPaintOptions po;
      po.width_pt = chart_w_pt;
      po.height_pt = chart_h_pt;
      po.resolution_dpi = 150;
      paintChart(spec, canvas, po);
      painter_.restore();

      std::string caption = "Figure " + std::to_string(first_figure + i + 1) + ": " +
                            (spec.caption.empty() ? spec.title + " against " + spec.xTitle() : spec.caption);
      if (spec.smoothing > 0) caption += " (EMA smoothing, raw values drawn faintly)";
      painter_.save();
      painter_.setFont(documentFont(8.5));
      painter_.setPen(QColor(0x44, 0x44, 0x44));
      painter_.drawText(QRectF(0, top + chart_h_pt * pt() + 4 * pt(), page_w_, caption_h),
                        Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
                        q(caption.back() == '.' ? caption : caption + "."));
      painter_.restore();
    }
  }

  QPdfWriter& writer_;
  const ReportContent& report_;
  QPainter painter_;
  double page_w_ = 0, page_h_ = 0;
  int pages_ = 0;
};

void writePdfReport(const ReportContent& report, const std::string& path) {
  requireGuiApplication("PDF report");
  QSaveFile file(q(path));
  if (!file.open(QIODevice::WriteOnly)) throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
  {
    QPdfWriter writer(&file);
    PdfReport pdf(writer, report);
    if (!pdf.active()) throw std::runtime_error("cannot write " + path + ": the PDF writer did not start");
    pdf.write();
  }
  if (!file.commit()) throw std::runtime_error("cannot write " + path + ": " + file.errorString().toStdString());
}

// LaTeX includes PDF charts; pdflatex reads them as vectors.
ChartFileWriter pdfChartWriter() {
  return {"pdf", [](const ChartSpec& spec, const std::string& path) {
            ChartImageOptions o;
            o.width_in = 6.5;
            o.height_in = 3.6;
            exportChart(spec, path, o);
          }};
}

} // namespace

void exportReport(RunStore& store, const ReportRequest& request, const std::string& path) {
  const std::string ext = fileExtension(path);
  if (ext != "html" && ext != "htm" && ext != "pdf" && ext != "md" && ext != "tex")
    throw std::runtime_error(path + ": unknown report format \"" + ext + "\"; expected .html, .pdf, .md or .tex");
  ReportOptions options;
  options.run_ids = request.run_ids;
  options.metrics = request.metrics;
  options.x_axis = request.x_axis;
  options.smoothing = request.smoothing;
  options.cost = request.cost;
  options.title = request.title;
  const ReportContent report = buildReportContent(store, options);
  if (ext == "pdf") return writePdfReport(report, path);
  if (ext == "tex") {
    requireGuiApplication("LaTeX report (PDF charts)");
    return writeLatexReport(report, path, pdfChartWriter());
  }
  writeTextReport(report, path); // html (charts inline as SVG), md (SVG chart files)
}

} // namespace distillery::render
