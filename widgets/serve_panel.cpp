#include "widgets/serve_panel.h"

#include "core/base/errors.h"
#include "core/export/series_decimation.h"
#include "widgets/file_dialogs.h"
#include "widgets/run_colors.h"
#include "widgets/serve_traffic_model.h"

#include <QApplication>
#include <QAreaSeries>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QThread>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace distillery::gui {

namespace {

// One steady clock for every panel: the model's rates and the chart's time axis.
double steadyNow() {
  static QElapsedTimer clock = [] {
    QElapsedTimer t;
    t.start();
    return t;
  }();
  return double(clock.nsecsElapsed()) * 1e-9;
}

QString parametersOf(const nlohmann::json& entry, const char* nameKey) {
  QStringList parts;
  for (const auto& [k, v] : entry.items())
    if (k != nameKey && k != "transforms")
      parts << QStringLiteral("%1=%2").arg(QString::fromStdString(k),
                                           QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump()));
  return parts.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(parts.join(QStringLiteral(", ")));
}

// Rounds up to a 1-2-5 step, so an axis does not twitch with every poll.
double niceCeiling(double top) {
  const double step = std::pow(10.0, std::floor(std::log10(top)));
  return top <= step ? step : top <= 2 * step ? 2 * step : top <= 5 * step ? 5 * step : 10 * step;
}

// values[i] at x = i + 1 (the key's (i+1)-th query), min/max per pixel column.
QList<QPointF> decimatedByQuery(const std::vector<double>& values, double x1, int columns) {
  distillery::XYSeries raw;
  raw.x.reserve(values.size());
  raw.y = values;
  for (size_t i = 0; i < values.size(); ++i) raw.x.push_back(double(i + 1));
  const distillery::XYSeries line = distillery::decimateMinMax(raw, 0, x1, columns); // skips NaN
  QList<QPointF> xy;
  xy.reserve(qsizetype(line.size()));
  for (size_t i = 0; i < line.size(); ++i) xy.append(QPointF(line.x[i], line.y[i]));
  return xy;
}

