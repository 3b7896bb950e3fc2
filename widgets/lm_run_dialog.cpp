#include "widgets/run_on_group.h"
#include "widgets/lm_run_dialog.h"

#include "widgets/file_dialogs.h"

#include "core/data/data_probe.h"
#include "core/base/errors.h"
#include "core/methods/method_registry.h"
#include "core/training/run_preflight.h"
#include "core/store/run_store.h"
#include "widgets/fit_to_screen.h"
#include "widgets/run_dialog_frame.h"
#include "widgets/gpt_spec_form.h"
#include "widgets/method_param_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <exception>

namespace distillery::gui {

namespace {

// The teacher combo's data: a run id, or one of these.
constexpr qint64 kTrainNewTeacher = 0;
constexpr qint64 kNoTeacher = -1;

QSpinBox* spin(QWidget* parent, const char* name, int min, int max, const QString& tip) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(QString::fromLatin1(name));
  box->setRange(min, max);
  box->setToolTip(tip);
  return box;
}

QDoubleSpinBox* rateSpin(QWidget* parent, const char* name, const QString& tip) {
  auto* box = new QDoubleSpinBox(parent);
  box->setObjectName(QString::fromLatin1(name));
  box->setDecimals(6);
  box->setRange(1e-6, 10.0);
  box->setSingleStep(1e-4);
  box->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  box->setToolTip(tip);
  return box;
}

void selectOrAdd(QComboBox* combo, const QString& value) {
  int index = combo->findData(value);
  if (index < 0) {
    combo->addItem(value, value);
    index = combo->count() - 1;
  }
  combo->setCurrentIndex(index);
}

QHBoxLayout* pair(QWidget* a, const QString& label, QWidget* b, QWidget* parent) {
  auto* row = new QHBoxLayout;
  row->addWidget(a, 1);
  row->addWidget(new QLabel(label, parent));
  row->addWidget(b, 1);
  return row;
}

} // namespace

LmRunDialog::LmRunDialog(distillery::RunStore& store, QWidget* parent)
    : QDialog(parent), store_(store), base_(distillery::defaultLmConfig()) {
  setObjectName(QStringLiteral("lmRunDialog"));
  setWindowTitle(tr("New Language-Model Run"));

  std::vector<QWidget*> left{buildCorpusGroup(), buildTeacherGroup(store)};
  runOn_ = new RunOnGroup(this);
  std::vector<QWidget*> middle{buildStudentGroup(), buildTrainingGroup(), runOn_};
  error_ = runDialogErrorLabel(this, QStringLiteral("lmError"));
  QWidget* json_panel = buildJsonPanel();
  buttons_ = layOutRunDialog(this, left, middle, json_panel, error_, tr("Start"));

  // Every edit refreshes the JSON and the checks; setConfig() suppresses the storm.
  auto refresh = [this] { update(); };
  connect(runOn_, &RunOnGroup::changed, this, refresh);
  for (QLineEdit* e : {name_, corpus_}) connect(e, &QLineEdit::textChanged, this, refresh);
  for (QComboBox* c : {tokenizer_, teacher_, optimizer_, schedule_, device_})
    connect(c, &QComboBox::currentIndexChanged, this, refresh);
  for (QSpinBox* s : {maxBytes_, teacherSteps_, teacherBatch_, steps_, batch_, evalEvery_, evalTokens_, seed_,
                      logEvery_, threads_, checkpointEvery_})
    connect(s, &QSpinBox::valueChanged, this, refresh);
  for (QDoubleSpinBox* s : {valFraction_, teacherLr_, lr_, weightDecay_, checkpointMinutes_})
    connect(s, &QDoubleSpinBox::valueChanged, this, refresh);
  connect(selectBest_, &QCheckBox::toggled, this, refresh);
  connect(teacherSpec_, &GptSpecForm::changed, this, refresh);
  connect(studentSpec_, &GptSpecForm::changed, this, refresh);
  connect(params_, &MethodParamForm::changed, this, refresh);
  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    if (updating_) return;
    params_->setMethod(distillery::findMethod(method_->currentData().toString().toStdString())); // emits changed()
  });

  setConfig(base_);
  resizeWithinScreen(this, QSize(1180, 760));
}

