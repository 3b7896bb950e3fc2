#pragma once
// Buttons under a table: copy it as Markdown or LaTeX (booktabs), or save it
// as .md / .tex. The table comes from a callback, so it is always what the
// view shows at that moment.
#include "core/table_data.h"

#include <QString>
#include <QWidget>

#include <functional>

namespace distillery::gui {

class TableExportBar : public QWidget {
  Q_OBJECT
public:
  // label: used in the LaTeX label ("tab:summary") and the default file name.
  TableExportBar(std::function<distillery::TableData()> table, const QString& label, QWidget* parent = nullptr);

  void copyMarkdown();
  void copyLatex();
  // By extension: .md or .tex. Returns an error message, empty on success.
  QString saveTo(const QString& path);
  void saveAs(); // asks for the file

private:
  std::function<distillery::TableData()> table_;
  QString label_;
};

} // namespace distillery::gui
