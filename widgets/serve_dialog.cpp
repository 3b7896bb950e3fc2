#include "widgets/serve_dialog.h"

#include "core/base/errors.h"
#include "core/serve/serve_config.h"
#include "widgets/file_dialogs.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QVBoxLayout>

namespace distillery::gui {

nlohmann::json starterServeConfig() {
  // 24 random hex characters: a secret nobody guesses, still easy to paste into curl.
  QString secret;
  for (int i = 0; i < 3; ++i)
    secret += QStringLiteral("%1").arg(QRandomGenerator::system()->generate(), 8, 16, QLatin1Char('0'));
  return {{"keys",
           {{{"name", "student"}, {"key", secret.toStdString()}, {"budget", 100000}, {"rate_per_s", 20}, {"burst", 40}}}},
          {"price_per_1000", 0.5},
          {"currency", "USD"},
          {"output", {{"mode", "probs"}}}};
}

QString writeStarterServeConfig(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
    return QObject::tr("%1: cannot write (%2)").arg(path, file.errorString());
  file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
  file.write(QByteArray::fromStdString(starterServeConfig().dump(2) + "\n"));
  return file.error() == QFileDevice::NoError ? QString() : QObject::tr("%1: %2").arg(path, file.errorString());
}

ServeDialog::ServeDialog(const std::vector<distillery::RunRecord>& runs, int64_t current, const QString& storePath,
                         QWidget* parent)
    : QDialog(parent), storePath_(storePath) {
  setWindowTitle(tr("Serve Teacher"));

  runChoice_ = new QRadioButton(tr("Finished run"), this);
  runChoice_->setObjectName(QStringLiteral("runChoice"));
  runCombo_ = new QComboBox(this);
  runCombo_->setObjectName(QStringLiteral("teacherRunCombo"));
  for (const auto& run : runs) {
    // What loadServedModel can serve: a finished classifier that recorded its input.
    if (run.status != RunStatus::Finished || !run.summary.contains("input_shape")) continue;
    runCombo_->addItem(QStringLiteral("#%1 %2 (%3)")
                           .arg(run.id)
                           .arg(QString::fromStdString(run.name), QString::fromStdString(run.task)),
                       qint64(run.id));
    if (run.id == current) runCombo_->setCurrentIndex(runCombo_->count() - 1);
  }
  fileChoice_ = new QRadioButton(tr("TorchScript file"), this);
  fileChoice_->setObjectName(QStringLiteral("fileChoice"));
  fileEdit_ = new QLineEdit(this);
  fileEdit_->setObjectName(QStringLiteral("teacherFileEdit"));
  fileEdit_->setPlaceholderText(tr("model.pt (the serve config's \"input\" describes it)"));
  auto* browseModel = new QPushButton(tr("Browse…"), this);
  (runCombo_->count() > 0 ? runChoice_ : fileChoice_)->setChecked(true);
  connect(runCombo_, &QComboBox::activated, this, [this] { runChoice_->setChecked(true); });
  connect(fileEdit_, &QLineEdit::textEdited, this, [this] { fileChoice_->setChecked(true); });
  connect(browseModel, &QPushButton::clicked, this, [this] {
    const QString file = openFileName(this, tr("TorchScript teacher"), fileEdit_->text(), tr("TorchScript (*.pt *.pth)"));
    if (file.isEmpty()) return;
    fileEdit_->setText(file);
    fileChoice_->setChecked(true);
  });

  configEdit_ = new QLineEdit(this);
  configEdit_->setObjectName(QStringLiteral("configEdit"));
  configEdit_->setPlaceholderText(tr("serve.json: keys, budgets, price, output mode"));
  auto* browseConfig = new QPushButton(tr("Browse…"), this);
  connect(browseConfig, &QPushButton::clicked, this, [this] {
    const QString file = openFileName(this, tr("Serve config"), configEdit_->text(), tr("JSON (*.json)"));
    if (!file.isEmpty()) configEdit_->setText(file);
  });
  auto* newConfigButton = new QPushButton(tr("New config…"), this);
  newConfigButton->setObjectName(QStringLiteral("newConfigButton"));
  newConfigButton->setToolTip(tr("Write a starter config: one key with a random secret, probs mode"));
  connect(newConfigButton, &QPushButton::clicked, this, &ServeDialog::newConfig);

  hostEdit_ = new QLineEdit(QStringLiteral("127.0.0.1"), this);
  hostEdit_->setObjectName(QStringLiteral("hostEdit"));
  hostEdit_->setToolTip(tr("127.0.0.1: this machine only. The API has no TLS."));
  portSpin_ = new QSpinBox(this);
  portSpin_->setObjectName(QStringLiteral("portSpin"));
  portSpin_->setRange(0, 65535);
  portSpin_->setValue(0);
  portSpin_->setSpecialValueText(tr("0 (any free port)"));

  auto* runRow = new QHBoxLayout;
  runRow->addWidget(runChoice_);
  runRow->addWidget(runCombo_, 1);
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(fileChoice_);
  fileRow->addWidget(fileEdit_, 1);
  fileRow->addWidget(browseModel);
  auto* configRow = new QHBoxLayout;
  configRow->addWidget(configEdit_, 1);
  configRow->addWidget(browseConfig);
  configRow->addWidget(newConfigButton);

  auto* form = new QFormLayout;
  form->addRow(tr("Teacher:"), runRow);
  form->addRow(QString(), fileRow);
  form->addRow(tr("Serve config:"), configRow);
  form->addRow(tr("Host:"), hostEdit_);
  form->addRow(tr("Port:"), portSpin_);

  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("serveErrorLabel"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #b00020;"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Serve"));
  connect(buttons, &QDialogButtonBox::accepted, this, &ServeDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &ServeDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(error_);
  layout->addWidget(buttons);
  resize(640, sizeHint().height());
}

void ServeDialog::newConfig() {
  const QString path = saveFileName(this, tr("New serve config"), QStringLiteral("serve.json"), tr("JSON (*.json)"));
  if (path.isEmpty()) return;
  const QString why = writeStarterServeConfig(path);
  error_->setText(why);
  if (why.isEmpty()) configEdit_->setText(path);
}

ServeOptions ServeDialog::options() const {
  ServeOptions o;
  o.teacher = runChoice_->isChecked() ? QString::number(runCombo_->currentData().toLongLong()) : fileEdit_->text().trimmed();
  o.configPath = configEdit_->text().trimmed();
  o.storePath = storePath_;
  o.host = hostEdit_->text().trimmed();
  o.port = portSpin_->value();
  return o;
}

QString ServeDialog::problem() const {
  if (runChoice_->isChecked() && runCombo_->currentIndex() < 0)
    return tr("Teacher: the store has no finished classifier run; choose a TorchScript file.");
  if (fileChoice_->isChecked() && !QFileInfo(fileEdit_->text().trimmed()).isFile())
    return fileEdit_->text().trimmed().isEmpty()
               ? tr("Teacher: choose a TorchScript file.")
               : tr("%1: no such file (the TorchScript teacher)").arg(fileEdit_->text().trimmed());
  if (configEdit_->text().trimmed().isEmpty()) return tr("Serve config: choose a file, or write one with New config….");
  if (hostEdit_->text().trimmed().isEmpty()) return tr("Host: expected an address, e.g. 127.0.0.1.");
  // What the server would refuse at start, named as it names it ("serve.json: keys[0].budget: ...").
  try {
    const auto config = distillery::ServeConfig::fromJsonFile(configEdit_->text().trimmed().toStdString());
    if (fileChoice_->isChecked() && !config.input)
      return tr("%1: input: required for a TorchScript teacher (its shape, classes and preprocessing)")
          .arg(configEdit_->text().trimmed());
  } catch (const distillery::DistilleryError& e) {
    return QString::fromUtf8(e.what());
  }
  return {};
}

QString ServeDialog::errorText() const { return error_->text(); }

void ServeDialog::accept() {
  const QString why = problem();
  error_->setText(why);
  if (why.isEmpty()) QDialog::accept();
}

} // namespace distillery::gui
