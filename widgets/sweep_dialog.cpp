#include "widgets/sweep_dialog.h"

#include "core/base/errors.h"
#include "core/config/sweep_spec.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace distillery::gui {

SweepDialog::SweepDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("New Sweep"));
  name_ = new QLineEdit(QStringLiteral("sweep"), this);
  name_->setObjectName(QStringLiteral("sweepName"));
  base_ = new QPlainTextEdit(this);
  base_->setObjectName(QStringLiteral("sweepBase"));
  base_->setLineWrapMode(QPlainTextEdit::NoWrap);
  base_->setToolTip(tr("The run config every grid point starts from (JSON, as for distillery-cli run)"));
  axes_ = new QTableWidget(0, 2, this);
  axes_->setObjectName(QStringLiteral("sweepAxes"));
  axes_->setHorizontalHeaderLabels({tr("Config key"), tr("Values")});
  axes_->horizontalHeader()->setStretchLastSection(true);
  axes_->horizontalHeader()->resizeSection(0, 200);
  axes_->verticalHeader()->hide();
  axes_->setToolTip(tr("Key: a dotted config path such as optim.lr, method.temperature, seed or student.\n"
                       "Values: comma-separated (0.1, 0.3, 1 or kd, dkd), or a JSON list for objects."));
  auto* add = new QPushButton(tr("Add Axis"), this);
  auto* remove = new QPushButton(tr("Remove Axis"), this);
  parallel_ = new QSpinBox(this);
  parallel_->setObjectName(QStringLiteral("sweepParallel"));
  parallel_->setRange(1, 16);
  parallel_->setToolTip(tr("How many runs execute at once"));
  count_ = new QLabel(this);
  count_->setObjectName(QStringLiteral("sweepCount"));
  count_->setWordWrap(true);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  start_ = buttons->addButton(tr("Start"), QDialogButtonBox::AcceptRole);
  start_->setObjectName(QStringLiteral("sweepStart"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* axisButtons = new QHBoxLayout;
  axisButtons->addWidget(add);
  axisButtons->addWidget(remove);
  axisButtons->addStretch(1);
  auto* form = new QFormLayout;
  form->addRow(tr("Name:"), name_);
  form->addRow(tr("Runs at once:"), parallel_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(new QLabel(tr("Grid axes (every combination becomes a run):"), this));
  layout->addWidget(axes_, 1);
  layout->addLayout(axisButtons);
  layout->addWidget(new QLabel(tr("Base config:"), this));
  layout->addWidget(base_, 2);
  layout->addWidget(count_);
  layout->addWidget(buttons);

  validateTimer_ = new QTimer(this);
  validateTimer_->setSingleShot(true);
  validateTimer_->setInterval(200); // once per pause in typing
  connect(validateTimer_, &QTimer::timeout, this, &SweepDialog::validate);
  auto later = [this] { validateTimer_->start(); };
  connect(name_, &QLineEdit::textChanged, this, later);
  connect(base_, &QPlainTextEdit::textChanged, this, later);
  connect(axes_, &QTableWidget::cellChanged, this, later);
  connect(add, &QPushButton::clicked, this, [this] { addAxis({}, {}); });
  connect(remove, &QPushButton::clicked, this, [this] {
    const int row = axes_->currentRow() >= 0 ? axes_->currentRow() : axes_->rowCount() - 1;
    if (row >= 0) axes_->removeRow(row);
    validate();
  });
  resize(720, 640);
  validate();
}

void SweepDialog::setBaseConfig(const std::string& configJson) {
  try {
    base_->setPlainText(QString::fromStdString(nlohmann::json::parse(configJson).dump(2)));
  } catch (const std::exception&) {
    base_->setPlainText(QString::fromStdString(configJson)); // validate() says what is wrong
  }
  validate();
}

void SweepDialog::setSweepName(const QString& name) {
  name_->setText(name);
  validate();
}

void SweepDialog::addAxis(const QString& key, const QString& values) {
  const int row = axes_->rowCount();
  axes_->insertRow(row);
  axes_->setItem(row, 0, new QTableWidgetItem(key));
  axes_->setItem(row, 1, new QTableWidgetItem(values));
  validate();
}

nlohmann::json SweepDialog::parseValues(const QString& text, const std::string& key) {
  const QString trimmed = text.trimmed();
  const std::string field = "grid." + key;
  if (trimmed.isEmpty()) throw distillery::ConfigError(field, "has no values; list them, e.g. 0.1, 0.3, 1");
  if (trimmed.startsWith(u'[')) {
    try {
      return nlohmann::json::parse(trimmed.toStdString());
    } catch (const nlohmann::json::exception& e) {
      throw distillery::ConfigError(field, std::string("is not a JSON list: ") + e.what());
    }
  }
  nlohmann::json values = nlohmann::json::array();
  for (const QString& part : trimmed.split(u',')) {
    const std::string item = part.trimmed().toStdString();
    if (item.empty()) throw distillery::ConfigError(field, "has an empty value between commas");
    // Numbers, true/false and null as JSON; anything else is a string.
    try {
      const nlohmann::json parsed = nlohmann::json::parse(item);
      values.push_back(parsed.is_primitive() ? parsed : nlohmann::json(item));
    } catch (const nlohmann::json::exception&) {
      values.push_back(item);
    }
  }
  return values;
}

nlohmann::json SweepDialog::sweepDocument() const {
  nlohmann::json doc = nlohmann::json::object();
  doc["name"] = name_->text().trimmed().toStdString();
  try {
    doc["base"] = nlohmann::json::parse(base_->toPlainText().toStdString());
  } catch (const nlohmann::json::exception& e) {
    throw distillery::ConfigError("base", std::string("is not valid JSON: ") + e.what());
  }
  nlohmann::json grid = nlohmann::json::object();
  for (int row = 0; row < axes_->rowCount(); ++row) {
    const QString key = axes_->item(row, 0) ? axes_->item(row, 0)->text().trimmed() : QString();
    const QString values = axes_->item(row, 1) ? axes_->item(row, 1)->text() : QString();
    if (key.isEmpty() && values.trimmed().isEmpty()) continue; // an empty row being typed into
    if (key.isEmpty()) throw distillery::ConfigError("grid", "row " + std::to_string(row + 1) + " has values but no key");
    if (grid.contains(key.toStdString()))
      throw distillery::ConfigError("grid." + key.toStdString(), "appears twice; put all its values in one row");
    grid[key.toStdString()] = parseValues(values, key.toStdString());
  }
  doc["grid"] = grid;
  return doc;
}

int SweepDialog::parallel() const { return parallel_->value(); }

void SweepDialog::validate() {
  validateTimer_->stop();
  runCount_ = 0;
  problem_.clear();
  bool teacher = false;
  try {
    const distillery::SweepSpec spec = distillery::parseSweep(sweepDocument());
    const distillery::SweepPlan plan = distillery::planSweep(spec); // checks every expanded config
    runCount_ = int(plan.runs.size());
    teacher = plan.teacher.has_value();
  } catch (const std::exception& e) {
    problem_ = QString::fromUtf8(e.what());
  }
  if (!problem_.isEmpty()) {
    count_->setText(problem_);
    count_->setStyleSheet(QStringLiteral("color: #c0392b;"));
  } else {
    QString text = runCount_ == 1 ? tr("1 run") : tr("%1 runs").arg(runCount_);
    if (teacher) text += tr(", after one shared teacher run trained for the sweep");
    count_->setText(text);
    count_->setStyleSheet(QString());
  }
  start_->setEnabled(problem_.isEmpty() && runCount_ > 0);
  start_->setText(runCount_ == 1 ? tr("Start 1 Run") : runCount_ > 1 ? tr("Start %1 Runs").arg(runCount_) : tr("Start"));
}

} // namespace distillery::gui
