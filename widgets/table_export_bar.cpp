#include "widgets/table_export_bar.h"

#include "core/table_export.h"
#include "widgets/file_dialogs.h"

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QMessageBox>
#include <QPushButton>

namespace distillery::gui {

TableExportBar::TableExportBar(std::function<distillery::TableData()> table, const QString& label, QWidget* parent)
    : QWidget(parent), table_(std::move(table)), label_(label) {
  auto* markdown = new QPushButton(tr("Copy Markdown"), this);
  markdown->setObjectName(QStringLiteral("copyMarkdownButton"));
  markdown->setToolTip(tr("Copy the table as a GitHub Markdown table"));
  auto* latex = new QPushButton(tr("Copy LaTeX"), this);
  latex->setObjectName(QStringLiteral("copyLatexButton"));
  latex->setToolTip(tr("Copy the table as a LaTeX table with booktabs rules (\\usepackage{booktabs})"));
  auto* save = new QPushButton(tr("Save…"), this);
  save->setObjectName(QStringLiteral("saveTableButton"));
  save->setToolTip(tr("Save the table as Markdown (.md) or LaTeX (.tex)"));
  connect(markdown, &QPushButton::clicked, this, &TableExportBar::copyMarkdown);
  connect(latex, &QPushButton::clicked, this, &TableExportBar::copyLatex);
  connect(save, &QPushButton::clicked, this, &TableExportBar::saveAs);
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  row->addStretch(1);
  row->addWidget(markdown);
  row->addWidget(latex);
  row->addWidget(save);
}

void TableExportBar::copyMarkdown() {
  QApplication::clipboard()->setText(QString::fromStdString(distillery::tableToMarkdown(table_())));
}

void TableExportBar::copyLatex() {
  QApplication::clipboard()->setText(
      QString::fromStdString(distillery::tableToLatex(table_(), "tab:" + label_.toStdString())));
}

QString TableExportBar::saveTo(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  std::string text;
  if (suffix == QStringLiteral("md")) text = distillery::tableToMarkdown(table_());
  else if (suffix == QStringLiteral("tex")) text = distillery::tableToLatex(table_(), "tab:" + label_.toStdString());
  else return tr("%1: unknown table format \"%2\"; use .md or .tex").arg(path, suffix);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
    return tr("%1: cannot write (%2)").arg(path, file.errorString());
  file.write(QByteArray::fromStdString(text));
  return {};
}

void TableExportBar::saveAs() {
  const QString path = saveFileName(this, tr("Save table"), label_ + QStringLiteral(".tex"),
                                                    tr("LaTeX (*.tex);;Markdown (*.md)"));
  if (path.isEmpty()) return;
  const QString error = saveTo(path);
  if (!error.isEmpty()) QMessageBox::warning(this, tr("Cannot save the table"), error);
}

} // namespace distillery::gui
