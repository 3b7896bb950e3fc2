#pragma once
// Buttons under a table: copy it as Markdown or LaTeX (booktabs), or save it
// as .md, .tex, .csv or .html (the formats of `distillery-cli table`). The
// table comes from a callback, so it is always what the view shows at that
// moment (its sort order included). "Fit LaTeX to width" wraps the tabular in
// \resizebox{\linewidth}{!}{...} for wide tables.
#include "core/export/table_data.h"

#include <QString>
#include <QWidget>

#include <functional>

class QCheckBox;

namespace distillery::gui {

class TableExportBar : public QWidget {
  Q_OBJECT
public:
  // label: used in the LaTeX label ("tab:summary") and the default file name.
  TableExportBar(std::function<distillery::TableData()> table, const QString& label, QWidget* parent = nullptr);

  void copyMarkdown();
  void copyLatex();
  // By extension: .md, .tex, .csv or .html. Returns an error message, empty on success.
  QString saveTo(const QString& path);
  void saveAs(); // asks for the file
  void setLatexFitWidth(bool fit);
  bool latexFitWidth() const;
  // The file dialog's filter list, one entry per format saveTo() writes.
  static QString fileFilters();

private:
  std::function<distillery::TableData()> table_;
  QString label_;
  QCheckBox* fitWidth_;
};

} // namespace distillery::gui