// The upper edge of a band over each run of NaN values (query i at x = i + 1), 0 elsewhere.
QList<QPointF> nanBands(const std::vector<double>& values, double top) {
  QList<QPointF> xy;
  size_t i = 0;
  while (i < values.size()) {
    if (!std::isnan(values[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < values.size() && std::isnan(values[i])) ++i;
    const double a = double(start) + 0.5, b = double(i) + 0.5;
    xy << QPointF(a, 0) << QPointF(a, top) << QPointF(b, top) << QPointF(b, 0);
  }
  return xy;
}

} // namespace

QString describeServedTeacher(const QString& teacherJson) {
  const auto t = nlohmann::json::parse(teacherJson.toStdString(), nullptr, false);
  if (t.is_object() && t.contains("run")) return QObject::tr("run #%1").arg(QString::fromStdString(t["run"].dump()));
  if (t.is_object() && t.contains("torchscript") && t["torchscript"].is_string())
    return QFileInfo(QString::fromStdString(t["torchscript"].get<std::string>())).fileName();
  return teacherJson;
}

QString describeServeOutput(const nlohmann::json& output) {
  const std::string mode = output.value("mode", std::string("probs"));
  QString text = QString::fromStdString(mode) + parametersOf(output, "mode");
  QStringList defenses;
  if (output.contains("transforms"))
    for (const auto& t : output["transforms"])
      defenses << QString::fromStdString(t.value("name", std::string("?"))) + parametersOf(t, "name");
  text += defenses.isEmpty() ? QObject::tr("; no defenses")
                             : QObject::tr("; defenses: %1").arg(defenses.join(QStringLiteral(" → ")));
  return text;
}

ServePanel::ServePanel(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<distillery::gui::ServeStarted>();
  model_ = new ServeTrafficModel(this);

  state_ = new QLabel(tr("No server running. Run ▸ Serve Teacher… starts one."), this);
  state_->setObjectName(QStringLiteral("serveState"));
  urlEdit_ = new QLineEdit(this);
  urlEdit_->setObjectName(QStringLiteral("serveUrl"));
  urlEdit_->setReadOnly(true);
  urlEdit_->setMinimumWidth(260);
  urlEdit_->setMaximumWidth(360);
  urlEdit_->setPlaceholderText(tr("not listening"));
  copyButton_ = new QPushButton(tr("Copy URL"), this);
  copyButton_->setEnabled(false);
  connect(copyButton_, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(url_); });
  stopButton_ = new QPushButton(style()->standardIcon(QStyle::SP_BrowserStop), tr("Stop server"), this);
  stopButton_->setObjectName(QStringLiteral("stopServerButton"));
  stopButton_->setEnabled(false);
  connect(stopButton_, &QPushButton::clicked, this, &ServePanel::stop);

  served_ = new QLabel(this);
  served_->setObjectName(QStringLiteral("serveServed"));
  served_->setWordWrap(true);
  served_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("serveError"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #b00020;"));
  error_->hide();

  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("trafficTable"));
  table_->setModel(model_);
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(ServeTrafficModel::KeyColumn, QHeaderView::ResizeToContents);
  // The refusal counts are short numbers; the detectors' verdict is a phrase: both as wide as their text.
  for (int column = ServeTrafficModel::Status400Column; column <= ServeTrafficModel::OtherColumn; ++column)
    table_->horizontalHeader()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(ServeTrafficModel::VerdictColumn, QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setMinimumSectionSize(48);

  chart_ = new QChart;
  chart_->setTitle(tr("Queries a second per key (last %1 s)").arg(ServeTrafficModel::kHistoryS));
  chart_->legend()->setAlignment(Qt::AlignRight);
  chart_->setMargins(QMargins(4, 4, 4, 4));
  xAxis_ = new QValueAxis;
  xAxis_->setTitleText(tr("seconds ago"));
  xAxis_->setRange(-ServeTrafficModel::kHistoryS, 0);
  xAxis_->setLabelFormat(QStringLiteral("%.0f"));
  yAxis_ = new QValueAxis;
  yAxis_->setTitleText(tr("queries/s"));
  yAxis_->setRange(0, 1);
  yAxis_->setLabelFormat(QStringLiteral("%.0f"));
  chart_->addAxis(xAxis_, Qt::AlignBottom);
  chart_->addAxis(yAxis_, Qt::AlignLeft);
  auto* chartView = new QChartView(chart_, this);
  chartView->setObjectName(QStringLiteral("trafficChart"));
  chartView->setRenderHint(QPainter::Antialiasing);

  // The detectors (issue 18): their own thread, so a long log never stalls the GUI.
  detectorThread_ = new QThread(this);
  detectorThread_->setObjectName(QStringLiteral("serve-detectors"));
  detector_ = new ServeDetectorWorker;
  detector_->moveToThread(detectorThread_);
  connect(detector_, &ServeDetectorWorker::updated, this, &ServePanel::onDetectorUpdate);
  connect(detector_, &ServeDetectorWorker::referenceChanged, this, &ServePanel::onDetectorReference);
  connect(detector_, &ServeDetectorWorker::failed, this, &ServePanel::setError);
  detectorThread_->start();

  reference_ = new QLabel(tr("Detectors: PRADA and the shift score start with a server."), this);
  reference_->setObjectName(QStringLiteral("detectorReference"));
  reference_->setWordWrap(true);
  reference_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  pickData_ = new QPushButton(tr("Shift against data…"), this);
  pickData_->setObjectName(QStringLiteral("pickShiftData"));
  pickData_->setToolTip(tr("The task's IDX image folder (train-images-idx3-ubyte, t10k-images-idx3-ubyte)"));
  pickData_->setEnabled(false);
  connect(pickData_, &QPushButton::clicked, this, &ServePanel::pickShiftData);

  detectorChart_ = new QChart;
  detectorChart_->setTitle(tr("Detector scores against the key's queries (shaded: too few distances for W)"));
  detectorChart_->legend()->setAlignment(Qt::AlignBottom);
  detectorChart_->setMargins(QMargins(4, 4, 4, 4));
  queryAxis_ = new QValueAxis;
  queryAxis_->setTitleText(tr("the key's answered queries"));
  queryAxis_->setLabelFormat(QStringLiteral("%.0f"));
  queryAxis_->setRange(0, 100);
  wAxis_ = new QValueAxis;
  wAxis_->setTitleText(tr("PRADA W (solid)"));
  wAxis_->setRange(0, 1);
  wAxis_->setTickCount(6);
  wAxis_->setLabelFormat(QStringLiteral("%.1f"));
  shiftAxis_ = new QValueAxis;
  shiftAxis_->setTitleText(tr("shift score (dashed)"));
  shiftAxis_->setRange(0, 5);
  shiftAxis_->setTickCount(6);
  shiftAxis_->setLabelFormat(QStringLiteral("%.1f"));
  detectorChart_->addAxis(queryAxis_, Qt::AlignBottom);
  detectorChart_->addAxis(wAxis_, Qt::AlignLeft);
  detectorChart_->addAxis(shiftAxis_, Qt::AlignRight);
  const auto thresholdLine = [&](const QString& name, QValueAxis* y, Qt::PenStyle style) {
    auto* line = new QLineSeries;
    line->setName(name);
    QPen pen(QColor(0x55, 0x55, 0x55));
    pen.setWidthF(1.2);
    pen.setStyle(style);
    line->setPen(pen);
    detectorChart_->addSeries(line);
    line->attachAxis(queryAxis_);
    line->attachAxis(y);
    return line;
  };
  deltaLine_ = thresholdLine(tr("delta %1").arg(detector_->delta()), wAxis_, Qt::SolidLine);
  thresholdLine_ = thresholdLine(tr("shift threshold %1").arg(detector_->shiftThreshold()), shiftAxis_, Qt::DashLine);
  auto* detectorView = new QChartView(detectorChart_, this);
  detectorView->setObjectName(QStringLiteral("detectorChart"));
  detectorView->setRenderHint(QPainter::Antialiasing);
  connect(detectorChart_, &QChart::plotAreaChanged, this, [this] { updateDetectorChart(); });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] { updateDetectorChart(); });

  auto* top = new QHBoxLayout;
  top->addWidget(state_);
  top->addWidget(urlEdit_, 1);
  top->addWidget(copyButton_);
  top->addStretch(1);
  top->addWidget(stopButton_);

  auto* charts = new QSplitter(Qt::Horizontal, this);
  charts->addWidget(chartView);
  charts->addWidget(detectorView);
  charts->setChildrenCollapsible(false);
  charts->setStretchFactor(0, 2);
  charts->setStretchFactor(1, 3);
  charts->setSizes({500, 760});
  auto* detectorRow = new QHBoxLayout;
  detectorRow->addWidget(reference_, 1);
  detectorRow->addWidget(pickData_);
  auto* chartArea = new QWidget(this);
  auto* chartLayout = new QVBoxLayout(chartArea);
  chartLayout->setContentsMargins(0, 0, 0, 0);
  chartLayout->addLayout(detectorRow);
  chartLayout->addWidget(charts, 1);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(chartArea);
  // The table holds a few keys; the chart gets the height left.
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 3);
  split->setSizes({230, 400});
  split->setChildrenCollapsible(false);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(served_);
  layout->addWidget(error_);
  layout->addWidget(split, 1);

  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, &ServePanel::pollNow);
}