LmRunDialog::~LmRunDialog() = default;

QWidget* LmRunDialog::buildCorpusGroup() {
  auto* group = new QGroupBox(tr("Run and corpus"), this);
  auto* form = new QFormLayout(group);
  name_ = new QLineEdit(group);
  name_->setObjectName(QStringLiteral("lmName"));
  corpus_ = new QLineEdit(group);
  corpus_->setObjectName(QStringLiteral("lmCorpus"));
  corpus_->setToolTip(tr("A UTF-8 text file, or a folder of them (corpus.path)"));
  tokenizer_ = new QComboBox(group);
  tokenizer_->setObjectName(QStringLiteral("lmTokenizer"));
  tokenizer_->addItem(tr("char (code points of the corpus)"), QStringLiteral("char"));
  tokenizer_->addItem(tr("byte (256 tokens)"), QStringLiteral("byte"));
  valFraction_ = new QDoubleSpinBox(group);
  valFraction_->setObjectName(QStringLiteral("lmValFraction"));
  valFraction_->setRange(0.0, 0.5);
  valFraction_->setDecimals(3);
  valFraction_->setSingleStep(0.05);
  valFraction_->setToolTip(tr("Share of the corpus's blocks held out for validation (corpus.val_fraction)"));
  maxBytes_ = spin(group, "lmMaxBytes", 0, INT_MAX, tr("Read only the corpus's first N bytes (corpus.max_bytes; 0: all)"));
  maxBytes_->setSpecialValueText(tr("all"));
  maxBytes_->setSingleStep(100000);
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Tokenizer:"), tokenizer_);
  form->addRow(tr("Validation:"), pair(valFraction_, tr("max bytes"), maxBytes_, group));
  return group;
}

QWidget* LmRunDialog::buildTeacherGroup(distillery::RunStore& store) {
  auto* group = new QGroupBox(tr("Teacher"), this);
  auto* form = new QFormLayout(group);
  teacher_ = new QComboBox(group);
  teacher_->setObjectName(QStringLiteral("lmTeacher"));
  teacher_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  teacher_->setMinimumContentsLength(24);
  teacher_->setToolTip(tr("Finished language-model runs whose context covers the student's and whose tokenizer "
                          "matches are offered"));
  try {
    for (distillery::RunRecord& run : store.runs())
      if (run.task == "lm" && run.status == distillery::RunStatus::Finished) finishedRuns_.push_back(std::move(run));
  } catch (const std::exception& e) {
    teacher_->setToolTip(tr("Could not read the store: %1").arg(QString::fromUtf8(e.what())));
  }
  teacherSpec_ = new GptSpecForm(group);
  teacherSpec_->setObjectName(QStringLiteral("lmTeacherSpec"));
  teacherSteps_ = spin(group, "lmTeacherSteps", 1, 100'000'000, tr("Optimiser steps of the teacher (teacher.train.steps)"));
  teacherBatch_ = spin(group, "lmTeacherBatch", 1, 1 << 20, tr("teacher.train.batch_size"));
  teacherLr_ = rateSpin(group, "lmTeacherLr", tr("teacher.train.optim.lr"));
  form->addRow(tr("Source:"), teacher_);
  form->addRow(teacherSpec_);
  form->addRow(tr("Steps:"), pair(teacherSteps_, tr("batch"), teacherBatch_, group));
  form->addRow(tr("Learning rate:"), teacherLr_);
  return group;
}

QWidget* LmRunDialog::buildStudentGroup() {
  auto* group = new QGroupBox(tr("Student and method"), this);
  auto* form = new QFormLayout(group);
  studentSpec_ = new GptSpecForm(group);
  studentSpec_->setObjectName(QStringLiteral("lmStudentSpec"));
  method_ = new QComboBox(group);
  method_->setObjectName(QStringLiteral("lmMethod"));
  for (const distillery::MethodInfo* m : distillery::methodsForTask("lm"))
    method_->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(m->name), QString::fromStdString(m->title)),
                     QString::fromStdString(m->name));
  params_ = new MethodParamForm(group);
  params_->setObjectName(QStringLiteral("lmMethodParams"));
  form->addRow(studentSpec_);
  form->addRow(tr("Method:"), method_);
  form->addRow(params_);
  return group;
}

