#pragma once
// Picks a model: a zoo network (every name of zooModelNames(): mlp with hidden
// widths, cnn with conv channels and an fc width, mobilenetv2 with a width
// multiplier, and the fixed CIFAR benchmark networks) or a TorchScript file
// chosen in a file dialog. Below it, the model card: parameters and FLOPs
// per sample at once (or why the spec cannot be built), then size on disk,
// latency at batch 1 and 128 on the run's device and, when a teacher is set
// for comparison, compression and speed-up; those are measured on a worker
// thread (model_card_worker.h) so the form never waits. The layer summary
// unfolds under "Layers".
#include "core/models/model_card.h"
#include "core/config/run_config.h"

#include <QString>
#include <QWidget>

#include <optional>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QStackedWidget;
class QThread;
class QTimer;
class QToolButton;

namespace distillery::gui {

class ModelCardWorker;

class ModelPicker : public QWidget {
  Q_OBJECT
public:
  explicit ModelPicker(QWidget* parent = nullptr);
  ~ModelPicker() override; // abandons a measurement and joins the worker thread

  // The spec as typed; fields of the other zoo keep their last values.
  distillery::ModelSpec spec() const;
  void setSpec(const distillery::ModelSpec& spec);
  // Empty when the spec parses and describeModel accepts it.
  QString error() const { return error_; }

  // What the card describes the model on: the dataset's input and classes
  // (default 1x28x28, 10 classes) and the device latency is measured on.
  void setCardContext(const distillery::CardInput& input, const QString& device);
  // The teacher the card compares against; nullopt: none.
  void setComparison(const std::optional<distillery::ModelSpec>& teacher);
  // Off: no latency measurement (size and comparison of parameters/FLOPs only).
  void setLatencyEnabled(bool enabled);
  // The card's figures as text (formatModelCard), empty until measured.
  QString cardText() const { return cardText_; }

Q_SIGNALS:
  void changed();
  // A card measurement (or its failure) arrived.
  void cardUpdated();

private:
  void showPageFor(const QString& zoo);
  void updateInfo();
  void requestCard();
  void showCard(quint64 ticket, const QString& cardJson, const QString& cardText, const QString& error);

  QComboBox* zoo_;
  QStackedWidget* pages_;
  QLineEdit* hidden_;
  QLineEdit* channels_;
  QSpinBox* fc_;
  QDoubleSpinBox* width_;
  QLineEdit* scriptPath_;
  QLabel* info_;
  QLabel* card_;
  QToolButton* layersButton_;
  QLabel* layers_;
  QString error_;
  distillery::ModelSpec last_; // keeps the fields the text boxes cannot parse

  distillery::CardInput cardInput_;
  QString cardDevice_ = QStringLiteral("cpu");
  std::optional<distillery::ModelSpec> comparison_;
  bool latency_ = true;
  QString cardText_;
  QTimer* cardTimer_;
  QThread* cardThread_;
  ModelCardWorker* cardWorker_;
  quint64 cardTicket_ = 0;
};

// "256, 128" -> {256, 128}. Sets `error` and returns {} for anything else.
std::vector<int> parseIntList(const QString& text, QString* error);
QString formatIntList(const std::vector<int>& values);
// 101770 -> "101.8k", 2.3e6 -> "2.30M".
QString humanCount(double value);

} // namespace distillery::gui