ServePanel::~ServePanel() {
  stopAndWait();
  detectorThread_->quit();
  detectorThread_->wait();
  delete detector_; // its thread has ended: safe here
}

bool ServePanel::start(const ServeOptions& options) {
  if (thread_) return false;
  setError({});
  url_.clear();
  urlEdit_->clear();
  served_->clear();
  state_->setText(tr("Loading the teacher…"));
  storePath_ = options.storePath;
  worker_ = std::make_unique<ServeWorker>(options);
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("serve"));
  worker_->moveToThread(thread_);
  connect(thread_, &QThread::started, worker_.get(), &ServeWorker::run);
  connect(worker_.get(), &ServeWorker::listening, this, &ServePanel::onListening);
  connect(worker_.get(), &ServeWorker::failed, this, &ServePanel::onFailed);
  connect(worker_.get(), &ServeWorker::finished, this, &ServePanel::onFinished);
  stopButton_->setEnabled(true);
  thread_->start();
  return true;
}

void ServePanel::stop() {
  if (!worker_) return;
  worker_->stop();
  state_->setText(tr("Stopping (requests in progress finish)…"));
  stopButton_->setEnabled(false);
}

void ServePanel::stopAndWait() {
  if (!thread_) return;
  worker_->stop();
  thread_->quit(); // takes effect once run() returns
  thread_->wait();
  onFinished();
}