QWidget* LmRunDialog::buildTrainingGroup() {
  auto* group = new QGroupBox(tr("Training"), this);
  auto* form = new QFormLayout(group);
  steps_ = spin(group, "lmSteps", 1, 100'000'000, tr("Optimiser steps of the student (steps)"));
  batch_ = spin(group, "lmBatch", 1, 1 << 20, tr("Windows per step (batch_size)"));
  optimizer_ = new QComboBox(group);
  optimizer_->setObjectName(QStringLiteral("lmOptimizer"));
  for (const char* o : {"adam", "sgd"}) optimizer_->addItem(QString::fromLatin1(o), QString::fromLatin1(o));
  lr_ = rateSpin(group, "lmLr", tr("optim.lr"));
  schedule_ = new QComboBox(group);
  schedule_->setObjectName(QStringLiteral("lmSchedule"));
  for (const char* o : {"constant", "cosine"}) schedule_->addItem(QString::fromLatin1(o), QString::fromLatin1(o));
  weightDecay_ = new QDoubleSpinBox(group);
  weightDecay_->setObjectName(QStringLiteral("lmWeightDecay"));
  weightDecay_->setDecimals(6);
  weightDecay_->setRange(0.0, 1.0);
  weightDecay_->setSingleStep(1e-4);
  weightDecay_->setToolTip(tr("optim.weight_decay"));
  evalEvery_ = spin(group, "lmEvalEvery", 1, 100'000'000,
                    tr("A validation pass every N steps, and at step 0 and the end (eval_every)"));
  evalTokens_ = spin(group, "lmEvalTokens", 0, INT_MAX, tr("Validation tokens per pass (eval_tokens; 0: the whole split)"));
  evalTokens_->setSpecialValueText(tr("all"));
  evalTokens_->setSingleStep(4096);
  seed_ = spin(group, "lmSeed", 0, INT_MAX, tr("seed"));
  device_ = new QComboBox(group);
  device_->setObjectName(QStringLiteral("lmDevice"));
  for (const char* d : {"auto", "cpu", "cuda"}) device_->addItem(QString::fromLatin1(d), QString::fromLatin1(d));
  logEvery_ = spin(group, "lmLogEvery", 1, 1 << 20, tr("Record the training loss every N steps (log_every)"));
  threads_ = spin(group, "lmThreads", 0, 1024, tr("Intra-op threads (threads; 0: LibTorch's default)"));
  selectBest_ = new QCheckBox(tr("end with the best validation weights"), group);
  selectBest_->setObjectName(QStringLiteral("lmSelectBest"));
  selectBest_->setToolTip(tr("select_best"));
  checkpointEvery_ = spin(group, "lmCheckpointEvery", 0, INT_MAX,
                          tr("A checkpoint every N steps (checkpoint_every; 0: after every validation pass)"));
  checkpointMinutes_ = new QDoubleSpinBox(group);
  checkpointMinutes_->setObjectName(QStringLiteral("lmCheckpointMinutes"));
  checkpointMinutes_->setRange(0.0, 1e6);
  checkpointMinutes_->setToolTip(tr("...and at the latest this many minutes after the last one (checkpoint_minutes)"));
  form->addRow(tr("Steps:"), pair(steps_, tr("batch"), batch_, group));
  form->addRow(tr("Optimizer:"), pair(optimizer_, tr("schedule"), schedule_, group));
  form->addRow(tr("Learning rate:"), pair(lr_, tr("decay"), weightDecay_, group));
  form->addRow(tr("Evaluate every:"), pair(evalEvery_, tr("tokens"), evalTokens_, group));
  form->addRow(tr("Seed:"), pair(seed_, tr("device"), device_, group));
  form->addRow(tr("Log every:"), pair(logEvery_, tr("threads"), threads_, group));
  form->addRow(tr("Checkpoint every:"), pair(checkpointEvery_, tr("or minutes"), checkpointMinutes_, group));
  form->addRow(QString(), selectBest_);
  return group;
}

