#pragma once
// Picks a zoo model (every name of zooModelNames(): mlp with hidden widths, cnn
// with conv channels and an fc width, mobilenetv2 with a width multiplier, and
// the fixed CIFAR benchmark networks) and shows, live, its parameter count and
// forward FLOPs per sample for 28x28 grey images and 10 classes, or why the
// spec cannot be built.
#include "core/run_config.h"

#include <QString>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QStackedWidget;

namespace distillery::gui {

class ModelPicker : public QWidget {
  Q_OBJECT
public:
  explicit ModelPicker(QWidget* parent = nullptr);

  // The spec as typed; fields of the other zoo keep their last values.
  distillery::ModelSpec spec() const;
  void setSpec(const distillery::ModelSpec& spec);
  // Empty when the spec parses and describeModel accepts it.
  QString error() const { return error_; }

Q_SIGNALS:
  void changed();

private:
  void showPageFor(const QString& zoo);
  void updateInfo();

  QComboBox* zoo_;
  QStackedWidget* pages_;
  QLineEdit* hidden_;
  QLineEdit* channels_;
  QSpinBox* fc_;
  QDoubleSpinBox* width_;
  QLabel* info_;
  QString error_;
  distillery::ModelSpec last_; // keeps the fields the text boxes cannot parse
};

// "256, 128" -> {256, 128}. Sets `error` and returns {} for anything else.
std::vector<int> parseIntList(const QString& text, QString* error);
QString formatIntList(const std::vector<int>& values);
// 101770 -> "101.8k", 2.3e6 -> "2.30M".
QString humanCount(double value);

} // namespace distillery::gui
