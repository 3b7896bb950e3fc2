#pragma once
// "New Language-Model Run": a GPT teacher and student on a text corpus (task
// "lm"). Starts from the embedded default (defaultLmConfig) and exposes every
// key of the LM config (core/config/lm_config.h): corpus and tokenizer, the teacher
// (a GPT trained first with its spec, steps, batch and learning rate; a
// finished LM run; or none), the student's spec, the method with its
// schema-generated parameter form, and training: steps, batch, optimiser,
// evaluation cadence, seed, device, checkpoints. The JSON the run will store is
// shown beside the form; it can be edited and applied, or loaded from a file.
// Every edit runs the quick preflight checks (core/training/run_preflight.h), Start
// the full ones, so an impossible pairing (a teacher whose context is shorter
// than the student's, another tokenizer or vocabulary) is refused, with the
// reason, before a run is created. Only finished LM runs that can teach the
// student as configured are offered.
#include "widgets/run_placement.h"
#include "core/config/run_config.h"

#include <QDialog>

#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace distillery {
class RunStore;
struct RunRecord;
} // namespace distillery

namespace distillery::gui {

class RunOnGroup;

class GptSpecForm;
class MethodParamForm;

class LmRunDialog : public QDialog {
  Q_OBJECT

public:
  explicit LmRunDialog(distillery::RunStore& store, QWidget* parent = nullptr);
  ~LmRunDialog() override; // where RunRecord is complete

  // The config as the form describes it; throws ConfigError when it is not valid.
  distillery::RunConfig config() const;
  // Fills the form; keys without a widget keep the given config's values.
  void setConfig(const distillery::RunConfig& config);
  // Why the run cannot start (empty when it can).
  QString error() const;
  // Where the run executes (the Run on group, shared with NewRunDialog).
  RunPlacement placement() const;
  void setPlacement(const RunPlacement& placement);
  // Ids of the finished LM runs offered as teachers for the student as configured.
  std::vector<qint64> offeredTeacherRuns() const;

public Q_SLOTS:
  // Runs the full preflight checks first; stays open, showing why, when they fail.
  void accept() override;

private:
  QWidget* buildCorpusGroup();
  QWidget* buildTeacherGroup(distillery::RunStore& store);
  QWidget* buildStudentGroup();
  QWidget* buildTrainingGroup();
  QWidget* buildJsonPanel();
  void update();
  void updateTeacherRuns();
  void applyJsonText(const QString& text, const QString& origin);

  distillery::RunStore& store_;
  distillery::RunConfig base_;
  std::vector<distillery::RunRecord> finishedRuns_; // finished task "lm" runs
  std::string teacherRunsKey_;                      // what the offered teacher runs were chosen for
  bool updating_ = false;

  QLineEdit* name_ = nullptr;
  QLineEdit* corpus_ = nullptr;
  QComboBox* tokenizer_ = nullptr;
  QDoubleSpinBox* valFraction_ = nullptr;
  QSpinBox* maxBytes_ = nullptr;
  QComboBox* teacher_ = nullptr;
  GptSpecForm* teacherSpec_ = nullptr;
  QSpinBox* teacherSteps_ = nullptr;
  QSpinBox* teacherBatch_ = nullptr;
  QDoubleSpinBox* teacherLr_ = nullptr;
  GptSpecForm* studentSpec_ = nullptr;
  QComboBox* method_ = nullptr;
  MethodParamForm* params_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* batch_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  QDoubleSpinBox* lr_ = nullptr;
  QComboBox* schedule_ = nullptr;
  QDoubleSpinBox* weightDecay_ = nullptr;
  QSpinBox* evalEvery_ = nullptr;
  QSpinBox* evalTokens_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QComboBox* device_ = nullptr;
  QSpinBox* logEvery_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QCheckBox* selectBest_ = nullptr;
  QSpinBox* checkpointEvery_ = nullptr;
  QDoubleSpinBox* checkpointMinutes_ = nullptr;
  QPlainTextEdit* json_ = nullptr;
  QLabel* error_ = nullptr;
  RunOnGroup* runOn_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
};

} // namespace distillery::gui