QWidget* LmRunDialog::buildJsonPanel() {
  auto* group = new QGroupBox(tr("Config JSON"), this);
  auto* layout = new QVBoxLayout(group);
  json_ = new QPlainTextEdit(group);
  json_->setObjectName(QStringLiteral("lmJson"));
  json_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  json_->setLineWrapMode(QPlainTextEdit::NoWrap);
  json_->setToolTip(tr("Edit any key here, then Apply JSON to fill the form from it"));
  auto* apply = new QPushButton(tr("Apply JSON"), group);
  apply->setObjectName(QStringLiteral("lmApplyJson"));
  connect(apply, &QPushButton::clicked, this, [this] { applyJsonText(json_->toPlainText(), tr("JSON")); });
  auto* load = new QPushButton(tr("Load JSON…"), group);
  load->setObjectName(QStringLiteral("lmLoadJson"));
  connect(load, &QPushButton::clicked, this, [this] {
    const QString file = openFileName(this, tr("Load run config"), {}, tr("JSON (*.json);;All files (*)"));
    if (file.isEmpty()) return;
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) {
      error_->setText(tr("%1: %2").arg(file, f.errorString()));
      return;
    }
    applyJsonText(QString::fromUtf8(f.readAll()), file);
  });
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(apply);
  buttons->addWidget(load);
  buttons->addStretch(1);
  layout->addWidget(json_, 1);
  layout->addLayout(buttons);
  group->setMinimumWidth(200);
  return group;
}

distillery::RunConfig LmRunDialog::config() const {
  nlohmann::json j = base_.toJson();
  j["name"] = name_->text().trimmed().toStdString();
  j["corpus"] = {{"path", corpus_->text().trimmed().toStdString()},
                 {"tokenizer", tokenizer_->currentData().toString().toStdString()},
                 {"val_fraction", valFraction_->value()},
                 {"max_bytes", maxBytes_->value()}};
  const qint64 teacher = teacher_->currentData().toLongLong();
  if (teacher > 0) {
    j["teacher"] = {{"run", teacher}};
  } else if (teacher == kNoTeacher) {
    j.erase("teacher");
  } else {
    nlohmann::json optim = distillery::toJson(base_.lm.teacher.train_optim);
    optim["lr"] = teacherLr_->value();
    nlohmann::json spec = distillery::toJson(teacherSpec_->spec());
    spec["train"] = {{"steps", teacherSteps_->value()}, {"batch_size", teacherBatch_->value()}, {"optim", optim}};
    j["teacher"] = spec;
  }
  j["student"] = distillery::toJson(studentSpec_->spec());
  nlohmann::json method = {{"name", method_->currentData().toString().toStdString()}};
  const distillery::MethodInfo* info = params_->method();
  for (const auto& [key, value] : params_->values()) {
    const distillery::MethodParam* p = info ? info->param(key) : nullptr;
    method[key] = p && p->type == "integer" ? nlohmann::json(int64_t(value)) : nlohmann::json(value);
  }
  j["method"] = method;
  j["steps"] = steps_->value();
  j["batch_size"] = batch_->value();
  nlohmann::json optim = distillery::toJson(base_.optim);
  optim["name"] = optimizer_->currentData().toString().toStdString();
  optim["lr"] = lr_->value();
  optim["schedule"] = schedule_->currentData().toString().toStdString();
  optim["weight_decay"] = weightDecay_->value();
  if (optim["name"] == "adam") optim.erase("momentum");
  j["optim"] = optim;
  j["eval_every"] = evalEvery_->value();
  j["eval_tokens"] = evalTokens_->value();
  j["seed"] = seed_->value();
  j["device"] = device_->currentData().toString().toStdString();
  j["log_every"] = logEvery_->value();
  j["threads"] = threads_->value();
  j["select_best"] = selectBest_->isChecked();
  j["checkpoint_every"] = checkpointEvery_->value();
  j["checkpoint_minutes"] = checkpointMinutes_->value();
  return distillery::RunConfig::fromJson(j); // the same checks the engine makes
}

