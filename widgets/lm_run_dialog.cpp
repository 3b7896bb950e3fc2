#include "widgets/lm_run_dialog.h"

#include "core/method_registry.h"
#include "core/run_store.h"
#include "widgets/method_param_form.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <exception>

namespace distillery::gui {

LmRunDialog::LmRunDialog(distillery::RunStore& store, QWidget* parent)
    : QDialog(parent), base_(distillery::defaultLmConfig()) {
  setObjectName(QStringLiteral("lmRunDialog"));
  setWindowTitle(tr("New Language-Model Run"));

  name_ = new QLineEdit(QString::fromStdString(base_.name), this);
  name_->setObjectName(QStringLiteral("lmName"));
  corpus_ = new QLineEdit(QString::fromStdString(base_.lm.corpus.path), this);
  corpus_->setObjectName(QStringLiteral("lmCorpus"));
  corpus_->setToolTip(tr("A UTF-8 text file, or a folder of them"));
  tokenizer_ = new QComboBox(this);
  tokenizer_->setObjectName(QStringLiteral("lmTokenizer"));
  tokenizer_->addItem(tr("char (code points of the corpus)"), QStringLiteral("char"));
  tokenizer_->addItem(tr("byte (256 tokens)"), QStringLiteral("byte"));

  // The teacher: a new GPT trained first (the default's), or a finished LM run.
  teacher_ = new QComboBox(this);
  teacher_->setObjectName(QStringLiteral("lmTeacher"));
  teacher_->addItem(tr("Train a new teacher: %1, %2 steps")
                        .arg(QString::fromStdString(distillery::describe(base_.lm.teacher.model)))
                        .arg(base_.lm.teacher.train_steps),
                    QVariant::fromValue<qint64>(0));
  try {
    for (const auto& run : store.runs())
      if (run.task == "lm" && run.status == distillery::RunStatus::Finished)
        teacher_->addItem(tr("Run #%1 %2 (%3)")
                              .arg(run.id)
                              .arg(QString::fromStdString(run.name))
                              .arg(QString::fromStdString(run.summary.value("model", std::string()))),
                          QVariant::fromValue<qint64>(run.id));
  } catch (const std::exception&) {
    // An unreadable store leaves only the "train a new teacher" choice.
  }

  method_ = new QComboBox(this);
  method_->setObjectName(QStringLiteral("lmMethod"));
  for (const distillery::MethodInfo* m : distillery::methodsForTask("lm"))
    method_->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(m->name), QString::fromStdString(m->title)),
                     QString::fromStdString(m->name));
  method_->setCurrentIndex(std::max(0, method_->findData(QString::fromStdString(base_.method.name))));
  params_ = new MethodParamForm(this);
  params_->setObjectName(QStringLiteral("lmMethodParams"));
  params_->setMethod(distillery::findMethod(base_.method.name));
  params_->setValues(base_.method.params);

  steps_ = new QSpinBox(this);
  steps_->setObjectName(QStringLiteral("lmSteps"));
  steps_->setRange(1, 10'000'000);
  steps_->setValue(int(base_.lm.steps));
  seed_ = new QSpinBox(this);
  seed_->setObjectName(QStringLiteral("lmSeed"));
  seed_->setRange(0, 1'000'000);

  json_ = new QPlainTextEdit(this);
  json_->setObjectName(QStringLiteral("lmJson"));
  json_->setReadOnly(true);
  json_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("lmError"));
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #c0392b;"));
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Start"));
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* form = new QFormLayout;
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Tokenizer:"), tokenizer_);
  form->addRow(tr("Teacher:"), teacher_);
  form->addRow(tr("Student:"), new QLabel(QString::fromStdString(distillery::describe(base_.lm.student)), this));
  form->addRow(tr("Method:"), method_);
  form->addRow(QString(), params_);
  form->addRow(tr("Steps:"), steps_);
  form->addRow(tr("Seed:"), seed_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(json_, 1);
  layout->addWidget(error_);
  layout->addWidget(buttons_);

  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    params_->setMethod(distillery::findMethod(method_->currentData().toString().toStdString()));
    update();
  });
  connect(params_, &MethodParamForm::changed, this, &LmRunDialog::update);
  for (QLineEdit* e : {name_, corpus_}) connect(e, &QLineEdit::textChanged, this, &LmRunDialog::update);
  for (QComboBox* c : {tokenizer_, teacher_}) connect(c, &QComboBox::currentIndexChanged, this, &LmRunDialog::update);
  for (QSpinBox* s : {steps_, seed_}) connect(s, &QSpinBox::valueChanged, this, &LmRunDialog::update);
  resize(620, 680);
  update();
}

distillery::RunConfig LmRunDialog::config() const {
  nlohmann::json j = base_.toJson();
  j["name"] = name_->text().trimmed().toStdString();
  j["corpus"]["path"] = corpus_->text().trimmed().toStdString();
  j["corpus"]["tokenizer"] = tokenizer_->currentData().toString().toStdString();
  const qint64 teacher_run = teacher_->currentData().toLongLong();
  if (teacher_run > 0) j["teacher"] = {{"run", teacher_run}};
  nlohmann::json method = {{"name", method_->currentData().toString().toStdString()}};
  const distillery::MethodInfo* info = params_->method();
  for (const auto& [key, value] : params_->values()) {
    const distillery::MethodParam* p = info ? info->param(key) : nullptr;
    method[key] = p && p->type == "integer" ? nlohmann::json(int64_t(value)) : nlohmann::json(value);
  }
  j["method"] = method;
  j["steps"] = steps_->value();
  j["seed"] = seed_->value();
  return distillery::RunConfig::fromJson(j); // the same checks the engine makes
}

QString LmRunDialog::error() const { return error_->text(); }

void LmRunDialog::update() {
  try {
    json_->setPlainText(QString::fromStdString(config().toJson().dump(2)));
    error_->clear();
  } catch (const std::exception& e) {
    error_->setText(QString::fromUtf8(e.what()));
  }
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(error_->text().isEmpty());
}

} // namespace distillery::gui
