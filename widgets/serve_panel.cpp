#include "widgets/serve_panel.h"

#include "core/base/errors.h"
#include "widgets/run_colors.h"
#include "widgets/serve_traffic_model.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
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

  auto* top = new QHBoxLayout;
  top->addWidget(state_);
  top->addWidget(urlEdit_, 1);
  top->addWidget(copyButton_);
  top->addStretch(1);
  top->addWidget(stopButton_);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(chartView);
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

ServePanel::~ServePanel() { stopAndWait(); }

bool ServePanel::start(const ServeOptions& options) {
  if (thread_) return false;
  setError({});
  url_.clear();
  urlEdit_->clear();
  served_->clear();
  state_->setText(tr("Loading the teacher…"));
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
      QPen pen(runColor(int64_t(series_.size()))); // stays with its key as keys appear
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
  // Round the axis up to a 1-2-5 step, so it does not twitch with every poll.
  const double step = std::pow(10.0, std::floor(std::log10(top)));
  const double nice = top <= step ? step : top <= 2 * step ? 2 * step : top <= 5 * step ? 5 * step : 10 * step;
  yAxis_->setRange(0, nice);
  yAxis_->setTickCount(6); // steps of nice / 5: 0.2, 0.4, 1, 2, ...
  yAxis_->setLabelFormat(nice < 5 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
}

} // namespace distillery::gui
