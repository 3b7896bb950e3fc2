#pragma once
// Asks where and how to export a chart of the compare view: which chart (or
// all of them), format (PNG, SVG, PDF, or the points as CSV/JSON), physical
// size in inches and, for PNG, the resolution.
#include "render/chart_export.h"

#include <QDialog>
#include <QStringList>

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace distillery::gui {

class ChartExportDialog : public QDialog {
  Q_OBJECT
public:
  // charts: the titles of the compare view's charts, in order.
  ChartExportDialog(const QStringList& charts, int current, QWidget* parent = nullptr);

  // -1: every chart, each to its own file (the path plus "_metric" before the extension).
  int chartIndex() const;
  QString path() const;
  QString format() const; // "png", "svg", "pdf", "csv", "json"
  distillery::render::ChartImageOptions options() const;

  void setPath(const QString& path);

private:
  void formatChanged();
  void browse();

  QComboBox* chart_;
  QComboBox* format_;
  QLineEdit* path_;
  QDoubleSpinBox* width_;
  QDoubleSpinBox* height_;
  QSpinBox* dpi_;
};

} // namespace distillery::gui