void ServePanel::onListening(const ServeStarted& started) {
  url_ = started.url;
  urlEdit_->setText(url_);
  copyButton_->setEnabled(true);
  state_->setText(tr("Listening on"));
  const auto& c = started.config;
  served_->setText(tr("Teacher: %1 · output: %2 · %3 %4 per 1,000 queries · log: %5")
                       .arg(describeServedTeacher(started.teacher), describeServeOutput(c.output))
                       .arg(c.price_per_1000)
                       .arg(QString::fromStdString(c.currency), started.logPath));
  try {
    model_->open(started.logPath, c);
  } catch (const distillery::StoreError& e) {
    setError(QString::fromUtf8(e.what()));
    return;
  }
  for (auto& [key, series] : series_) chart_->removeSeries(series); // deletes them
  series_.clear();
  keyColors_.clear();
  // The detectors start over on this log.
  scores_.clear();
  updateDetectorChart();
  detectorPollPending_ = true;
  QMetaObject::invokeMethod(
      detector_,
      [w = detector_, log = started.logPath, teacher = started.teacher, store = storePath_] { w->open(log, teacher, store); },
      Qt::QueuedConnection);
  pollNow();
  timer_->start();
  Q_EMIT listening(url_);
}

void ServePanel::onFailed(const QString& message) {
  setError(message);
  Q_EMIT failed(message);
}

void ServePanel::onFinished() {
  if (!thread_) return;
  thread_->quit();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  worker_.reset();
  timer_->stop();
  if (model_->isOpen()) pollNow(); // the last requests before the stop
  model_->close();
  state_->setText(url_.isEmpty() ? tr("Not serving.") : tr("Stopped; it listened on"));
  stopButton_->setEnabled(false);
  Q_EMIT finished();
}

void ServePanel::setError(const QString& message) {
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
}

QString ServePanel::errorText() const { return error_->text(); }

void ServePanel::pollNow() {
  try {
    model_->poll(steadyNow());
  } catch (const distillery::StoreError& e) {
    setError(QString::fromUtf8(e.what()));
    return;
  }
  updateChart();
  if (!detectorPollPending_) {
    detectorPollPending_ = true;
    QMetaObject::invokeMethod(detector_, &ServeDetectorWorker::poll, Qt::QueuedConnection);
  }
}

