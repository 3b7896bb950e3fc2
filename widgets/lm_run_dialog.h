#pragma once
// "New Language-Model Run": a GPT teacher and student on a text corpus (task
// "lm"). Starts from the embedded default (defaultLmConfig) and edits the
// fields a comparison of methods needs: corpus, tokenizer, teacher (train a
// new GPT, or a finished LM run), method with its schema-generated parameter
// form, steps and seed. The JSON the run will store is shown below the form.
#include "core/run_config.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QDialogButtonBox;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class MethodParamForm;

class LmRunDialog : public QDialog {
  Q_OBJECT

public:
  explicit LmRunDialog(distillery::RunStore& store, QWidget* parent = nullptr);

  // The config as the form describes it; throws ConfigError when it is not valid.
  distillery::RunConfig config() const;
  QString error() const;

private:
  void update();

  distillery::RunConfig base_;
  QLineEdit* name_ = nullptr;
  QLineEdit* corpus_ = nullptr;
  QComboBox* tokenizer_ = nullptr;
  QComboBox* teacher_ = nullptr;
  QComboBox* method_ = nullptr;
  MethodParamForm* params_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QPlainTextEdit* json_ = nullptr;
  QLabel* error_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
};

} // namespace distillery::gui