void LmRunDialog::setConfig(const distillery::RunConfig& c) {
  base_ = c;
  updating_ = true;
  name_->setText(QString::fromStdString(c.name));
  corpus_->setText(QString::fromStdString(c.lm.corpus.path));
  selectOrAdd(tokenizer_, QString::fromStdString(c.lm.corpus.tokenizer));
  valFraction_->setValue(c.lm.corpus.val_fraction);
  maxBytes_->setValue(int(std::min<int64_t>(c.lm.corpus.max_bytes, INT_MAX)));
  const distillery::LmTeacherSource& t = c.lm.teacher;
  // A teacher trained on the way keeps its spec in the form even while a run is picked.
  const distillery::LmTeacherSource spec_source =
      t.kind == distillery::LmTeacherSource::Kind::Zoo ? t : distillery::defaultLmConfig().lm.teacher;
  teacherSpec_->setSpec(spec_source.model);
  teacherSteps_->setValue(int(std::min<int64_t>(spec_source.train_steps, 100'000'000)));
  teacherBatch_->setValue(spec_source.train_batch_size);
  teacherLr_->setValue(spec_source.train_optim.lr);
  studentSpec_->setSpec(c.lm.student);
  method_->setCurrentIndex(std::max(0, method_->findData(QString::fromStdString(c.method.name))));
  params_->setMethod(distillery::findMethod(method_->currentData().toString().toStdString()));
  params_->setValues(c.method.params);
  steps_->setValue(int(std::min<int64_t>(c.lm.steps, 100'000'000)));
  batch_->setValue(c.batch_size);
  selectOrAdd(optimizer_, QString::fromStdString(c.optim.name));
  lr_->setValue(c.optim.lr);
  selectOrAdd(schedule_, QString::fromStdString(c.optim.schedule));
  weightDecay_->setValue(c.optim.weight_decay);
  evalEvery_->setValue(int(std::min<int64_t>(c.lm.eval_every, 100'000'000)));
  evalTokens_->setValue(int(std::min<int64_t>(c.lm.eval_tokens, INT_MAX)));
  seed_->setValue(int(std::min<uint64_t>(c.seed, uint64_t(INT_MAX))));
  selectOrAdd(device_, QString::fromStdString(c.device));
  logEvery_->setValue(c.log_every);
  threads_->setValue(c.threads);
  selectBest_->setChecked(c.select_best);
  checkpointEvery_->setValue(int(std::min<int64_t>(c.checkpoint_every, INT_MAX)));
  checkpointMinutes_->setValue(c.checkpoint_minutes);
  teacherRunsKey_.clear(); // the offered runs follow the student and tokenizer just set
  updateTeacherRuns();
  updating_ = false;
  update();
}

