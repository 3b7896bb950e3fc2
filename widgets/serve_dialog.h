#pragma once
// Run ▸ Serve Teacher… (issue 17): which teacher (a finished run of the store,
// or a TorchScript file), which serve config (or a new starter one), host and
// port. Accept reads the config and refuses, naming the file and field, what
// the server would refuse at start.
#include "core/store/run_store.h"
#include "widgets/serve_worker.h"

#include <QDialog>

#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace distillery::gui {

// A first serve config: one key with a random secret, a budget and rate, a
// price, the probs mode; the request log beside it (the default).
nlohmann::json starterServeConfig();
// Writes it to `path`, readable by its owner only (it holds the secret). Empty, or why not.
QString writeStarterServeConfig(const QString& path);

class ServeDialog : public QDialog {
  Q_OBJECT
public:
  // `runs`: the store's runs (the finished classifiers are offered); `current`: the selected run.
  ServeDialog(const std::vector<distillery::RunRecord>& runs, int64_t current, const QString& storePath,
              QWidget* parent = nullptr);

  ServeOptions options() const;
  // Why the server would not start with these choices (empty: it should).
  QString problem() const;
  // The error line under the form (what accept() refused last).
  QString errorText() const;

  void accept() override;

private:
  void newConfig();
  QRadioButton* runChoice_ = nullptr;
  QRadioButton* fileChoice_ = nullptr;
  QComboBox* runCombo_ = nullptr;
  QLineEdit* fileEdit_ = nullptr;
  QLineEdit* configEdit_ = nullptr;
  QLineEdit* hostEdit_ = nullptr;
  QSpinBox* portSpin_ = nullptr;
  QLabel* error_ = nullptr;
  QString storePath_;
};

} // namespace distillery::gui
