#include "widgets/model_picker.h"

#include "core/errors.h"
#include "core/model_info.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace distillery::gui {

namespace {

// Pages of the stacked widget: the parameters each zoo family has.
enum Page { MlpPage, CnnPage, WidthPage, FixedPage };

Page pageFor(const QString& zoo) {
  try {
    switch (distillery::parseZooName(zoo.toStdString()).family) {
      case distillery::ZooArch::Family::Mlp: return MlpPage;
      case distillery::ZooArch::Family::Cnn: return CnnPage;
      case distillery::ZooArch::Family::MobileNetV2: return WidthPage;
      default: return FixedPage;
    }
  } catch (const std::exception&) {
    return FixedPage;
  }
}

QString zooTitle(const QString& zoo) {
  switch (pageFor(zoo)) {
    case MlpPage: return QObject::tr("%1 — fully connected").arg(zoo);
    case CnnPage: return QObject::tr("%1 — conv blocks + fc").arg(zoo);
    default: return zoo;
  }
}

} // namespace

std::vector<int> parseIntList(const QString& text, QString* error) {
  std::vector<int> values;
  const QStringList parts =
      text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
  for (const QString& part : parts) {
    bool ok = false;
    const int v = part.toInt(&ok);
    if (!ok || v <= 0) {
      if (error) *error = QObject::tr("'%1' is not a positive whole number").arg(part);
      return {};
    }
    values.push_back(v);
  }
  if (values.empty() && error) *error = QObject::tr("enter at least one width, e.g. 128 or 256,128");
  return values;
}

QString formatIntList(const std::vector<int>& values) {
  QStringList parts;
  for (int v : values) parts << QString::number(v);
  return parts.join(QStringLiteral(","));
}

QString humanCount(double value) {
  const double a = std::fabs(value);
  if (a >= 1e9) return QString::number(value / 1e9, 'f', 2) + u'G';
  if (a >= 1e6) return QString::number(value / 1e6, 'f', 2) + u'M';
  if (a >= 1e3) return QString::number(value / 1e3, 'f', 1) + u'k';
  return QString::number(value, 'f', 0);
}

ModelPicker::ModelPicker(QWidget* parent) : QWidget(parent) {
  zoo_ = new QComboBox(this);
  zoo_->setObjectName(QStringLiteral("zooCombo"));
  for (const std::string& name : distillery::zooModelNames()) {
    const QString zoo = QString::fromStdString(name);
    zoo_->addItem(zooTitle(zoo), zoo);
  }

  hidden_ = new QLineEdit(this);
  hidden_->setObjectName(QStringLiteral("hiddenEdit"));
  hidden_->setPlaceholderText(tr("e.g. 128 or 256,128"));
  hidden_->setToolTip(tr("Widths of the hidden layers, comma separated"));
  auto* mlpPage = new QWidget(this);
  auto* mlpForm = new QFormLayout(mlpPage);
  mlpForm->setContentsMargins(0, 0, 0, 0);
  mlpForm->addRow(tr("Hidden:"), hidden_);

  channels_ = new QLineEdit(this);
  channels_->setObjectName(QStringLiteral("channelsEdit"));
  channels_->setPlaceholderText(tr("e.g. 32,64"));
  channels_->setToolTip(tr("Output channels of each 3x3 conv block; each block halves height and width"));
  fc_ = new QSpinBox(this);
  fc_->setObjectName(QStringLiteral("fcSpin"));
  fc_->setRange(1, 65536);
  fc_->setToolTip(tr("Width of the fully connected layer before the classifier"));
  auto* cnnPage = new QWidget(this);
  auto* cnnForm = new QFormLayout(cnnPage);
  cnnForm->setContentsMargins(0, 0, 0, 0);
  cnnForm->addRow(tr("Channels:"), channels_);
  cnnForm->addRow(tr("FC width:"), fc_);

  width_ = new QDoubleSpinBox(this);
  width_->setObjectName(QStringLiteral("widthSpin"));
  width_->setRange(0.05, 4.0);
  width_->setSingleStep(0.25);
  width_->setDecimals(2);
  width_->setToolTip(tr("Width multiplier of every layer (0.5: the \"mobile_half\" of the KD benchmarks)"));
  auto* widthPage = new QWidget(this);
  auto* widthForm = new QFormLayout(widthPage);
  widthForm->setContentsMargins(0, 0, 0, 0);
  widthForm->addRow(tr("Width:"), width_);

  auto* fixedPage = new QLabel(tr("Fixed architecture: no size settings."), this);
  fixedPage->setStyleSheet(QStringLiteral("color: #555;"));

  pages_ = new QStackedWidget(this);
  pages_->addWidget(mlpPage);    // MlpPage
  pages_->addWidget(cnnPage);    // CnnPage
  pages_->addWidget(widthPage);  // WidthPage
  pages_->addWidget(fixedPage);  // FixedPage

  info_ = new QLabel(this);
  info_->setObjectName(QStringLiteral("modelInfoLabel"));
  info_->setWordWrap(true);
  info_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(zoo_);
  layout->addWidget(pages_);
  layout->addWidget(info_);

  setSpec(distillery::ModelSpec{});

  connect(zoo_, &QComboBox::currentIndexChanged, this, [this] {
    showPageFor(zoo_->currentData().toString());
    updateInfo();
  });
  connect(hidden_, &QLineEdit::textChanged, this, &ModelPicker::updateInfo);
  connect(channels_, &QLineEdit::textChanged, this, &ModelPicker::updateInfo);
  connect(fc_, &QSpinBox::valueChanged, this, &ModelPicker::updateInfo);
  connect(width_, &QDoubleSpinBox::valueChanged, this, &ModelPicker::updateInfo);
}

