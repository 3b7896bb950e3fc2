#include "widgets/method_param_form.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include <algorithm>
#include <climits>
#include <cmath>

namespace distillery::gui {

namespace {

// Enough decimals to show the default and both bounds exactly; at least two.
int decimalsFor(const distillery::MethodParam& p) {
  int decimals = 2;
  for (double v : {p.default_value, p.min, p.max}) {
    if (v == 0.0 || !std::isfinite(v)) continue;
    for (int d = 0; d <= 6; ++d) {
      const double scaled = std::fabs(v) * std::pow(10.0, d);
      if (std::fabs(scaled - std::round(scaled)) < 1e-9 * std::max(1.0, scaled)) {
        decimals = std::max(decimals, d);
        break;
      }
      if (d == 6) decimals = 6;
    }
  }
  return std::min(decimals, 6);
}

double stepFor(const distillery::MethodParam& p) {
  const double span = p.max - p.min;
  if (!(span > 0) || !std::isfinite(span)) return 0.1;
  // A power of ten near 1/100 of the range: 0.01 for [0, 1], 0.1 for [0.1, 20].
  return std::pow(10.0, std::floor(std::log10(span / 100.0)));
}

int clampToInt(double v) {
  return int(std::clamp(std::round(v), double(INT_MIN), double(INT_MAX)));
}

} // namespace

MethodParamForm::MethodParamForm(QWidget* parent) : QWidget(parent) {
  form_ = new QFormLayout(this);
  form_->setContentsMargins(0, 0, 0, 0);
  empty_ = new QLabel(tr("This method has no parameters."), this);
  empty_->setStyleSheet(QStringLiteral("color: #555;"));
  form_->addRow(empty_);
}

void MethodParamForm::setMethod(const distillery::MethodInfo* method) {
  method_ = method;
  for (const Field& f : fields_) form_->removeRow(f.box); // deletes the label and box
  fields_.clear();

  if (method) {
    for (const distillery::MethodParam& p : method->params) {
      const QString name = QString::fromStdString(p.name);
      const QString help = QString::fromStdString(p.help);
      if (p.isText()) {
        auto* edit = new QLineEdit(QString::fromStdString(p.default_text), this);
        edit->setObjectName(QStringLiteral("param_") + name);
        edit->setPlaceholderText(tr("default: last feature stage"));
        edit->setToolTip(help);
        connect(edit, &QLineEdit::textChanged, this, &MethodParamForm::changed);
        auto* label = new QLabel(name + u':', this);
        label->setToolTip(help);
        form_->addRow(label, edit);
        fields_.push_back({p.name, edit});
        continue;
      }
      QAbstractSpinBox* box = nullptr;
      if (p.type == "integer") {
        auto* spin = new QSpinBox(this);
        spin->setRange(clampToInt(p.min), clampToInt(p.max));
        spin->setValue(clampToInt(p.default_value));
        connect(spin, &QSpinBox::valueChanged, this, &MethodParamForm::changed);
        box = spin;
      } else {
        auto* spin = new QDoubleSpinBox(this);
        spin->setDecimals(decimalsFor(p));
        spin->setRange(p.min, p.max);
        spin->setSingleStep(stepFor(p));
        spin->setValue(p.default_value);
        connect(spin, &QDoubleSpinBox::valueChanged, this, &MethodParamForm::changed);
        box = spin;
      }
      box->setObjectName(QStringLiteral("param_") + name);
      const QString range = tr("range %1 … %2, default %3")
                                .arg(p.min)
                                .arg(p.max)
                                .arg(p.default_value);
      box->setToolTip(help.isEmpty() ? range : help + QStringLiteral("\n") + range);
      auto* label = new QLabel(name + u':', this);
      label->setToolTip(box->toolTip());
      form_->addRow(label, box);
      fields_.push_back({p.name, box});
    }
  }
  empty_->setVisible(fields_.empty());
  Q_EMIT changed();
}

std::map<std::string, double> MethodParamForm::values() const {
  std::map<std::string, double> values;
  for (const Field& f : fields_) {
    if (auto* spin = qobject_cast<QSpinBox*>(f.box)) values[f.name] = spin->value();
    else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(f.box)) values[f.name] = dspin->value();
  }
  return values;
}

std::map<std::string, std::string> MethodParamForm::textValues() const {
  std::map<std::string, std::string> values;
  for (const Field& f : fields_)
    if (auto* edit = qobject_cast<QLineEdit*>(f.box)) values[f.name] = edit->text().trimmed().toStdString();
  return values;
}

void MethodParamForm::setTextValues(const std::map<std::string, std::string>& values) {
  for (const Field& f : fields_) {
    auto it = values.find(f.name);
    if (auto* edit = qobject_cast<QLineEdit*>(f.box); edit && it != values.end())
      edit->setText(QString::fromStdString(it->second));
  }
}

void MethodParamForm::setValues(const std::map<std::string, double>& values) {
  for (const Field& f : fields_) {
    auto it = values.find(f.name);
    if (it == values.end()) continue;
    if (auto* spin = qobject_cast<QSpinBox*>(f.box)) spin->setValue(clampToInt(it->second));
    else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(f.box)) dspin->setValue(it->second);
  }
}

QAbstractSpinBox* MethodParamForm::field(const std::string& name) const {
  for (const Field& f : fields_)
    if (f.name == name) return qobject_cast<QAbstractSpinBox*>(f.box);
  return nullptr;
}

} // namespace distillery::gui