void ServePanel::updateChart() {
  const double now = steadyNow();
  double top = 1;
  // In the table's order (the config's keys first), so colours and legend match it.
  for (int row = 0; row + 1 < model_->rowCount(); ++row) {
    const QString key = model_->data(model_->index(row, ServeTrafficModel::KeyColumn)).toString();
    if (key == ServeTrafficModel::noKeyName()) continue; // never answered: always 0
    const auto history = model_->rateHistory().find(key);
    if (history == model_->rateHistory().end()) continue;
    const auto& points = history->second;
    QLineSeries*& series = series_[key];
    if (!series) {
      series = new QLineSeries;
      series->setName(key);
      QPen pen(runColor(colorOf(key))); // stays with its key as keys appear
      pen.setWidthF(2);
      series->setPen(pen);
      chart_->addSeries(series);
      series->attachAxis(xAxis_);
      series->attachAxis(yAxis_);
    }
    // One point per poll (120 at most): fewer than the chart's pixel columns, so no decimation.
    QList<QPointF> xy;
    xy.reserve(qsizetype(points.size()));
    for (const auto& p : points) {
      xy.append(QPointF(p.t - now, p.rate));
      top = std::max(top, p.rate);
    }
    series->replace(xy);
  }
  const double nice = niceCeiling(top);
  yAxis_->setRange(0, nice);
  yAxis_->setTickCount(6); // steps of nice / 5: 0.2, 0.4, 1, 2, ...
  yAxis_->setLabelFormat(nice < 5 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
}

int ServePanel::colorOf(const QString& key) {
  const auto it = keyColors_.find(key);
  if (it != keyColors_.end()) return it->second;
  const int next = int(keyColors_.size()) + 1;
  keyColors_[key] = next;
  return next;
}

QString ServePanel::detectorReference() const { return reference_->text(); }

void ServePanel::onDetectorReference(const QString& description, bool hasShift) {
  reference_->setText(description);
  pickData_->setEnabled(true);
  pickData_->setText(hasShift ? tr("Other data…") : tr("Shift against data…"));
  shiftAxis_->setVisible(hasShift);
  thresholdLine_->setVisible(hasShift);
}

void ServePanel::pickShiftData() {
  const QString folder = existingDirectory(this, tr("The task's IDX image folder"), QString());
  if (folder.isEmpty()) return;
  bool ok = false;
  const QString dataset = QInputDialog::getItem(this, tr("Dataset"), tr("Which IDX image set is it?"),
                                                {QStringLiteral("fashion-mnist"), QStringLiteral("mnist")}, 0, false, &ok);
  if (!ok) return;
  rememberDialogFolder(folder);
  QMetaObject::invokeMethod(
      detector_, [w = detector_, folder, dataset] { w->setReferenceFolder(folder, dataset); }, Qt::QueuedConnection);
}

void ServePanel::onDetectorUpdate(const DetectorUpdate& update) {
  detectorPollPending_ = false;
  if (update.restart) scores_.clear();
  if (update.keys.isEmpty() && !update.restart) return;
  for (const KeyDetectorScores& k : update.keys) {
    KeyScores& s = scores_[k.key];
    // Points arrive in order; a gap or overlap means the worker started over without saying so.
    s.w.resize(size_t(k.first), std::numeric_limits<double>::quiet_NaN());
    s.w.insert(s.w.end(), k.w.begin(), k.w.end());
    if (!k.shift.isEmpty()) {
      s.shift.resize(size_t(k.first), std::numeric_limits<double>::quiet_NaN());
      s.shift.insert(s.shift.end(), k.shift.begin(), k.shift.end());
    } else if (update.restart) {
      s.shift.clear();
    }
    model_->setDetectorScores(k);
  }
  updateDetectorChart();
  Q_EMIT detectorsUpdated();
}

QStringList ServePanel::detectorKeys() const {
  QStringList keys;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows()) {
    const QString key = model_->data(model_->index(index.row(), ServeTrafficModel::KeyColumn)).toString();
    if (scores_.count(key)) keys << key;
  }
  if (keys.isEmpty()) // nothing selected: every key with scores, in the table's order
    for (int row = 0; row + 1 < model_->rowCount(); ++row) {
      const QString key = model_->data(model_->index(row, ServeTrafficModel::KeyColumn)).toString();
      if (scores_.count(key)) keys << key;
    }
  return keys;
}

