#include "widgets/chart_export_dialog.h"
#include "widgets/file_dialogs.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::gui {

ChartExportDialog::ChartExportDialog(const QStringList& charts, int current, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Export chart"));
  chart_ = new QComboBox(this);
  chart_->setObjectName(QStringLiteral("chartCombo"));
  for (int i = 0; i < charts.size(); ++i) chart_->addItem(charts[i], i);
  if (charts.size() > 1) chart_->addItem(tr("All charts (one file each)"), -1);
  chart_->setCurrentIndex(std::max(0, chart_->findData(current)));

  format_ = new QComboBox(this);
  format_->setObjectName(QStringLiteral("formatCombo"));
  format_->addItem(tr("PNG image"), QStringLiteral("png"));
  format_->addItem(tr("SVG (vector)"), QStringLiteral("svg"));
  format_->addItem(tr("PDF (vector)"), QStringLiteral("pdf"));
  format_->addItem(tr("CSV (every point)"), QStringLiteral("csv"));
  format_->addItem(tr("JSON (every point)"), QStringLiteral("json"));
  format_->setCurrentIndex(2);

  path_ = new QLineEdit(this);
  path_->setObjectName(QStringLiteral("pathEdit"));
  path_->setText(QDir::home().filePath(QStringLiteral("chart.pdf")));
  auto* browse = new QPushButton(tr("Browse…"), this);
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browse);

  const distillery::render::ChartImageOptions defaults;
  width_ = new QDoubleSpinBox(this);
  width_->setObjectName(QStringLiteral("widthSpin"));
  width_->setRange(1.0, 40.0);
  width_->setDecimals(2);
  width_->setSuffix(tr(" in"));
  width_->setValue(defaults.width_in);
  width_->setToolTip(tr("One column of a two-column paper is about 3.3 in; a full text width about 6.5 in"));
  height_ = new QDoubleSpinBox(this);
  height_->setObjectName(QStringLiteral("heightSpin"));
  height_->setRange(1.0, 40.0);
  height_->setDecimals(2);
  height_->setSuffix(tr(" in"));
  height_->setValue(defaults.height_in);
  dpi_ = new QSpinBox(this);
  dpi_->setObjectName(QStringLiteral("dpiSpin"));
  dpi_->setRange(50, 1200);
  dpi_->setSingleStep(50);
  dpi_->setValue(defaults.dpi);
  dpi_->setSuffix(tr(" dpi"));

  auto* form = new QFormLayout;
  form->addRow(tr("Chart:"), chart_);
  form->addRow(tr("Format:"), format_);
  form->addRow(tr("File:"), pathRow);
  form->addRow(tr("Width:"), width_);
  form->addRow(tr("Height:"), height_);
  form->addRow(tr("Resolution:"), dpi_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);

  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, &ChartExportDialog::browse);
  connect(format_, &QComboBox::currentIndexChanged, this, &ChartExportDialog::formatChanged);
  formatChanged();
}

int ChartExportDialog::chartIndex() const { return chart_->currentData().toInt(); }
QString ChartExportDialog::path() const { return path_->text().trimmed(); }
QString ChartExportDialog::format() const { return format_->currentData().toString(); }

distillery::render::ChartImageOptions ChartExportDialog::options() const {
  distillery::render::ChartImageOptions o;
  o.width_in = width_->value();
  o.height_in = height_->value();
  o.dpi = dpi_->value();
  return o;
}

void ChartExportDialog::setPath(const QString& path) {
  path_->setText(path);
  const int at = format_->findData(QFileInfo(path).suffix().toLower());
  if (at >= 0) format_->setCurrentIndex(at);
}

void ChartExportDialog::formatChanged() {
  const QString ext = format();
  const bool image = ext == QStringLiteral("png") || ext == QStringLiteral("svg") || ext == QStringLiteral("pdf");
  dpi_->setEnabled(ext == QStringLiteral("png"));
  width_->setEnabled(image);
  height_->setEnabled(image);
  // Keep the file name, change its extension.
  QFileInfo info(path());
  if (!path().isEmpty() && info.suffix().toLower() != ext)
    path_->setText(info.dir().filePath(info.completeBaseName() + u'.' + ext));
}

void ChartExportDialog::browse() {
  const QString chosen = saveFileName(this, tr("Export chart to"), path(),
                                                      tr("Chart files (*.png *.svg *.pdf *.csv *.json)"));
  if (!chosen.isEmpty()) setPath(chosen);
}

} // namespace distillery::gui
