#pragma once
// The fields of a GPT spec (core/config/gpt_spec.h) as a small form: layers, heads,
// width, context, dropout and weight tying, with the parameter count for the
// corpus's vocabulary as a hint. The LM run dialog has one for the student and
// one for a teacher trained on the way.
#include "core/config/gpt_spec.h"

#include <QWidget>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace distillery::gui {

class GptSpecForm : public QWidget {
  Q_OBJECT
public:
  explicit GptSpecForm(QWidget* parent = nullptr);

  distillery::GptSpec spec() const;
  void setSpec(const distillery::GptSpec& spec); // emits no changed()
  // The vocabulary the parameter count is shown for (char corpora: about 100).
  void setVocabularyHint(int64_t vocab_size);

Q_SIGNALS:
  void changed();

private:
  void updateSize();

  QSpinBox* layers_ = nullptr;
  QSpinBox* heads_ = nullptr;
  QSpinBox* embed_ = nullptr;
  QSpinBox* context_ = nullptr;
  QDoubleSpinBox* dropout_ = nullptr;
  QCheckBox* tie_ = nullptr;
  QLabel* size_ = nullptr;
  int64_t vocab_ = 100;
};

} // namespace distillery::gui
