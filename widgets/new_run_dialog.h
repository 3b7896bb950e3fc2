#pragma once
// The form that builds a RunConfig: task, teacher (a new zoo model trained
// first, a TorchScript file, a finished run from the store, or a model behind
// an HTTP API with the queries bought from it), the student
// (a zoo model or a TorchScript file), each with its model card, the method with a parameter form
// generated from its schema, training and data settings. The resulting JSON is
// shown and can be copied; it can also be edited and applied, pasted or
// loaded, so any config key can be set. Every edit runs the quick preflight
// checks (core/training/run_preflight.h) and shows the first problem under the form;
// Start Run runs the full ones, so a config that cannot start creates no run.
// Only finished runs whose model fits the task and the chosen data are offered as teachers.
// The Run on group (run_on_group.h) says where it executes; its fields are
// checked by the core code the CLI's launch and submit use.
#include "core/config/run_config.h"
#include "widgets/run_placement.h"

#include <QDialog>
#include <QString>

#include <map>
#include <optional>
#include <string>
#include <vector>

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QRadioButton;
class QSpinBox;

namespace distillery {
class RunStore;
struct DataProbe;
struct RunRecord;
} // namespace distillery

namespace distillery::gui {

class MethodParamForm;
class RunOnGroup;
class ModelPicker;

class NewRunDialog : public QDialog {
  Q_OBJECT
public:
  // The store lists finished runs as teachers; it is read once, here.
  explicit NewRunDialog(distillery::RunStore& store, QWidget* parent = nullptr);
  ~NewRunDialog() override; // where RunRecord is complete

  // The config the form describes. Fields without a widget (logging cadence,
  // checkpoints, ...) keep the values of the last setConfig().
  distillery::RunConfig config() const;
  void setConfig(const distillery::RunConfig& config);
  // The JSON text shown in the preview.
  QString configJson() const;
  // Where the run executes (the Run on group); config() is placed there by the caller.
  RunPlacement placement() const;
  void setPlacement(const RunPlacement& placement);
  // Why the config cannot be started; empty when it can.
  QString validationError() const { return error_; }
  // Ids of the finished runs offered as teachers for the current task and data.
  std::vector<qint64> offeredTeacherRuns() const;

public Q_SLOTS:
  // Runs the full preflight checks first; stays open, showing why, when they fail.
  void accept() override;

private:
  QWidget* buildGeneralGroup();
  QWidget* buildTeacherGroup();
  QWidget* buildApiPanel(); // teacher.api and queries: shown when the API source is picked
  QWidget* buildStudentGroup();
  QWidget* buildMethodGroup();
  QWidget* buildTrainingGroup();
  QWidget* buildDataGroup();
  QWidget* buildJsonPanel();
  void loadFinishedRuns();
  // Offers the finished runs that can teach `config` (same task family, model fits the data),
  // as teachers and as the API teacher's reference for evaluation.
  void updateTeacherRuns(const distillery::RunConfig& config);
  void fillRunCombo(QComboBox* combo, const distillery::RunConfig& config, const distillery::DataProbe& probe,
                    qint64 wanted, bool offer_none);
  // The teacher.api and queries the API panel describes, over what the last setConfig() gave.
  void readApiPanel(distillery::RunConfig& config) const;
  void setApiPanel(const distillery::RunConfig& config);
  void selectMethod(const QString& name);
  void updateVisibility();
  void updatePreview();
  // The pickers' cards follow the dataset, the device and the teacher.
  void updateCards(const distillery::RunConfig& config);
  std::optional<distillery::ModelSpec> teacherSpecForCard(const distillery::RunConfig& config) const;
  void applyJsonText(const QString& text, const QString& origin);

  distillery::RunStore& store_;
  distillery::RunConfig base_;
  std::vector<distillery::RunRecord> finishedRuns_;
  std::string teacherRunsKey_;                        // the data the offered teacher runs were chosen for
  std::map<qint64, distillery::ModelSpec> runModels_; // finished runs' trained models, for the card
  QString error_;
  bool updating_ = false;

  QLineEdit* name_ = nullptr;
  QComboBox* task_ = nullptr;
  QGroupBox* teacherGroup_ = nullptr;
  QRadioButton* teacherFromZoo_ = nullptr;
  QWidget* teacherZooPanel_ = nullptr; // the picker and its epochs
  QRadioButton* teacherFromRun_ = nullptr;
  ModelPicker* teacherPicker_ = nullptr;
  QSpinBox* teacherEpochs_ = nullptr;
  QComboBox* teacherRun_ = nullptr;
  QRadioButton* teacherFromApi_ = nullptr;
  QWidget* apiPanel_ = nullptr;
  QFormLayout* apiForm_ = nullptr;
  QLineEdit* apiUrl_ = nullptr;
  QLineEdit* apiKeyEnv_ = nullptr;
  QLabel* apiKeyState_ = nullptr; // whether the variable is set here; never its value
  QSpinBox* apiMaxQueries_ = nullptr;
  QSpinBox* apiBatch_ = nullptr;
  QComboBox* apiReferenceRun_ = nullptr;
  QCheckBox* apiMeasureBenign_ = nullptr;
  QComboBox* queryStrategy_ = nullptr;
  QWidget* queryDataRow_ = nullptr;
  QComboBox* queryDataset_ = nullptr;
  QLineEdit* queryDataPath_ = nullptr;
  QWidget* queryActiveRow_ = nullptr;
  QSpinBox* queryRounds_ = nullptr;
  QDoubleSpinBox* queryInitial_ = nullptr;
  QGroupBox* studentGroup_ = nullptr;
  ModelPicker* studentPicker_ = nullptr;
  QGroupBox* methodGroup_ = nullptr;
  QComboBox* method_ = nullptr;
  QLabel* methodDescription_ = nullptr;
  MethodParamForm* methodParams_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QDoubleSpinBox* lr_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  QComboBox* schedule_ = nullptr;
  QDoubleSpinBox* weightDecay_ = nullptr;
  QSpinBox* evalsPerEpoch_ = nullptr;
  QCheckBox* trackTest_ = nullptr;
  QComboBox* device_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QComboBox* dataset_ = nullptr;
  QLineEdit* dataPath_ = nullptr;
  QSpinBox* trainLimit_ = nullptr;
  QComboBox* valMode_ = nullptr; // validation split: a number of samples or a fraction of the training set
  QSpinBox* valSize_ = nullptr;
  QDoubleSpinBox* valFraction_ = nullptr;
  QLineEdit* labelColumn_ = nullptr;
  QCheckBox* augmentCrop_ = nullptr;
  QCheckBox* augmentFlip_ = nullptr;
  QDoubleSpinBox* transferFraction_ = nullptr;
  QCheckBox* hideLabels_ = nullptr;
  RunOnGroup* runOn_ = nullptr;
  QPlainTextEdit* json_ = nullptr;
  QLabel* errorLabel_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
};

} // namespace distillery::gui