const QLineSeries* ServePanel::detectorSeries(const QString& key, const QString& which) const {
  const auto it = lines_.find(key);
  if (it == lines_.end()) return nullptr;
  return which == QStringLiteral("W") ? it->second.w : which == QStringLiteral("shift") ? it->second.shift : nullptr;
}

void ServePanel::updateDetectorChart() {
  const QStringList keys = detectorKeys();
  // Lines of keys no longer shown go; those of new keys come.
  for (auto it = lines_.begin(); it != lines_.end();) {
    if (keys.contains(it->first)) {
      ++it;
      continue;
    }
    for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(it->second.w),
                                    static_cast<QAbstractSeries*>(it->second.shift),
                                    static_cast<QAbstractSeries*>(it->second.gap)}) {
      detectorChart_->removeSeries(series);
      delete series;
    }
    it = lines_.erase(it);
  }
  double queries = 20;
  double shiftTop = detector_->shiftThreshold() * 1.5;
  for (const QString& key : keys) {
    const KeyScores& s = scores_.at(key);
    queries = std::max(queries, double(s.w.size()));
    for (double v : s.shift)
      if (std::isfinite(v)) shiftTop = std::max(shiftTop, v);
  }
  // Qt's nice numbers: 511 queries give 0-600 in steps of 100, not 0-1000.
  queryAxis_->setRange(0, queries);
  queryAxis_->applyNiceNumbers();
  const double x1 = queryAxis_->max();
  shiftAxis_->setRange(0, niceCeiling(shiftTop * 1.05));
  const int columns = std::max(50, int(detectorChart_->plotArea().width()));
  for (const QString& key : keys) {
    KeyLines& l = lines_[key];
    if (!l.w) {
      const QColor colour = runColor(colorOf(key));
      l.gap = new QAreaSeries(new QLineSeries);
      l.gap->setName(tr("%1: too few queries for W").arg(key));
      QColor fill = colour;
      fill.setAlpha(40);
      l.gap->setBrush(fill);
      l.gap->setPen(Qt::NoPen);
      l.w = new QLineSeries;
      l.w->setName(key); // W solid, shift dashed: the axes say so
      QPen pen(colour);
      pen.setWidthF(2);
      l.w->setPen(pen);
      l.shift = new QLineSeries;
      l.shift->setName(tr("%1 shift").arg(key));
      pen.setStyle(Qt::DashLine);
      pen.setWidthF(1.6);
      l.shift->setPen(pen);
      detectorChart_->addSeries(l.gap);
      detectorChart_->addSeries(l.w);
      detectorChart_->addSeries(l.shift);
      for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(l.gap), static_cast<QAbstractSeries*>(l.w)}) {
        series->attachAxis(queryAxis_);
        series->attachAxis(wAxis_);
      }
      l.shift->attachAxis(queryAxis_);
      l.shift->attachAxis(shiftAxis_);
      // One legend entry per key; the title explains the bands.
      for (QAbstractSeries* series : {static_cast<QAbstractSeries*>(l.gap), static_cast<QAbstractSeries*>(l.shift)})
        for (QLegendMarker* marker : detectorChart_->legend()->markers(series)) marker->setVisible(false);
    }
    const KeyScores& s = scores_.at(key);
    l.w->replace(decimatedByQuery(s.w, x1, columns));
    l.shift->replace(decimatedByQuery(s.shift, x1, columns));
    l.shift->setVisible(!s.shift.empty());
    // W is undefined until enough distances exist: a shaded band, never a line at 0.
    const QList<QPointF> bands = nanBands(s.w, 1.0);
    l.gap->upperSeries()->replace(bands);
    l.gap->setVisible(!bands.isEmpty());
  }
  deltaLine_->replace({QPointF(0, detector_->delta()), QPointF(x1, detector_->delta())});
  thresholdLine_->replace({QPointF(0, detector_->shiftThreshold()), QPointF(x1, detector_->shiftThreshold())});
}

} // namespace distillery::gui