void LmRunDialog::updateTeacherRuns() {
  // What a teacher run is checked against: the student's context and the tokenizer.
  distillery::RunConfig wanted = base_;
  wanted.task = "lm";
  wanted.lm.student = studentSpec_->spec();
  wanted.lm.corpus.tokenizer = tokenizer_->currentData().toString().toStdString();
  const std::string key = std::to_string(wanted.lm.student.context) + "|" + wanted.lm.corpus.tokenizer;
  // Keep the current choice (a run picked in the form, or the config's teacher source).
  const qint64 current = teacherRunsKey_.empty()
                             ? (base_.lm.teacher.kind == distillery::LmTeacherSource::Kind::Run ? base_.lm.teacher.run_id
                                : base_.lm.teacher.kind == distillery::LmTeacherSource::Kind::None ? kNoTeacher
                                                                                                   : kTrainNewTeacher)
                             : teacher_->currentData().toLongLong();
  if (key == teacherRunsKey_) return;
  teacherRunsKey_ = key;
  const bool blocked = teacher_->blockSignals(true);
  teacher_->clear();
  teacher_->addItem(tr("Train a new GPT first (below)"), QVariant::fromValue<qint64>(kTrainNewTeacher));
  teacher_->addItem(tr("No teacher (method none: the student alone)"), QVariant::fromValue<qint64>(kNoTeacher));
  int hidden = 0;
  for (const distillery::RunRecord& run : finishedRuns_) {
    const std::string why = distillery::teacherRunMismatch(run, wanted, distillery::DataProbe{});
    if (!why.empty() && run.id != current) {
      ++hidden;
      continue;
    }
    QString text = tr("Run #%1 %2 (%3)")
                       .arg(run.id)
                       .arg(QString::fromStdString(run.name))
                       .arg(QString::fromStdString(run.summary.value("model", std::string())));
    if (!why.empty()) text += tr(" — cannot teach this student");
    teacher_->addItem(text, QVariant::fromValue<qint64>(run.id));
    if (!why.empty()) teacher_->setItemData(teacher_->count() - 1, QString::fromStdString(why), Qt::ToolTipRole);
  }
  if (current > 0 && teacher_->findData(QVariant::fromValue<qint64>(current)) < 0)
    teacher_->addItem(tr("Run #%1 (not a finished LM run in this store)").arg(current), QVariant::fromValue<qint64>(current));
  teacher_->setCurrentIndex(std::max(0, teacher_->findData(QVariant::fromValue<qint64>(current))));
  teacher_->setItemData(0, hidden ? tr("%n finished LM run(s) cannot teach this student (context or tokenizer)", nullptr, hidden)
                                  : QString(),
                        Qt::ToolTipRole);
  teacher_->blockSignals(blocked);
}

void LmRunDialog::update() {
  if (updating_) return;
  updateTeacherRuns();
  const bool trainNew = teacher_->currentData().toLongLong() == kTrainNewTeacher;
  for (QWidget* w : std::initializer_list<QWidget*>{teacherSpec_, teacherSteps_, teacherBatch_, teacherLr_})
    w->setEnabled(trainNew);
  QString problem;
  try {
    const distillery::RunConfig c = config();
    json_->setPlainText(QString::fromStdString(c.toJson().dump(2)));
    distillery::preflightRun(c, &store_, distillery::PreflightDepth::Quick);
    // Data-parallel LM runs: the engine's own checks of the placed config speak.
    problem = placementError(c, runOn_->placement(), store_);
  } catch (const std::exception& e) {
    problem = QString::fromUtf8(e.what());
  }
  error_->setText(problem);
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}

QString LmRunDialog::error() const { return error_->text(); }

std::vector<qint64> LmRunDialog::offeredTeacherRuns() const {
  std::vector<qint64> ids;
  for (int i = 0; i < teacher_->count(); ++i)
    if (teacher_->itemData(i).toLongLong() > 0) ids.push_back(teacher_->itemData(i).toLongLong());
  return ids;
}

void LmRunDialog::accept() {
  update();
  if (!error_->text().isEmpty()) return;
  try { // the teacher's vocabulary against this corpus's: only when the run is about to start
    distillery::preflightRun(config(), &store_, distillery::PreflightDepth::Full);
  } catch (const std::exception& e) {
    error_->setText(QString::fromUtf8(e.what()));
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(false);
    return;
  }
  rememberPlacement(runOn_->placement());
  QDialog::accept();
}

RunPlacement LmRunDialog::placement() const { return runOn_->placement(); }

void LmRunDialog::setPlacement(const RunPlacement& placement) { runOn_->setPlacement(placement); }

void LmRunDialog::applyJsonText(const QString& text, const QString& origin) {
  try {
    const distillery::RunConfig c = distillery::RunConfig::fromJsonText(text.toStdString());
    if (!c.isLm()) throw distillery::ConfigError("task", "is \"" + c.task + "\"; this dialog makes task \"lm\" runs");
    setConfig(c);
  } catch (const std::exception& e) {
    // The form keeps its state; only the message changes.
    error_->setText(tr("%1: not a valid language-model config: %2").arg(origin, QString::fromUtf8(e.what())));
  }
}

} // namespace distillery::gui