void ModelPicker::showPageFor(const QString& zoo) {
  const int index = pageFor(zoo);
  // A stacked widget is as tall as its tallest page; ignoring the hidden
  // pages' size lets the picker shrink to the page on show.
  for (int i = 0; i < pages_->count(); ++i)
    pages_->widget(i)->setSizePolicy(QSizePolicy::Preferred,
                                     i == index ? QSizePolicy::Preferred : QSizePolicy::Ignored);
  pages_->setCurrentIndex(index);
  pages_->adjustSize();
}

distillery::ModelSpec ModelPicker::spec() const {
  distillery::ModelSpec spec = last_;
  spec.zoo = zoo_->currentData().toString().toStdString();
  auto hidden = parseIntList(hidden_->text(), nullptr);
  if (!hidden.empty()) spec.hidden = std::move(hidden);
  auto channels = parseIntList(channels_->text(), nullptr);
  if (!channels.empty()) spec.channels = std::move(channels);
  spec.fc = fc_->value();
  spec.width = width_->value();
  return spec;
}

void ModelPicker::setSpec(const distillery::ModelSpec& spec) {
  last_ = spec;
  {
    const QSignalBlocker b1(zoo_), b2(hidden_), b3(channels_), b4(fc_), b5(width_);
    const QString zoo = QString::fromStdString(spec.zoo);
    int index = zoo_->findData(zoo);
    if (index < 0) { // a valid name the list does not offer, e.g. resnet26
      zoo_->addItem(zooTitle(zoo), zoo);
      index = zoo_->count() - 1;
    }
    zoo_->setCurrentIndex(index);
    showPageFor(zoo);
    hidden_->setText(formatIntList(spec.hidden));
    channels_->setText(formatIntList(spec.channels));
    fc_->setValue(spec.fc);
    width_->setValue(spec.width);
  }
  updateInfo();
}

void ModelPicker::updateInfo() {
  error_.clear();
  const Page page = pageFor(zoo_->currentData().toString());
  QString parseError;
  if (page == MlpPage) parseIntList(hidden_->text(), &parseError);
  if (page == CnnPage) parseIntList(channels_->text(), &parseError);
  if (!parseError.isEmpty()) {
    error_ = (page == MlpPage ? tr("hidden: ") : tr("channels: ")) + parseError;
  } else {
    try {
      const distillery::ModelInfo info = distillery::describeModel(spec(), 1, 28, 28, 10);
      info_->setText(tr("%1 parameters · %2 FLOPs per sample (forward)")
                         .arg(humanCount(double(info.params)), humanCount(info.flops_per_sample)));
      info_->setToolTip(tr("%L1 parameters, %L2 FLOPs").arg(info.params).arg(info.flops_per_sample, 0, 'f', 0));
    } catch (const distillery::ConfigError& e) {
      error_ = QString::fromUtf8(e.what());
    } catch (const std::exception& e) {
      error_ = QString::fromUtf8(e.what());
    }
  }
  if (!error_.isEmpty()) {
    info_->setText(error_);
    info_->setToolTip({});
  }
  info_->setStyleSheet(error_.isEmpty() ? QStringLiteral("color: #555;")
                                        : QStringLiteral("color: #c0392b;"));
  Q_EMIT changed();
}

} // namespace distillery::gui
