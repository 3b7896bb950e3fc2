#pragma once
// Configures a sweep in the GUI: a base run config (e.g. the selected run's),
// one or more grid axes (a config key and its values), a name and how many
// runs execute at once. It builds the same sweep document a sweep file holds
// (core/config/sweep_spec.h) and checks it with the same code as `distillery-cli
// sweep`, showing how many runs it expands to or what is wrong.
#include <nlohmann/json.hpp>

#include <QDialog>
#include <QString>

#include <string>
#include <utility>
#include <vector>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace distillery::gui {

class SweepDialog : public QDialog {
  Q_OBJECT
public:
  explicit SweepDialog(QWidget* parent = nullptr);

  // A full run config as JSON text (the base every grid point starts from).
  void setBaseConfig(const std::string& configJson);
  void setSweepName(const QString& name);
  // Appends an axis: a dotted key and its values as typed ("0.1, 0.3, 1" or a JSON list).
  void addAxis(const QString& key, const QString& values);

  // The sweep document ({"name", "base", "grid"}); throws ConfigError on bad input.
  nlohmann::json sweepDocument() const;
  int parallel() const;
  // Runs the grid expands to (0 while the input is invalid), and the error, if any.
  int runCount() const { return runCount_; }
  QString problem() const { return problem_; }

  QTableWidget* axesTable() const { return axes_; }
  QLabel* countLabel() const { return count_; }
  QPushButton* startButton() const { return start_; }

  // "0.1, 0.3, 1" -> [0.1, 0.3, 1]; "kd, dkd" -> ["kd", "dkd"]; "[...]" is read as JSON.
  static nlohmann::json parseValues(const QString& text, const std::string& key);

private:
  void validate();

  QLineEdit* name_;
  QPlainTextEdit* base_;
  QTableWidget* axes_;
  QSpinBox* parallel_;
  QLabel* count_;
  QPushButton* start_;
  QTimer* validateTimer_;
  int runCount_ = 0;
  QString problem_;
};

} // namespace distillery::gui
