#include "widgets/model_picker.h"

#include "core/base/errors.h"
#include "core/models/model_info.h"
#include "widgets/file_dialogs.h"
#include "widgets/model_card_worker.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStackedWidget>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace distillery::gui {

namespace {

// Pages of the stacked widget: the parameters each zoo family has, and the TorchScript file.
enum Page { MlpPage, CnnPage, WidthPage, FixedPage, ScriptPage };

const QString kTorchScript = QStringLiteral("torchscript");

Page pageFor(const QString& zoo) {
  if (zoo == kTorchScript) return ScriptPage;
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
    case ScriptPage: return QObject::tr("TorchScript file (.pt)…");
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
  zoo_->addItem(zooTitle(kTorchScript), kTorchScript);
  zoo_->setItemData(zoo_->count() - 1, tr("A model saved by torch.jit.save (torch.jit.trace or torch.jit.script)"),
                    Qt::ToolTipRole);

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

  scriptPath_ = new QLineEdit(this);
  scriptPath_->setObjectName(QStringLiteral("torchScriptEdit"));
  scriptPath_->setPlaceholderText(tr("path of a .pt file"));
  scriptPath_->setToolTip(tr("A TorchScript model (torch.jit.trace or torch.jit.script, then torch.jit.save); "
                             "it must take the dataset's images and give one logit per class"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  browse->setObjectName(QStringLiteral("torchScriptBrowse"));
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString file = openFileName(this, tr("TorchScript model"), scriptPath_->text(),
                                                      tr("TorchScript (*.pt *.pth);;All files (*)"));
    if (!file.isEmpty()) scriptPath_->setText(file);
  });
  auto* scriptPage = new QWidget(this);
  auto* scriptRow = new QHBoxLayout(scriptPage);
  scriptRow->setContentsMargins(0, 0, 0, 0);
  scriptRow->addWidget(scriptPath_, 1);
  scriptRow->addWidget(browse);

  pages_ = new QStackedWidget(this);
  pages_->addWidget(mlpPage);    // MlpPage
  pages_->addWidget(cnnPage);    // CnnPage
  pages_->addWidget(widthPage);  // WidthPage
  pages_->addWidget(fixedPage);  // FixedPage
  pages_->addWidget(scriptPage); // ScriptPage

  info_ = new QLabel(this);
  info_->setObjectName(QStringLiteral("modelInfoLabel"));
  info_->setWordWrap(true);
  info_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  card_ = new QLabel(this);
  card_->setObjectName(QStringLiteral("modelCardLabel"));
  card_->setWordWrap(true);
  card_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  card_->setStyleSheet(QStringLiteral("color: #555;"));
  layersButton_ = new QToolButton(this);
  layersButton_->setObjectName(QStringLiteral("layersButton"));
  layersButton_->setText(tr("Layers"));
  layersButton_->setCheckable(true);
  layersButton_->setArrowType(Qt::RightArrow);
  layersButton_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  layersButton_->setAutoRaise(true);
  layers_ = new QLabel(this);
  layers_->setObjectName(QStringLiteral("layersLabel"));
  layers_->setTextFormat(Qt::RichText);
  layers_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layers_->setVisible(false);
  connect(layersButton_, &QToolButton::toggled, this, [this](bool on) {
    layersButton_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    layers_->setVisible(on);
  });

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(zoo_);
  layout->addWidget(pages_);
  layout->addWidget(info_);
  layout->addWidget(card_);
  layout->addWidget(layersButton_);
  layout->addWidget(layers_);

  // The card's measurements run on their own thread; edits in quick
  // succession ask once, after a short pause.
  cardThread_ = new QThread(this);
  cardThread_->setObjectName(QStringLiteral("modelCardThread"));
  cardWorker_ = new ModelCardWorker;
  cardWorker_->moveToThread(cardThread_);
  connect(cardThread_, &QThread::finished, cardWorker_, &QObject::deleteLater);
  connect(cardWorker_, &ModelCardWorker::measured, this, &ModelPicker::showCard, Qt::QueuedConnection);
  cardThread_->start(QThread::LowPriority);
  cardTimer_ = new QTimer(this);
  cardTimer_->setSingleShot(true);
  cardTimer_->setInterval(400);
  connect(cardTimer_, &QTimer::timeout, this, &ModelPicker::requestCard);

  setSpec(distillery::ModelSpec{});

  connect(zoo_, &QComboBox::currentIndexChanged, this, [this] {
    showPageFor(zoo_->currentData().toString());
    updateInfo();
  });
  connect(hidden_, &QLineEdit::textChanged, this, &ModelPicker::updateInfo);
  connect(channels_, &QLineEdit::textChanged, this, &ModelPicker::updateInfo);
  connect(fc_, &QSpinBox::valueChanged, this, &ModelPicker::updateInfo);
  connect(width_, &QDoubleSpinBox::valueChanged, this, &ModelPicker::updateInfo);
  connect(scriptPath_, &QLineEdit::textChanged, this, &ModelPicker::updateInfo);
}

ModelPicker::~ModelPicker() {
  cardWorker_->cancel();
  cardThread_->quit();
  cardThread_->wait();
}

void ModelPicker::showPageFor(const QString& zoo) {
  const int index = pageFor(zoo);
  // A stacked widget is as tall as its tallest page; ignoring the hidden
  // pages' size lets the picker shrink to the page on show.
  for (int i = 0; i < pages_->count(); ++i)
    pages_->widget(i)->setSizePolicy(QSizePolicy::Preferred,
                                     i == index ? QSizePolicy::Preferred : QSizePolicy::Ignored);
  pages_->setCurrentIndex(index);
  // Never squeezed below the shown page's fields when the dialog is short.
  pages_->setMinimumHeight(pages_->widget(index)->sizeHint().height());
  pages_->adjustSize();
}

distillery::ModelSpec ModelPicker::spec() const {
  distillery::ModelSpec spec = last_;
  spec.zoo = zoo_->currentData().toString().toStdString();
  spec.torchscript.clear();
  if (spec.zoo == kTorchScript.toStdString()) {
    spec.torchscript = scriptPath_->text().trimmed().toStdString();
    return spec;
  }
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
    const QSignalBlocker b1(zoo_), b2(hidden_), b3(channels_), b4(fc_), b5(width_), b6(scriptPath_);
    const QString zoo = spec.isTorchScript() ? kTorchScript : QString::fromStdString(spec.zoo);
    if (spec.isTorchScript()) scriptPath_->setText(QString::fromStdString(spec.torchscript));
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
  if (page == ScriptPage && scriptPath_->text().trimmed().isEmpty())
    parseError = tr("choose a TorchScript file (.pt)");
  if (!parseError.isEmpty()) {
    error_ = (page == MlpPage ? tr("hidden: ") : page == CnnPage ? tr("channels: ") : QString()) + parseError;
  } else {
    try {
      const distillery::ModelInfo info = distillery::describeModel(
          spec(), cardInput_.channels, cardInput_.height, cardInput_.width, cardInput_.classes);
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
  // The rest of the card follows when measured; an unusable spec has none.
  ++cardTicket_;
  cardWorker_->supersede(cardTicket_);
  cardText_.clear();
  layers_->clear();
  card_->setVisible(error_.isEmpty());
  layersButton_->setVisible(error_.isEmpty());
  layers_->setVisible(error_.isEmpty() && layersButton_->isChecked());
  if (error_.isEmpty()) {
    card_->setText(latency_ ? tr("Measuring size and latency on %1…").arg(cardDevice_) : tr("Measuring size…"));
    cardTimer_->start();
  } else {
    cardTimer_->stop();
  }
  Q_EMIT changed();
}

void ModelPicker::setCardContext(const distillery::CardInput& input, const QString& device) {
  const bool same = input.channels == cardInput_.channels && input.height == cardInput_.height &&
                    input.width == cardInput_.width && input.classes == cardInput_.classes && device == cardDevice_;
  if (same) return;
  cardInput_ = input;
  cardDevice_ = device;
  updateInfo();
}

void ModelPicker::setComparison(const std::optional<distillery::ModelSpec>& teacher) {
  const auto key = [](const std::optional<distillery::ModelSpec>& s) {
    return s ? distillery::toJson(*s).dump() : std::string();
  };
  if (key(teacher) == key(comparison_)) return;
  comparison_ = teacher;
  if (error_.isEmpty()) updateInfo();
}

void ModelPicker::setLatencyEnabled(bool enabled) {
  if (enabled == latency_) return;
  latency_ = enabled;
  updateInfo();
}

void ModelPicker::requestCard() {
  if (!error_.isEmpty()) return;
  CardRequest request;
  request.ticket = cardTicket_;
  request.spec_json = QString::fromStdString(distillery::toJson(spec()).dump());
  if (comparison_) request.teacher_json = QString::fromStdString(distillery::toJson(*comparison_).dump());
  request.input = cardInput_;
  request.device = cardDevice_;
  request.latency = latency_;
  ModelCardWorker* worker = cardWorker_;
  QMetaObject::invokeMethod(worker, [worker, request] { worker->measure(request); }, Qt::QueuedConnection);
}

namespace {

QString milliseconds(double ms) {
  return ms < 10 ? QString::number(ms, 'f', 3) + QStringLiteral(" ms") : QString::number(ms, 'f', 1) + QStringLiteral(" ms");
}

QString bytesText(double bytes) {
  if (bytes >= 1024.0 * 1024.0) return QString::number(bytes / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MiB");
  if (bytes >= 1024.0) return QString::number(bytes / 1024.0, 'f', 1) + QStringLiteral(" KiB");
  return QString::number(bytes, 'f', 0) + QStringLiteral(" B");
}

} // namespace

void ModelPicker::showCard(quint64 ticket, const QString& cardJson, const QString& cardText, const QString& error) {
  if (ticket != cardTicket_) return; // an answer to an older question
  if (!error.isEmpty()) {
    card_->setText(tr("Card unavailable: %1").arg(error));
    cardText_.clear();
    Q_EMIT cardUpdated();
    return;
  }
  cardText_ = cardText;
  const QJsonObject c = QJsonDocument::fromJson(cardJson.toUtf8()).object();
  QStringList lines;
  lines << tr("Size on disk %1").arg(bytesText(c.value(QStringLiteral("size_bytes")).toDouble()));
  if (c.contains(QStringLiteral("latency_ms_batch1")))
    lines.last() += tr(" · latency on %1: %2 (batch 1), %3 (batch 128)")
                        .arg(c.value(QStringLiteral("device")).toString(),
                             milliseconds(c.value(QStringLiteral("latency_ms_batch1")).toDouble()),
                             c.contains(QStringLiteral("latency_ms_batch128"))
                                 ? milliseconds(c.value(QStringLiteral("latency_ms_batch128")).toDouble())
                                 : tr("not measured"));
  if (c.contains(QStringLiteral("teacher"))) {
    // Ratios are teacher / this model; below 1 they read better turned around.
    auto ratio = [&](const char* key, const QString& above, const QString& below) {
      const double r = c.value(QLatin1String(key)).toDouble();
      if (!(r > 0)) return QString();
      return (r >= 1 ? above : below).arg(r >= 1 ? r : 1.0 / r, 0, 'f', 2);
    };
    QStringList parts{ratio("compression", tr("%1× smaller"), tr("%1× larger")),
                      ratio("flops_ratio", tr("%1× fewer FLOPs"), tr("%1× more FLOPs")),
                      ratio("speedup_batch1", tr("%1× faster at batch 1"), tr("%1× slower at batch 1")),
                      ratio("speedup_batch128", tr("%1× faster at batch 128"), tr("%1× slower at batch 128"))};
    parts.removeAll(QString());
    lines << tr("Against %1: %2").arg(c.value(QStringLiteral("teacher")).toString(), parts.join(QStringLiteral(", ")));
  }
  card_->setText(lines.join(QLatin1Char('\n')));
  card_->setToolTip(cardText);

  QString rows;
  for (const QJsonValue& v : c.value(QStringLiteral("layers")).toArray()) {
    const QJsonObject l = v.toObject();
    const double flops = l.value(QStringLiteral("flops")).toDouble();
    rows += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td align=right>%4</td><td align=right>%5</td></tr>")
                .arg(l.value(QStringLiteral("name")).toString().toHtmlEscaped(),
                     l.value(QStringLiteral("kind")).toString().toHtmlEscaped(),
                     l.value(QStringLiteral("output")).toString().toHtmlEscaped(),
                     humanCount(l.value(QStringLiteral("params")).toDouble()),
                     flops > 0 ? humanCount(flops) : QStringLiteral("–"));
  }
  layers_->setText(QStringLiteral("<table cellspacing=0 cellpadding=2><tr><th align=left>%1</th><th align=left>%2</th>"
                                  "<th align=left>%3</th><th align=right>%4</th><th align=right>%5</th></tr>%6</table>")
                       .arg(tr("layer"), tr("kind"), tr("output"), tr("params"), tr("FLOPs"), rows));
  Q_EMIT cardUpdated();
}

} // namespace distillery::gui
