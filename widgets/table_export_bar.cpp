#include "widgets/table_export_bar.h"

#include "core/export/table_export.h"
#include "widgets/file_dialogs.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>

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
  save->setToolTip(tr("Save the table as LaTeX (.tex), Markdown (.md), CSV (.csv) or HTML (.html)"));
  fitWidth_ = new QCheckBox(tr("Fit LaTeX to width"), this);
  fitWidth_->setObjectName(QStringLiteral("latexFitWidth"));
  fitWidth_->setToolTip(tr("Scale the LaTeX table to the text width: \\resizebox{\\linewidth}{!}{...}, "
                           "needs \\usepackage{graphicx}"));
  connect(markdown, &QPushButton::clicked, this, &TableExportBar::copyMarkdown);
  connect(latex, &QPushButton::clicked, this, &TableExportBar::copyLatex);
  connect(save, &QPushButton::clicked, this, &TableExportBar::saveAs);
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  row->addStretch(1);
  row->addWidget(fitWidth_);
  row->addWidget(markdown);
  row->addWidget(latex);
  row->addWidget(save);
}

void TableExportBar::copyMarkdown() {
  QApplication::clipboard()->setText(QString::fromStdString(distillery::tableToMarkdown(table_())));
}

void TableExportBar::copyLatex() {
  QApplication::clipboard()->setText(
      QString::fromStdString(distillery::tableToLatex(table_(), "tab:" + label_.toStdString(), latexFitWidth())));
}

QString TableExportBar::saveTo(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  std::string text;
  if (suffix == QStringLiteral("md")) text = distillery::tableToMarkdown(table_());
  else if (suffix == QStringLiteral("tex"))
    text = distillery::tableToLatex(table_(), "tab:" + label_.toStdString(), latexFitWidth());
  else if (suffix == QStringLiteral("csv")) text = distillery::tableToCsv(table_());
  else if (suffix == QStringLiteral("html") || suffix == QStringLiteral("htm")) text = distillery::tableToHtml(table_());
  else return tr("%1: unknown table format \"%2\"; use .tex, .md, .csv or .html").arg(path, suffix);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
    return tr("%1: cannot write (%2)").arg(path, file.errorString());
  file.write(QByteArray::fromStdString(text));
  return {};
}

void TableExportBar::saveAs() {
  QString chosenFilter;
  QString path = saveFileName(this, tr("Save table"), label_ + QStringLiteral(".tex"), fileFilters(), &chosenFilter);
  if (path.isEmpty()) return;
  // A name typed without extension takes the chosen format's ("(*.csv)" -> .csv).
  if (QFileInfo(path).suffix().isEmpty()) {
    const int star = chosenFilter.indexOf(QStringLiteral("*."));
    if (star >= 0) path += chosenFilter.mid(star + 1).section(QRegularExpression(QStringLiteral("[ )]")), 0, 0);
  }
  const QString error = saveTo(path);
  if (!error.isEmpty()) QMessageBox::warning(this, tr("Cannot save the table"), error);
}

QString TableExportBar::fileFilters() {
  return tr("LaTeX (*.tex);;Markdown (*.md);;CSV (*.csv);;HTML (*.html *.htm)");
}

void TableExportBar::setLatexFitWidth(bool fit) { fitWidth_->setChecked(fit); }

bool TableExportBar::latexFitWidth() const { return fitWidth_->isChecked(); }

} // namespace distillery::gui
