#include "widgets/new_run_dialog.h"

#include "core/data/data_probe.h"
#include "core/data/dataset_formats.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"
#include "core/training/run_preflight.h"
#include "widgets/run_on_group.h"
#include "core/store/run_store.h"
#include "widgets/fit_to_screen.h"
#include "widgets/run_dialog_frame.h"
#include "widgets/file_dialogs.h"
#include "widgets/method_param_form.h"
#include "widgets/model_picker.h"

#include <QApplication>
#include <QButtonGroup>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <exception>

namespace distillery::gui {

namespace {

const QString kDistill = QStringLiteral("distill");
const QString kTrain = QStringLiteral("train");

// The input the model cards describe, as far as the config and a look at the files tell it
// (the 1x28x28, 10-class default where they cannot).
distillery::CardInput cardInputFor(const distillery::DataProbe& probe) {
  distillery::CardInput in;
  if (probe.shapeKnown()) {
    in.channels = probe.channels;
    in.height = probe.height;
    in.width = probe.width;
  }
  if (probe.classes > 0) in.classes = probe.classes;
  return in;
}

// What a finished run's model is: the summary says what it trained; older runs, their config.
QString heldModel(const distillery::RunRecord& run) {
  const auto it = run.summary.find("model");
  if (it != run.summary.end() && it->is_string()) return QString::fromStdString(it->get<std::string>());
  try {
    const auto config = distillery::RunConfig::fromJsonText(run.config_json);
    if (!config.isLm()) return QString::fromStdString(distillery::describe(config.trainedModel()));
  } catch (const std::exception&) {
  }
  return QString();
}

// The data a teacher run has to fit: the dataset's shape depends on these alone
// (the format, its files, and the keys of that format, such as an image folder's size).
std::string teacherDataKey(const distillery::RunConfig& c) {
  const auto& d = c.data;
  nlohmann::json format_keys = nlohmann::json::object();
  if (const distillery::DatasetFormat* format = distillery::findDatasetFormat(d.dataset); format && format->write_keys)
    format->write_keys(d, format_keys);
  return c.task + "|" + d.dataset + "|" + d.path + "|" + format_keys.dump();
}

// Whether the format reads this key under "data" (a field of the form applies to it).
bool formatReads(const distillery::DatasetFormat& format, const std::string& key) {
  return std::find(format.keys.begin(), format.keys.end(), key) != format.keys.end();
}

QFormLayout* compactForm(QWidget* parent) {
  auto* form = new QFormLayout(parent);
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  return form;
}

// Every dataset format, its summary as tooltip: the data group and the API queries' other dataset.
void addDatasetFormats(QComboBox* combo) {
  for (const distillery::DatasetFormat& format : distillery::datasetFormats()) {
    const QString name = QString::fromStdString(format.name);
    combo->addItem(name, name);
    combo->setItemData(combo->count() - 1, QString::fromStdString(format.summary), Qt::ToolTipRole);
  }
}

// A folder field with its Browse… button.
QHBoxLayout* folderRow(QWidget* parent, QLineEdit* edit, const QString& caption) {
  auto* browse = new QPushButton(QObject::tr("Browse…"), parent);
  QObject::connect(browse, &QPushButton::clicked, edit, [parent, edit, caption] {
    const QString dir = existingDirectory(parent, caption, edit->text());
    if (!dir.isEmpty()) edit->setText(dir);
  });
  auto* row = new QHBoxLayout;
  row->addWidget(edit, 1);
  row->addWidget(browse);
  return row;
}

// What a new API teacher starts from: `distillery-cli serve` on this machine, a budget to edit.
distillery::ApiTeacherConfig defaultApiTeacher() {
  distillery::ApiTeacherConfig a;
  a.url = "http://127.0.0.1:8311";
  a.max_queries = 20000;
  return a;
}

// Selects the item with this data, adding it first if the list lacks it, so
// values from pasted JSON survive a round trip through the form.
void selectOrAdd(QComboBox* combo, const QString& value) {
  int index = combo->findData(value);
  if (index < 0) {
    combo->addItem(value, value);
    index = combo->count() - 1;
  }
  combo->setCurrentIndex(index);
}

} // namespace

NewRunDialog::NewRunDialog(distillery::RunStore& store, QWidget* parent) : QDialog(parent), store_(store) {
  setWindowTitle(tr("New Run"));
  setObjectName(QStringLiteral("newRunDialog"));

  // The groups first (they create the widgets the JSON panel and checks read).
  std::vector<QWidget*> left{buildGeneralGroup(), buildTeacherGroup(), buildStudentGroup()};
  runOn_ = new RunOnGroup(this);
  std::vector<QWidget*> middle{buildMethodGroup(), buildTrainingGroup(), buildDataGroup(), runOn_};
  QWidget* json_panel = buildJsonPanel(); // makes errorLabel_ too
  buttons_ = layOutRunDialog(this, left, middle, json_panel, errorLabel_, tr("Start Run"));

  loadFinishedRuns();

  // Any edit refreshes the preview; setConfig() suppresses the storm.
  auto refresh = [this] { updatePreview(); };
  connect(name_, &QLineEdit::textChanged, this, refresh);
  connect(task_, &QComboBox::currentIndexChanged, this, [this] {
    updateVisibility();
    updatePreview();
  });
  for (QRadioButton* source : {teacherFromZoo_, teacherFromApi_})
    connect(source, &QRadioButton::toggled, this, [this] {
      updateVisibility();
      updatePreview();
    });
  connect(apiUrl_, &QLineEdit::textChanged, this, refresh);
  connect(apiKeyEnv_, &QLineEdit::textChanged, this, refresh);
  connect(apiMaxQueries_, &QSpinBox::valueChanged, this, refresh);
  connect(apiBatch_, &QSpinBox::valueChanged, this, refresh);
  connect(apiReferenceRun_, &QComboBox::currentIndexChanged, this, refresh);
  connect(apiMeasureBenign_, &QCheckBox::toggled, this, refresh);
  connect(queryStrategy_, &QComboBox::currentIndexChanged, this, refresh);
  connect(queryDataPath_, &QLineEdit::textChanged, this, refresh);
  connect(queryRounds_, &QSpinBox::valueChanged, this, refresh);
  connect(queryInitial_, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(queryDataset_, &QComboBox::currentIndexChanged, this, [this, refresh] {
    if (updating_) return;
    queryDataPath_->setText(QString::fromStdString( // the format's usual folder, as the data group does
        distillery::defaultDataConfig(queryDataset_->currentData().toString().toStdString()).path));
    refresh();
  });
  connect(teacherPicker_, &ModelPicker::changed, this, refresh);
  connect(teacherEpochs_, &QSpinBox::valueChanged, this, refresh);
  connect(teacherRun_, &QComboBox::currentIndexChanged, this, refresh);
  connect(studentPicker_, &ModelPicker::changed, this, refresh);
  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    selectMethod(method_->currentData().toString());
  });
  connect(methodParams_, &MethodParamForm::changed, this, refresh);
  connect(epochs_, &QSpinBox::valueChanged, this, refresh);
  connect(batchSize_, &QSpinBox::valueChanged, this, refresh);
  connect(lr_, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(optimizer_, &QComboBox::currentIndexChanged, this, refresh);
  connect(schedule_, &QComboBox::currentIndexChanged, this, refresh);
  connect(weightDecay_, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(evalsPerEpoch_, &QSpinBox::valueChanged, this, refresh);
  connect(trackTest_, &QCheckBox::toggled, this, refresh);
  connect(valMode_, &QComboBox::currentIndexChanged, this, refresh);
  connect(valSize_, &QSpinBox::valueChanged, this, refresh);
  connect(valFraction_, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(labelColumn_, &QLineEdit::textChanged, this, refresh);
  connect(device_, &QComboBox::currentIndexChanged, this, refresh);
  connect(seed_, &QSpinBox::valueChanged, this, refresh);
  connect(dataPath_, &QLineEdit::textChanged, this, refresh);
  connect(trainLimit_, &QSpinBox::valueChanged, this, refresh);
  connect(dataset_, &QComboBox::currentIndexChanged, this, [this, refresh] {
    if (updating_) return;
    // Another dataset brings its own path, validation split and preprocessing defaults.
    const distillery::DataConfig d = distillery::defaultDataConfig(dataset_->currentData().toString().toStdString());
    updating_ = true;
    dataPath_->setText(QString::fromStdString(d.path));
    valMode_->setCurrentIndex(valMode_->findData(d.val_fraction ? QStringLiteral("fraction") : QStringLiteral("size")));
    if (d.val_fraction) valFraction_->setValue(*d.val_fraction);
    updating_ = false;
    refresh();
  });
  for (QCheckBox* box : {augmentCrop_, augmentFlip_, hideLabels_}) connect(box, &QCheckBox::toggled, this, refresh);
  connect(transferFraction_, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(runOn_, &RunOnGroup::changed, this, refresh);

  setConfig(distillery::RunConfig::defaultDistill());
  resizeWithinScreen(this, QSize(1180, 800)); // the left column holds two model cards
}

QWidget* NewRunDialog::buildGeneralGroup() {
  auto* group = new QGroupBox(tr("Run"), this);
  auto* form = compactForm(group);
  name_ = new QLineEdit(group);
  name_->setObjectName(QStringLiteral("nameEdit"));
  task_ = new QComboBox(group);
  task_->setObjectName(QStringLiteral("taskCombo"));
  task_->addItem(tr("Distill a student from a teacher"), kDistill);
  task_->addItem(tr("Train a model on the labels"), kTrain);
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Task:"), task_);
  return group;
}

QWidget* NewRunDialog::buildTeacherGroup() {
  teacherGroup_ = new QGroupBox(tr("Teacher"), this);
  teacherGroup_->setObjectName(QStringLiteral("teacherGroup"));
  auto* layout = new QVBoxLayout(teacherGroup_);

  teacherFromZoo_ = new QRadioButton(tr("A zoo model (trained first) or a TorchScript file"), teacherGroup_);
  teacherFromZoo_->setToolTip(tr("Pick \"TorchScript file (.pt)…\" in the list to distill from a model made in PyTorch"));
  teacherFromZoo_->setObjectName(QStringLiteral("teacherZooRadio"));
  teacherPicker_ = new ModelPicker(teacherGroup_);
  teacherPicker_->setObjectName(QStringLiteral("teacherPicker"));
  teacherEpochs_ = new QSpinBox(teacherGroup_);
  teacherEpochs_->setObjectName(QStringLiteral("teacherEpochsSpin"));
  teacherEpochs_->setRange(1, 1000);
  teacherEpochs_->setToolTip(tr("Epochs to train the teacher; it is recorded as its own run"));
  auto* epochsRow = new QFormLayout;
  epochsRow->addRow(tr("Teacher epochs:"), teacherEpochs_);

  teacherFromRun_ = new QRadioButton(tr("Use the model of a finished run"), teacherGroup_);
  teacherFromRun_->setObjectName(QStringLiteral("teacherRunRadio"));
  teacherRun_ = new QComboBox(teacherGroup_);
  teacherRun_->setObjectName(QStringLiteral("teacherRunCombo"));
  teacherRun_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  teacherRun_->setMinimumContentsLength(20);

  teacherFromApi_ = new QRadioButton(tr("A model behind an API (seen only through its answers)"), teacherGroup_);
  teacherFromApi_->setObjectName(QStringLiteral("teacherApiRadio"));
  teacherFromApi_->setToolTip(tr("Distil from a model served over HTTP, e.g. by distillery-cli serve (docs/api.md): "
                                 "the run buys answers for the inputs its queries choose and never sees labels"));

  auto* sources = new QButtonGroup(teacherGroup_);
  sources->addButton(teacherFromZoo_);
  sources->addButton(teacherFromRun_);
  sources->addButton(teacherFromApi_);

  // Hidden while the API source is picked, whose fields need the room (the dialog fits 1280x800).
  teacherZooPanel_ = new QWidget(teacherGroup_);
  auto* zooLayout = new QVBoxLayout(teacherZooPanel_);
  zooLayout->setContentsMargins(0, 0, 0, 0);
  zooLayout->addWidget(teacherPicker_);
  zooLayout->addLayout(epochsRow);

  layout->addWidget(teacherFromZoo_);
  layout->addWidget(teacherZooPanel_);
  layout->addWidget(teacherFromRun_);
  layout->addWidget(teacherRun_);
  layout->addWidget(teacherFromApi_);
  layout->addWidget(buildApiPanel());
  return teacherGroup_;
}

QWidget* NewRunDialog::buildApiPanel() {
  apiPanel_ = new QWidget(teacherGroup_);
  apiPanel_->setObjectName(QStringLiteral("apiPanel"));
  apiForm_ = compactForm(apiPanel_);
  apiForm_->setContentsMargins(0, 0, 0, 0);

  apiUrl_ = new QLineEdit(apiPanel_);
  apiUrl_->setObjectName(QStringLiteral("apiUrlEdit"));
  apiUrl_->setPlaceholderText(QStringLiteral("http://127.0.0.1:8311"));
  apiUrl_->setToolTip(tr("teacher.api.url: the address of distillery-cli serve or a compatible server (http://)"));
  apiKeyEnv_ = new QLineEdit(apiPanel_);
  apiKeyEnv_->setObjectName(QStringLiteral("apiKeyEnvEdit"));
  apiKeyEnv_->setToolTip(tr("teacher.api.key_env: the environment variable that holds the API key; "
                            "the config names the variable, never the key"));
  apiKeyState_ = new QLabel(apiPanel_);
  apiKeyState_->setObjectName(QStringLiteral("apiKeyStateLabel"));
  auto* keyRow = new QHBoxLayout;
  keyRow->addWidget(apiKeyEnv_, 1);
  keyRow->addWidget(apiKeyState_);

  apiMaxQueries_ = new QSpinBox(apiPanel_);
  apiMaxQueries_->setObjectName(QStringLiteral("apiMaxQueriesSpin"));
  apiMaxQueries_->setRange(1, INT_MAX);
  apiMaxQueries_->setSingleStep(1000);
  apiMaxQueries_->setGroupSeparatorShown(true);
  apiMaxQueries_->setToolTip(tr("teacher.api.max_queries: the training answers the run may buy (its budget)"));
  apiBatch_ = new QSpinBox(apiPanel_);
  apiBatch_->setObjectName(QStringLiteral("apiBatchSpin"));
  apiBatch_->setRange(1, 1 << 20);
  apiBatch_->setToolTip(tr("teacher.api.batch: inputs sent per request"));
  auto* budgetRow = new QHBoxLayout;
  budgetRow->addWidget(apiMaxQueries_, 1);
  budgetRow->addWidget(new QLabel(tr("batch"), apiPanel_));
  budgetRow->addWidget(apiBatch_, 1);

  apiReferenceRun_ = new QComboBox(apiPanel_);
  apiReferenceRun_->setObjectName(QStringLiteral("apiReferenceRunCombo"));
  apiReferenceRun_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  apiReferenceRun_->setMinimumContentsLength(20);
  apiReferenceRun_->setToolTip(tr("teacher.api.reference_run, evaluation only: a finished run holding the undefended "
                                  "teacher, for the student's fidelity and the benign cost; training never sees it"));
  apiMeasureBenign_ = new QCheckBox(tr("measure what honest users get (test split sent once)"), apiPanel_);
  apiMeasureBenign_->setObjectName(QStringLiteral("apiMeasureBenignCheck"));
  apiMeasureBenign_->setToolTip(tr("teacher.api.measure_benign: the accuracy of the API's answers on the test split; "
                                   "these queries are counted apart, as evaluation"));

  queryStrategy_ = new QComboBox(apiPanel_);
  queryStrategy_->setObjectName(QStringLiteral("queryStrategyCombo"));
  queryStrategy_->addItem(tr("the task's training images"), QStringLiteral("train"));
  queryStrategy_->addItem(tr("another dataset's images"), QStringLiteral("transfer"));
  queryStrategy_->addItem(tr("random noise"), QStringLiteral("noise"));
  queryStrategy_->addItem(tr("active learning: least certain first"), QStringLiteral("active"));
  queryStrategy_->setToolTip(tr("queries.strategy: which inputs the run buys answers for"));
  queryDataset_ = new QComboBox(apiPanel_);
  queryDataset_->setObjectName(QStringLiteral("queryDatasetCombo"));
  addDatasetFormats(queryDataset_);
  queryDataset_->setToolTip(tr("queries.data.dataset: the format of the images sent"));
  queryDataPath_ = new QLineEdit(apiPanel_);
  queryDataPath_->setObjectName(QStringLiteral("queryDataPathEdit"));
  queryDataPath_->setToolTip(tr("queries.data.path"));
  queryRounds_ = new QSpinBox(apiPanel_);
  queryRounds_->setObjectName(QStringLiteral("queryRoundsSpin"));
  queryRounds_->setRange(1, 1000);
  queryRounds_->setToolTip(tr("queries.rounds: purchase rounds, at most one per epoch"));
  queryInitial_ = new QDoubleSpinBox(apiPanel_);
  queryInitial_->setObjectName(QStringLiteral("queryInitialSpin"));
  queryInitial_->setRange(0.01, 1.0);
  queryInitial_->setDecimals(2);
  queryInitial_->setSingleStep(0.05);
  queryInitial_->setToolTip(tr("queries.initial: the fraction of the budget bought at random before the first round"));
  queryActiveRow_ = new QWidget(apiPanel_);
  auto* activeRow = new QHBoxLayout(queryActiveRow_);
  activeRow->setContentsMargins(0, 0, 0, 0);
  activeRow->addWidget(queryRounds_, 1);
  activeRow->addWidget(new QLabel(tr("initial fraction"), queryActiveRow_));
  activeRow->addWidget(queryInitial_, 1);

  apiForm_->addRow(tr("URL:"), apiUrl_);
  apiForm_->addRow(tr("Key variable:"), keyRow);
  apiForm_->addRow(tr("Max queries:"), budgetRow);
  apiForm_->addRow(tr("Reference run:"), apiReferenceRun_);
  apiForm_->addRow(QString(), apiMeasureBenign_);
  apiForm_->addRow(tr("Queries:"), queryStrategy_);
  apiForm_->addRow(tr("Query format:"), queryDataset_);
  queryDataRow_ = new QWidget(apiPanel_);
  QHBoxLayout* folder = folderRow(this, queryDataPath_, tr("Folder of the images to query"));
  folder->setContentsMargins(0, 0, 0, 0);
  queryDataRow_->setLayout(folder);
  apiForm_->addRow(tr("Query folder:"), queryDataRow_);
  apiForm_->addRow(tr("Rounds:"), queryActiveRow_);
  return apiPanel_;
}

QWidget* NewRunDialog::buildStudentGroup() {
  studentGroup_ = new QGroupBox(tr("Student"), this);
  studentGroup_->setObjectName(QStringLiteral("studentGroup"));
  auto* layout = new QVBoxLayout(studentGroup_);
  studentPicker_ = new ModelPicker(studentGroup_);
  studentPicker_->setObjectName(QStringLiteral("studentPicker"));
  layout->addWidget(studentPicker_);
  return studentGroup_;
}

QWidget* NewRunDialog::buildMethodGroup() {
  methodGroup_ = new QGroupBox(tr("Distillation method"), this);
  methodGroup_->setObjectName(QStringLiteral("methodGroup"));
  auto* layout = new QVBoxLayout(methodGroup_);
  method_ = new QComboBox(methodGroup_);
  method_->setObjectName(QStringLiteral("methodCombo"));
  for (const distillery::MethodInfo* method : distillery::methodsForTask("distill")) { // image methods only
    const distillery::MethodInfo& info = *method;
    const QString name = QString::fromStdString(info.name);
    const QString title = QString::fromStdString(info.title);
    method_->addItem(title.isEmpty() || title == name ? name : QStringLiteral("%1 — %2").arg(name, title),
                     name);
    method_->setItemData(method_->count() - 1, QString::fromStdString(info.description),
                         Qt::ToolTipRole);
  }
  methodDescription_ = new QLabel(methodGroup_);
  methodDescription_->setObjectName(QStringLiteral("methodDescription"));
  methodDescription_->setWordWrap(true);
  methodDescription_->setStyleSheet(QStringLiteral("color: #555;"));
  methodParams_ = new MethodParamForm(methodGroup_);
  methodParams_->setObjectName(QStringLiteral("methodParams"));
  layout->addWidget(method_);
  layout->addWidget(methodDescription_);
  layout->addWidget(methodParams_);
  return methodGroup_;
}

QWidget* NewRunDialog::buildTrainingGroup() {
  auto* group = new QGroupBox(tr("Training"), this);
  auto* form = compactForm(group);
  epochs_ = new QSpinBox(group);
  epochs_->setObjectName(QStringLiteral("epochsSpin"));
  epochs_->setRange(1, 1000);
  batchSize_ = new QSpinBox(group);
  batchSize_->setObjectName(QStringLiteral("batchSizeSpin"));
  batchSize_->setRange(1, 65536);
  lr_ = new QDoubleSpinBox(group);
  lr_->setObjectName(QStringLiteral("lrSpin"));
  lr_->setDecimals(6);
  lr_->setRange(1e-6, 10.0);
  lr_->setSingleStep(1e-4);
  lr_->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  optimizer_ = new QComboBox(group);
  optimizer_->setObjectName(QStringLiteral("optimizerCombo"));
  optimizer_->addItem(QStringLiteral("adam"), QStringLiteral("adam"));
  optimizer_->addItem(QStringLiteral("sgd"), QStringLiteral("sgd"));
  device_ = new QComboBox(group);
  device_->setObjectName(QStringLiteral("deviceCombo"));
  for (const char* d : {"auto", "cpu", "cuda"}) device_->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
  device_->setToolTip(tr("auto uses a GPU when LibTorch and the machine have one"));
  seed_ = new QSpinBox(group);
  seed_->setObjectName(QStringLiteral("seedSpin"));
  seed_->setRange(0, INT_MAX);
  schedule_ = new QComboBox(group);
  schedule_->setObjectName(QStringLiteral("scheduleCombo"));
  schedule_->addItem(tr("constant"), QStringLiteral("constant"));
  schedule_->addItem(tr("cosine"), QStringLiteral("cosine"));
  schedule_->setToolTip(tr("Learning-rate schedule (optim.schedule)"));
  weightDecay_ = new QDoubleSpinBox(group);
  weightDecay_->setObjectName(QStringLiteral("weightDecaySpin"));
  weightDecay_->setDecimals(6);
  weightDecay_->setRange(0.0, 1.0);
  weightDecay_->setSingleStep(1e-4);
  weightDecay_->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  weightDecay_->setToolTip(tr("optim.weight_decay"));
  evalsPerEpoch_ = new QSpinBox(group);
  evalsPerEpoch_->setObjectName(QStringLiteral("evalsPerEpochSpin"));
  evalsPerEpoch_->setRange(1, 1000);
  evalsPerEpoch_->setToolTip(tr("Validation passes per epoch, the points of the validation curves (evals_per_epoch)"));
  trackTest_ = new QCheckBox(tr("also measure the test split at each validation pass"), group);
  trackTest_->setObjectName(QStringLiteral("trackTestCheck"));
  trackTest_->setToolTip(tr("track_test: test_accuracy curves and best_test_* in the summary"));
  auto* optimRow = new QHBoxLayout;
  optimRow->addWidget(optimizer_, 1);
  optimRow->addWidget(new QLabel(tr("schedule"), group));
  optimRow->addWidget(schedule_, 1);
  auto* lrRow = new QHBoxLayout;
  lrRow->addWidget(lr_, 1);
  lrRow->addWidget(new QLabel(tr("decay"), group));
  lrRow->addWidget(weightDecay_, 1);
  auto* seedRow = new QHBoxLayout;
  seedRow->addWidget(device_, 1);
  seedRow->addWidget(new QLabel(tr("seed"), group));
  seedRow->addWidget(seed_, 1);
  auto* epochRow = new QHBoxLayout;
  epochRow->addWidget(epochs_, 1);
  epochRow->addWidget(new QLabel(tr("batch"), group));
  epochRow->addWidget(batchSize_, 1);
  form->addRow(tr("Epochs:"), epochRow);
  form->addRow(tr("Learning rate:"), lrRow);
  form->addRow(tr("Optimizer:"), optimRow);
  form->addRow(tr("Device:"), seedRow);
  form->addRow(tr("Evals/epoch:"), evalsPerEpoch_);
  form->addRow(QString(), trackTest_);
  return group;
}

QWidget* NewRunDialog::buildDataGroup() {
  auto* group = new QGroupBox(tr("Data"), this);
  auto* form = compactForm(group);
  dataset_ = new QComboBox(group);
  dataset_->setObjectName(QStringLiteral("datasetCombo"));
  addDatasetFormats(dataset_);
  dataset_->setToolTip(tr("The dataset format; known datasets come with their usual path, mean and std"));
  form->addRow(tr("Dataset:"), dataset_);
  dataPath_ = new QLineEdit(group);
  dataPath_->setObjectName(QStringLiteral("dataPathEdit"));
  QHBoxLayout* pathRow = folderRow(this, dataPath_, tr("Dataset folder"));
  trainLimit_ = new QSpinBox(group);
  trainLimit_->setObjectName(QStringLiteral("trainLimitSpin"));
  trainLimit_->setRange(0, INT_MAX);
  trainLimit_->setSingleStep(1000);
  trainLimit_->setSpecialValueText(tr("all"));
  trainLimit_->setToolTip(tr("Use only the first N training samples (0: all)"));
  valMode_ = new QComboBox(group);
  valMode_->setObjectName(QStringLiteral("valModeCombo"));
  valMode_->addItem(tr("samples"), QStringLiteral("size"));
  valMode_->addItem(tr("fraction"), QStringLiteral("fraction"));
  valMode_->setToolTip(tr("The validation split, drawn from the training set by the seed: a number of samples "
                          "(data.val_size) or a fraction of it (data.val_fraction)"));
  valSize_ = new QSpinBox(group);
  valSize_->setObjectName(QStringLiteral("valSizeSpin"));
  valSize_->setRange(0, INT_MAX);
  valSize_->setSingleStep(500);
  valFraction_ = new QDoubleSpinBox(group);
  valFraction_->setObjectName(QStringLiteral("valFractionSpin"));
  valFraction_->setRange(0.0, 0.99);
  valFraction_->setDecimals(3);
  valFraction_->setSingleStep(0.05);
  auto* valRow = new QHBoxLayout;
  valRow->addWidget(valSize_, 1);
  valRow->addWidget(valFraction_, 1);
  valRow->addWidget(valMode_);
  labelColumn_ = new QLineEdit(group);
  labelColumn_->setObjectName(QStringLiteral("labelColumnEdit"));
  labelColumn_->setPlaceholderText(tr("the column holding the class (csv)"));
  labelColumn_->setToolTip(tr("data.label_column: the header name of the CSV column holding the class"));
  auto* limitRow = new QHBoxLayout;
  limitRow->addWidget(trainLimit_, 1);
  limitRow->addWidget(new QLabel(tr("validation"), group));
  limitRow->addLayout(valRow, 2);
  form->addRow(tr("Path:"), pathRow);
  form->addRow(tr("Train limit:"), limitRow);
  form->addRow(tr("Label column:"), labelColumn_);
  augmentCrop_ = new QCheckBox(tr("random crop (pad 4)"), group);
  augmentCrop_->setObjectName(QStringLiteral("augmentCropCheck"));
  augmentFlip_ = new QCheckBox(tr("horizontal flip"), group);
  augmentFlip_->setObjectName(QStringLiteral("augmentFlipCheck"));
  auto* augmentRow = new QHBoxLayout;
  augmentRow->addWidget(augmentCrop_);
  augmentRow->addWidget(augmentFlip_);
  augmentRow->addStretch(1);
  form->addRow(tr("Augment:"), augmentRow);
  transferFraction_ = new QDoubleSpinBox(group);
  transferFraction_->setObjectName(QStringLiteral("transferFractionSpin"));
  transferFraction_->setRange(0.001, 1.0);
  transferFraction_->setDecimals(3);
  transferFraction_->setSingleStep(0.05);
  transferFraction_->setValue(1.0);
  transferFraction_->setToolTip(tr("Distil on this fraction of the training split (drawn by the seed)"));
  hideLabels_ = new QCheckBox(tr("hide labels (teacher's answers only)"), group);
  hideLabels_->setObjectName(QStringLiteral("hideLabelsCheck"));
  auto* transferRow = new QHBoxLayout;
  transferRow->addWidget(transferFraction_);
  transferRow->addWidget(hideLabels_);
  transferRow->addStretch(1);
  form->addRow(tr("Transfer set:"), transferRow);
  return group;
}

QWidget* NewRunDialog::buildJsonPanel() {
  auto* group = new QGroupBox(tr("Config JSON"), this);
  auto* layout = new QVBoxLayout(group);
  json_ = new QPlainTextEdit(group);
  json_->setObjectName(QStringLiteral("jsonView"));
  json_->setToolTip(tr("Edit any key here, then Apply JSON to fill the form from it"));
  json_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  json_->setLineWrapMode(QPlainTextEdit::NoWrap);
  json_->setMinimumWidth(180);

  auto* copy = new QPushButton(tr("Copy JSON"), group);
  copy->setObjectName(QStringLiteral("copyJsonButton"));
  connect(copy, &QPushButton::clicked, this,
          [this] { QApplication::clipboard()->setText(json_->toPlainText()); });
  auto* paste = new QPushButton(tr("Paste JSON"), group);
  paste->setObjectName(QStringLiteral("pasteJsonButton"));
  paste->setToolTip(tr("Fill the form from a config JSON on the clipboard"));
  connect(paste, &QPushButton::clicked, this,
          [this] { applyJsonText(QApplication::clipboard()->text(), tr("Clipboard")); });
  auto* apply = new QPushButton(tr("Apply JSON"), group);
  apply->setObjectName(QStringLiteral("applyJsonButton"));
  apply->setToolTip(tr("Fill the form from the JSON as edited above"));
  connect(apply, &QPushButton::clicked, this, [this] { applyJsonText(json_->toPlainText(), tr("JSON")); });
  auto* load = new QPushButton(tr("Load…"), group);
  load->setToolTip(tr("Fill the form from a config JSON file"));
  connect(load, &QPushButton::clicked, this, [this] {
    const QString file = openFileName(this, tr("Load run config"), {},
                                                      tr("JSON (*.json);;All files (*)"));
    if (file.isEmpty()) return;
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) {
      errorLabel_->setText(tr("%1: %2").arg(file, f.errorString()));
      return;
    }
    applyJsonText(QString::fromUtf8(f.readAll()), file);
  });
  // Two rows of two, so the panel can be narrow and leave the form its width.
  auto* buttons = new QGridLayout;
  buttons->addWidget(apply, 0, 0);
  buttons->addWidget(load, 0, 1);
  buttons->addWidget(copy, 1, 0);
  buttons->addWidget(paste, 1, 1);
  layout->addWidget(json_, 1);
  layout->addLayout(buttons);

  errorLabel_ = runDialogErrorLabel(this, QStringLiteral("errorLabel"));
  return group;
}

NewRunDialog::~NewRunDialog() = default;

void NewRunDialog::loadFinishedRuns() {
  try {
    for (distillery::RunRecord& run : store_.runs())
      if (run.status == distillery::RunStatus::Finished) finishedRuns_.push_back(std::move(run));
  } catch (const std::exception& e) {
    teacherRun_->setToolTip(tr("Could not read the store: %1").arg(QString::fromUtf8(e.what())));
  }
  for (const distillery::RunRecord& run : finishedRuns_) {
    try {
      const auto config = distillery::RunConfig::fromJsonText(run.config_json);
      if (!config.isLm()) runModels_[run.id] = config.trainedModel();
    } catch (const std::exception&) {
    }
  }
}

void NewRunDialog::updateTeacherRuns(const distillery::RunConfig& c) {
  const std::string key = teacherDataKey(c);
  const qint64 wanted = c.teacher.kind == distillery::TeacherSource::Kind::Run ? c.teacher.run_id : 0;
  // Another source keeps the reference picked, for when the API source is picked again.
  const qint64 reference = c.hasApiTeacher() ? c.teacher.api.reference_run : apiReferenceRun_->currentData().toLongLong();
  auto listed = [](QComboBox* combo, qint64 id) {
    return id == 0 || combo->findData(QVariant::fromValue<qint64>(id)) >= 0;
  };
  if (key == teacherRunsKey_ && listed(teacherRun_, wanted) && listed(apiReferenceRun_, reference)) {
    // The config names runs already offered: show them.
    if (wanted > 0) {
      const QSignalBlocker blocker(teacherRun_);
      teacherRun_->setCurrentIndex(teacherRun_->findData(QVariant::fromValue<qint64>(wanted)));
    }
    const QSignalBlocker blocker(apiReferenceRun_);
    apiReferenceRun_->setCurrentIndex(std::max(0, apiReferenceRun_->findData(QVariant::fromValue<qint64>(reference))));
    return;
  }
  teacherRunsKey_ = key;
  const distillery::DataProbe probe = distillery::probeData(c.data);
  fillRunCombo(teacherRun_, c, probe, wanted, false);
  fillRunCombo(apiReferenceRun_, c, probe, reference, true);
  teacherFromRun_->setText(teacherRun_->count() > 0
                               ? tr("Use the model of a finished run")
                               : finishedRuns_.empty() ? tr("Use the model of a finished run (none yet)")
                                                       : tr("Use the model of a finished run (none fits this data)"));
}

// The finished runs whose model fits `c`, and `wanted` even when it does not (so the reason shows).
void NewRunDialog::fillRunCombo(QComboBox* combo, const distillery::RunConfig& c, const distillery::DataProbe& probe,
                                qint64 wanted, bool offer_none) {
  const qint64 picked = combo->currentData().toLongLong();
  const QSignalBlocker blocker(combo);
  combo->clear();
  if (offer_none) combo->addItem(tr("none"), QVariant::fromValue<qint64>(0));
  for (const distillery::RunRecord& run : finishedRuns_) {
    const std::string why = distillery::teacherRunMismatch(run, c, probe);
    if (!why.empty() && run.id != wanted) continue;
    QString text = QStringLiteral("#%1 %2").arg(run.id).arg(QString::fromStdString(run.name));
    const QString model = heldModel(run);
    if (!model.isEmpty()) text += QStringLiteral(" — ") + model;
    for (const char* metric : {"test_accuracy", "best_val_accuracy"}) {
      auto it = run.summary.find(metric);
      if (it != run.summary.end() && it->is_number()) {
        text += QStringLiteral(" (%1%)").arg(it->get<double>() * 100.0, 0, 'f', 1);
        break;
      }
    }
    if (!why.empty()) text += offer_none ? tr(" — does not fit this data") : tr(" — cannot teach this run");
    combo->addItem(text, QVariant::fromValue<qint64>(run.id));
    if (!why.empty()) combo->setItemData(combo->count() - 1, QString::fromStdString(why), Qt::ToolTipRole);
  }
  if (wanted > 0 && combo->findData(QVariant::fromValue<qint64>(wanted)) < 0)
    combo->addItem(tr("#%1 (not a finished run in this store)").arg(wanted), QVariant::fromValue<qint64>(wanted));
  // The config's run, else the one picked before, if it is still offered.
  const int index = combo->findData(QVariant::fromValue<qint64>(wanted > 0 ? wanted : picked));
  combo->setCurrentIndex(index >= 0 ? index : 0);
}

std::vector<qint64> NewRunDialog::offeredTeacherRuns() const {
  std::vector<qint64> ids;
  for (int i = 0; i < teacherRun_->count(); ++i) ids.push_back(teacherRun_->itemData(i).toLongLong());
  return ids;
}

void NewRunDialog::selectMethod(const QString& name) {
  const distillery::MethodInfo* info = distillery::findMethod(name.toStdString());
  methodDescription_->setText(info ? QString::fromStdString(info->description) : QString());
  methodDescription_->setVisible(!methodDescription_->text().isEmpty());
  methodParams_->setMethod(info); // emits changed(), which refreshes the preview
}

void NewRunDialog::updateVisibility() {
  const bool distill = task_->currentData().toString() == kDistill;
  teacherGroup_->setVisible(distill);
  methodGroup_->setVisible(distill);
  studentGroup_->setTitle(distill ? tr("Student") : tr("Model"));
  teacherFromRun_->setEnabled(teacherRun_->count() > 0);
  const bool zoo = teacherFromZoo_->isChecked();
  teacherPicker_->setEnabled(zoo);
  teacherEpochs_->setEnabled(zoo && !teacherPicker_->spec().isTorchScript()); // a file is not trained
  teacherRun_->setEnabled(teacherFromRun_->isChecked() && teacherRun_->count() > 0);
  const bool api = distill && teacherFromApi_->isChecked();
  apiPanel_->setVisible(teacherFromApi_->isChecked());
  teacherZooPanel_->setVisible(!teacherFromApi_->isChecked());
  const QString strategy = queryStrategy_->currentData().toString();
  const bool active = strategy == QLatin1String("active");
  const bool other_data = active || strategy == QLatin1String("transfer");
  apiForm_->setRowVisible(queryDataset_, other_data);
  apiForm_->setRowVisible(queryDataRow_, other_data);
  apiForm_->setRowVisible(queryActiveRow_, active);
  // Active learning picks from a pool; transfer sends the folder's images.
  if (auto* label = qobject_cast<QLabel*>(apiForm_->labelForField(queryDataset_)))
    label->setText(active ? tr("Pool format:") : tr("Query format:"));
  if (auto* label = qobject_cast<QLabel*>(apiForm_->labelForField(queryDataRow_)))
    label->setText(active ? tr("Pool folder:") : tr("Query folder:"));
  queryDataPath_->setPlaceholderText(active ? tr("empty: the pool is the training split")
                                            : tr("the folder of the images to send"));
  const QString key_env = apiKeyEnv_->text().trimmed();
  const bool key_set = !key_env.isEmpty() && !qEnvironmentVariableIsEmpty(key_env.toLocal8Bit().constData());
  apiKeyState_->setText(key_set ? tr("set") : tr("not set"));
  apiKeyState_->setStyleSheet(key_set ? QStringLiteral("color: #1e8449;") : QStringLiteral("color: #c0392b;"));
  apiKeyState_->setToolTip(key_set ? tr("%1 is set in this program's environment; the run sends it as the key")
                                         .arg(key_env)
                                   : tr("%1 is not set in this program's environment: export it before starting "
                                        "Distillery").arg(key_env.isEmpty() ? tr("The variable") : key_env));
  // An API run's inputs are the queries, sent as they are: no transfer set, no augmentation, no labels.
  for (QWidget* w : {static_cast<QWidget*>(augmentCrop_), static_cast<QWidget*>(augmentFlip_),
                     static_cast<QWidget*>(transferFraction_)})
    w->setEnabled(!api);
  hideLabels_->setEnabled(distill && !api);
  const distillery::DatasetFormat* format = distillery::findDatasetFormat(dataset_->currentData().toString().toStdString());
  labelColumn_->setEnabled(format && formatReads(*format, "label_column"));
  // What the path must hold, in the format's words (e.g. the IDX files, a folder per class).
  dataPath_->setToolTip(format ? QString::fromStdString(format->path_hint) : QString());
  const bool fraction = valMode_->currentData().toString() == QLatin1String("fraction");
  valSize_->setVisible(!fraction);
  valFraction_->setVisible(fraction);
}

distillery::RunConfig NewRunDialog::config() const {
  distillery::RunConfig c = base_;
  c.name = name_->text().trimmed().toStdString();
  c.task = task_->currentData().toString().toStdString();
  if (c.isDistill()) {
    if (teacherFromZoo_->isChecked()) {
      c.teacher.model = teacherPicker_->spec();
      c.teacher.kind = c.teacher.model.isTorchScript() ? distillery::TeacherSource::Kind::TorchScript
                                                       : distillery::TeacherSource::Kind::Zoo;
      c.teacher.train_epochs = teacherEpochs_->value();
    } else if (teacherFromApi_->isChecked()) {
      c.teacher.kind = distillery::TeacherSource::Kind::Api;
    } else {
      c.teacher.kind = distillery::TeacherSource::Kind::Run;
      c.teacher.run_id = teacherRun_->currentData().toLongLong();
    }
    c.student = studentPicker_->spec();
    c.method.name = method_->currentData().toString().toStdString();
    c.method.params = methodParams_->values();
    c.method.text_params = methodParams_->textValues();
  } else {
    c.model = studentPicker_->spec();
  }
  c.epochs = epochs_->value();
  c.batch_size = batchSize_->value();
  c.optim.name = optimizer_->currentData().toString().toStdString();
  c.optim.lr = lr_->value();
  c.optim.schedule = schedule_->currentData().toString().toStdString();
  c.optim.weight_decay = weightDecay_->value();
  c.evals_per_epoch = evalsPerEpoch_->value();
  c.track_test = trackTest_->isChecked();
  c.device = device_->currentData().toString().toStdString();
  c.seed = uint64_t(seed_->value());
  const std::string dataset = dataset_->currentData().toString().toStdString();
  if (dataset != c.data.dataset) c.data = distillery::defaultDataConfig(dataset);
  c.data.path = dataPath_->text().trimmed().toStdString();
  c.data.train_limit = trainLimit_->value();
  c.data.val_size = valSize_->value();
  if (valMode_->currentData().toString() == QLatin1String("fraction")) c.data.val_fraction = valFraction_->value();
  else c.data.val_fraction.reset();
  const distillery::DatasetFormat* format = distillery::findDatasetFormat(c.data.dataset);
  if (format && formatReads(*format, "label_column")) c.data.label_column = labelColumn_->text().trimmed().toStdString();
  const int padding = base_.data.augment.random_crop_padding > 0 ? base_.data.augment.random_crop_padding : 4;
  c.data.augment.random_crop_padding = augmentCrop_->isChecked() ? padding : 0;
  c.data.augment.horizontal_flip = augmentFlip_->isChecked();
  c.transfer.fraction = transferFraction_->value();
  c.transfer.hide_labels = c.isDistill() && hideLabels_->isChecked();
  if (!c.isDistill()) c.transfer.data.reset();
  if (c.hasApiTeacher()) readApiPanel(c);
  return c;
}

void NewRunDialog::readApiPanel(distillery::RunConfig& c) const {
  distillery::ApiTeacherConfig& a = c.teacher.api; // retries, timeout_s, cache_dir: as last set
  a.url = apiUrl_->text().trimmed().toStdString();
  a.key_env = apiKeyEnv_->text().trimmed().toStdString();
  a.max_queries = apiMaxQueries_->value();
  a.batch = apiBatch_->value();
  a.reference_run = apiReferenceRun_->currentData().toLongLong();
  a.measure_benign = apiMeasureBenign_->isChecked();
  distillery::QueryConfig& q = c.queries;
  q.strategy = queryStrategy_->currentData().toString().toStdString();
  const std::string path = queryDataPath_->text().trimmed().toStdString();
  if ((q.strategy == "transfer" || q.strategy == "active") && !path.empty()) {
    const std::string dataset = queryDataset_->currentData().toString().toStdString();
    if (!q.data || q.data->dataset != dataset) {
      q.data = distillery::defaultDataConfig(dataset);
      // Every image of the other dataset may be sent: none is held out for validation.
      q.data->val_size = 0;
      q.data->val_fraction.reset();
    }
    q.data->path = path;
  } else {
    q.data.reset(); // transfer without a folder: the config check says queries.data is missing
  }
  q.rounds = queryRounds_->value();
  q.initial = queryInitial_->value();
  // The student sees only the API's answers to the queries, as sent: nothing labelled to select
  // on, no transfer set of the task's own, no augmented inputs nobody bought answers for.
  c.select_best = false;
  c.transfer = distillery::TransferConfig{};
  c.data.augment = distillery::AugmentConfig{};
}

void NewRunDialog::setApiPanel(const distillery::RunConfig& c) {
  const distillery::ApiTeacherConfig a = c.hasApiTeacher() ? c.teacher.api : defaultApiTeacher();
  apiUrl_->setText(QString::fromStdString(a.url));
  apiKeyEnv_->setText(QString::fromStdString(a.key_env));
  apiMaxQueries_->setValue(int(std::clamp<int64_t>(a.max_queries, 1, INT_MAX)));
  apiBatch_->setValue(int(std::clamp<int64_t>(a.batch, 1, 1 << 20)));
  apiMeasureBenign_->setChecked(a.measure_benign);
  const distillery::QueryConfig q = c.hasApiTeacher() ? c.queries : distillery::QueryConfig{};
  queryStrategy_->setCurrentIndex(std::max(0, queryStrategy_->findData(QString::fromStdString(q.strategy))));
  if (q.data) selectOrAdd(queryDataset_, QString::fromStdString(q.data->dataset));
  queryDataPath_->setText(q.data ? QString::fromStdString(q.data->path) : QString());
  queryRounds_->setValue(q.rounds);
  queryInitial_->setValue(q.initial);
}

void NewRunDialog::setConfig(const distillery::RunConfig& c) {
  base_ = c;
  updating_ = true;
  name_->setText(QString::fromStdString(c.name));
  task_->setCurrentIndex(std::max(0, task_->findData(QString::fromStdString(c.task))));

  teacherPicker_->setSpec(c.teacher.model);
  teacherEpochs_->setValue(c.teacher.train_epochs);
  setApiPanel(c);
  if (c.teacher.kind == distillery::TeacherSource::Kind::Run && c.teacher.run_id > 0) {
    updateTeacherRuns(c); // lists this run even when it cannot teach, so the reason shows
    teacherFromRun_->setChecked(true);
  } else if (c.hasApiTeacher()) {
    updateTeacherRuns(c); // lists the reference run, or says why it does not fit
    teacherFromApi_->setChecked(true);
  } else {
    teacherFromZoo_->setChecked(true);
  }
  studentPicker_->setSpec(c.trainedModel());

  const QString method = QString::fromStdString(c.method.name);
  int methodIndex = method_->findData(method);
  if (methodIndex < 0) methodIndex = 0;
  method_->setCurrentIndex(methodIndex);
  selectMethod(method_->currentData().toString()); // rebuild even if the index did not change
  methodParams_->setValues(c.method.params);
  methodParams_->setTextValues(c.method.text_params);

  epochs_->setValue(c.epochs);
  batchSize_->setValue(c.batch_size);
  lr_->setValue(c.optim.lr);
  selectOrAdd(optimizer_, QString::fromStdString(c.optim.name));
  selectOrAdd(schedule_, QString::fromStdString(c.optim.schedule));
  weightDecay_->setValue(c.optim.weight_decay);
  evalsPerEpoch_->setValue(c.evals_per_epoch);
  trackTest_->setChecked(c.track_test);
  selectOrAdd(device_, QString::fromStdString(c.device));
  seed_->setValue(int(std::min<uint64_t>(c.seed, uint64_t(INT_MAX))));
  selectOrAdd(dataset_, QString::fromStdString(c.data.dataset));
  dataPath_->setText(QString::fromStdString(c.data.path));
  trainLimit_->setValue(int(std::min<int64_t>(c.data.train_limit, INT_MAX)));
  valSize_->setValue(int(std::min<int64_t>(c.data.val_size, INT_MAX)));
  valFraction_->setValue(c.data.val_fraction.value_or(0.1));
  valMode_->setCurrentIndex(valMode_->findData(c.data.val_fraction ? QStringLiteral("fraction") : QStringLiteral("size")));
  labelColumn_->setText(QString::fromStdString(c.data.label_column));
  augmentCrop_->setChecked(c.data.augment.random_crop_padding > 0);
  augmentFlip_->setChecked(c.data.augment.horizontal_flip);
  transferFraction_->setValue(c.transfer.fraction);
  hideLabels_->setChecked(c.transfer.hide_labels);
  updating_ = false;

  updateVisibility();
  updatePreview();
}

QString NewRunDialog::configJson() const { return json_->toPlainText(); }

void NewRunDialog::updatePreview() {
  if (updating_) return;
  error_.clear();
  QString text;
  try {
    distillery::RunConfig c = config();
    updateTeacherRuns(c);
    c = config(); // the runs offered as teachers follow the task and the data
    updateCards(c);
    updateVisibility();
    const nlohmann::json json = c.toJson();
    text = QString::fromStdString(json.dump(2));
    if (c.isDistill() && teacherFromZoo_->isChecked() && !teacherPicker_->error().isEmpty())
      error_ = tr("Teacher: %1").arg(teacherPicker_->error());
    else if (!studentPicker_->error().isEmpty())
      error_ = (c.isDistill() ? tr("Student: %1") : tr("Model: %1")).arg(studentPicker_->error());
    else if (c.isDistill() && teacherFromRun_->isChecked() && c.teacher.run_id <= 0)
      error_ = tr("Teacher: pick a finished run");
    else // the checks the engine makes, and the cheap ones of the world it will meet
      distillery::preflightRun(distillery::RunConfig::fromJson(json), &store_, distillery::PreflightDepth::Quick);
  } catch (const std::exception& e) {
    error_ = QString::fromUtf8(e.what());
  }
  if (error_.isEmpty()) error_ = placementError(config(), runOn_->placement(), store_);
  json_->setPlainText(text);
  errorLabel_->setText(error_);
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(error_.isEmpty());
}

void NewRunDialog::accept() {
  updatePreview();
  if (error_.isEmpty()) {
    try { // models built or loaded, layer names looked up: only when the run is about to start
      distillery::preflightRun(config(), &store_, distillery::PreflightDepth::Full);
    } catch (const std::exception& e) {
      error_ = QString::fromUtf8(e.what());
      errorLabel_->setText(error_);
    }
  }
  if (error_.isEmpty()) {
    rememberPlacement(runOn_->placement());
    QDialog::accept();
  }
}

RunPlacement NewRunDialog::placement() const { return runOn_->placement(); }

void NewRunDialog::setPlacement(const RunPlacement& placement) { runOn_->setPlacement(placement); }

std::optional<distillery::ModelSpec> NewRunDialog::teacherSpecForCard(const distillery::RunConfig& c) const {
  if (!c.isDistill()) return std::nullopt;
  if (c.teacher.kind == distillery::TeacherSource::Kind::Run || c.hasApiTeacher()) {
    // An API's model is unknown here; its reference run, when named, holds the undefended one.
    auto it = runModels_.find(c.hasApiTeacher() ? c.teacher.api.reference_run : c.teacher.run_id);
    if (it == runModels_.end()) return std::nullopt;
    return it->second;
  }
  if (!teacherPicker_->error().isEmpty()) return std::nullopt;
  return c.teacher.model;
}

void NewRunDialog::updateCards(const distillery::RunConfig& c) {
  const distillery::CardInput input = cardInputFor(distillery::probeData(c.data));
  const QString device = QString::fromStdString(c.device);
  teacherPicker_->setCardContext(input, device);
  studentPicker_->setCardContext(input, device);
  studentPicker_->setComparison(teacherSpecForCard(c));
}

void NewRunDialog::applyJsonText(const QString& text, const QString& origin) {
  try {
    setConfig(distillery::RunConfig::fromJsonText(text.toStdString()));
  } catch (const std::exception& e) {
    // The form keeps its state; only the message changes.
    errorLabel_->setText(tr("%1: not a valid run config: %2").arg(origin, QString::fromUtf8(e.what())));
  }
}

} // namespace distillery::gui
