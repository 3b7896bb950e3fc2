#include "widgets/hyperparam_view.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QCursor>
#include <QHBoxLayout>
#include <QLabel>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace distillery::gui {

namespace {
constexpr qint64 kSelectedRuns = -1;
}

HyperparamView::HyperparamView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  setWindowTitle(tr("Hyperparameters"));
  source_ = new QComboBox(this);
  source_->setObjectName(QStringLiteral("hyperparamSource"));
  source_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  x_ = new QComboBox(this);
  x_->setObjectName(QStringLiteral("hyperparamX"));
  x_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  x_->setToolTip(tr("A config key; the keys whose value differs between the runs come first"));
  y_ = new QComboBox(this);
  y_->setObjectName(QStringLiteral("hyperparamY"));
  y_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  y_->setToolTip(tr("A figure of the runs' summaries"));
  logX_ = new QCheckBox(tr("Log x"), this);
  logX_->setObjectName(QStringLiteral("hyperparamLogX"));
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("hyperparamNote"));
  note_->setStyleSheet(QStringLiteral("color: #666666;"));

  chart_ = new QChart;
  chart_->legend()->hide();
  series_ = new QScatterSeries;
  series_->setMarkerSize(10);
  chart_->addSeries(series_);
  chartView_ = new QChartView(chart_, this);
  chartView_->setRenderHint(QPainter::Antialiasing);
  chartView_->setMinimumSize(480, 320);

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Runs:"), this));
  bar->addWidget(source_);
  bar->addSpacing(12);
  bar->addWidget(new QLabel(tr("x:"), this));
  bar->addWidget(x_);
  bar->addWidget(logX_);
  bar->addSpacing(12);
  bar->addWidget(new QLabel(tr("y:"), this));
  bar->addWidget(y_);
  bar->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(chartView_, 1);
  layout->addWidget(note_);

  connect(source_, &QComboBox::activated, this, [this] {
    loadRuns();
    fillKeys();
    redraw();
  });
  connect(x_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  connect(y_, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
  connect(logX_, &QCheckBox::toggled, this, [this] { redraw(); });
  connect(series_, &QScatterSeries::hovered, this, [this](const QPointF& p, bool state) {
    if (!state) return;
    // The run under the pointer: the nearest point (several runs may share an x).
    const distillery::HyperparamPoint* best = nullptr;
    double bestDistance = 0;
    for (const auto& point : scatter_.points) {
      const double d = std::hypot(point.x - p.x(), point.y - p.y());
      if (!best || d < bestDistance) best = &point, bestDistance = d;
    }
    if (best)
      QToolTip::showText(QCursor::pos(), QStringLiteral("%1\n%2 = %3\n%4 = %5")
                                             .arg(QString::fromStdString(best->label), QString::fromStdString(scatter_.x_key),
                                                  QString::fromStdString(best->x_text), QString::fromStdString(scatter_.y_metric))
                                             .arg(best->y, 0, 'g', 5));
  });
  fillSources();
  resize(860, 560);
}

void HyperparamView::fillSources() {
  const qint64 current = source_->count() ? source_->currentData().toLongLong() : kSelectedRuns;
  source_->clear();
  source_->addItem(tr("Selected runs (%1)").arg(selected_.size()), kSelectedRuns);
  try {
    for (const auto& [id, name] : store_.sweeps())
      source_->addItem(tr("Sweep %1 (#%2)").arg(QString::fromStdString(name)).arg(id), QVariant::fromValue<qint64>(id));
  } catch (const distillery::DistilleryError& e) {
    note_->setText(tr("Store: %1").arg(QString::fromUtf8(e.what())));
  }
  source_->setCurrentIndex(std::max(0, source_->findData(QVariant::fromValue<qint64>(current))));
}

void HyperparamView::loadRuns() {
  runs_.clear();
  const qint64 source = source_->currentData().toLongLong();
  try {
    for (distillery::RunRecord& run : store_.runs()) {
      const bool wanted = source == kSelectedRuns ? selected_.contains(run.id) : run.sweep_id == source;
      // A sweep's shared teacher is a run of the sweep, but not a point of it.
      if (wanted && !(source != kSelectedRuns && run.task == "train" && run.name.size() > 8 &&
                      run.name.compare(run.name.size() - 8, 8, "/teacher") == 0))
        runs_.push_back(std::move(run));
    }
  } catch (const distillery::DistilleryError& e) {
    note_->setText(tr("Store: %1").arg(QString::fromUtf8(e.what())));
  }
  std::sort(runs_.begin(), runs_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
}

void HyperparamView::fillKeys() {
  const QString x = x_->currentText(), y = y_->currentText();
  const distillery::HyperparamKeys keys = distillery::hyperparamKeys(runs_);
  const QSignalBlocker bx(x_), by(y_);
  x_->clear();
  y_->clear();
  for (const std::string& k : keys.config_keys) x_->addItem(QString::fromStdString(k));
  for (const std::string& k : keys.metrics) y_->addItem(QString::fromStdString(k));
  // Keep the user's choice while it still varies across these runs;
  // otherwise the first key that does, and the best accuracy.
  const int xAt = x_->findText(x);
  x_->setCurrentIndex(xAt >= 0 && size_t(xAt) < keys.varying ? xAt : 0);
  int yAt = y_->findText(y);
  if (yAt < 0) yAt = y_->findText(QStringLiteral("best_val_accuracy"));
  if (yAt < 0) yAt = y_->findText(QStringLiteral("val_accuracy"));
  y_->setCurrentIndex(std::max(0, yAt));
}

void HyperparamView::setSelectedRuns(const QList<int64_t>& runIds) {
  selected_ = runIds;
  fillSources();
  source_->setCurrentIndex(0);
  reload();
}

bool HyperparamView::showSweep(int64_t sweepId) {
  fillSources();
  const int at = source_->findData(QVariant::fromValue<qint64>(sweepId));
  if (at < 0) return false;
  source_->setCurrentIndex(at);
  reload();
  return true;
}

bool HyperparamView::setAxes(const std::string& xKey, const std::string& yMetric) {
  const int x = x_->findText(QString::fromStdString(xKey)), y = y_->findText(QString::fromStdString(yMetric));
  if (x < 0 || y < 0) return false;
  const QSignalBlocker bx(x_), by(y_);
  x_->setCurrentIndex(x);
  y_->setCurrentIndex(y);
  redraw();
  return true;
}

void HyperparamView::reload() {
  loadRuns();
  fillKeys();
  redraw();
}

void HyperparamView::redraw() {
  for (QAbstractAxis* axis : chart_->axes()) {
    chart_->removeAxis(axis);
    delete axis;
  }
  scatter_ = distillery::hyperparamScatter(runs_, x_->currentText().toStdString(), y_->currentText().toStdString());
  QList<QPointF> points;
  bool positive = true;
  for (const auto& p : scatter_.points) {
    points.append(QPointF(p.x, p.y));
    positive = positive && p.x > 0;
  }
  series_->replace(points);

  logX_->setEnabled(scatter_.x_numeric && positive && !points.isEmpty());
  double xMin = 0, xMax = 1, yMin = 0, yMax = 1;
  if (!points.isEmpty()) {
    xMin = xMax = points.front().x();
    yMin = yMax = points.front().y();
    for (const QPointF& p : points) {
      xMin = std::min(xMin, p.x()), xMax = std::max(xMax, p.x());
      yMin = std::min(yMin, p.y()), yMax = std::max(yMax, p.y());
    }
  }
  const double yPad = yMax > yMin ? (yMax - yMin) * 0.08 : std::max(std::fabs(yMax) * 0.05, 0.01);
  auto* yAxis = new QValueAxis;
  yAxis->setTitleText(y_->currentText());
  yAxis->setRange(yMin - yPad, yMax + yPad);
  yAxis->applyNiceNumbers();
  chart_->addAxis(yAxis, Qt::AlignLeft);
  series_->attachAxis(yAxis);

  QAbstractAxis* xAxis = nullptr;
  if (!scatter_.x_numeric) {
    auto* categories = new QCategoryAxis;
    categories->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    categories->setStartValue(-1.0);
    for (size_t i = 0; i < scatter_.categories.size(); ++i)
      categories->append(QString::fromStdString(scatter_.categories[i]), double(i));
    categories->setRange(-0.5, std::max(0.5, double(scatter_.categories.size()) - 0.5));
    xAxis = categories;
  } else if (logX_->isEnabled() && logX_->isChecked()) {
    auto* log = new QLogValueAxis;
    log->setBase(10);
    log->setLabelFormat(QStringLiteral("%g"));
    log->setRange(xMin / 1.5, xMax * 1.5);
    xAxis = log;
  } else {
    auto* value = new QValueAxis;
    const double pad = xMax > xMin ? (xMax - xMin) * 0.08 : std::max(std::fabs(xMax) * 0.1, 0.5);
    value->setRange(xMin - pad, xMax + pad);
    value->setLabelFormat(QStringLiteral("%g"));
    xAxis = value;
  }
  xAxis->setTitleText(x_->currentText());
  chart_->addAxis(xAxis, Qt::AlignBottom);
  series_->attachAxis(xAxis);

  const int shown = int(scatter_.points.size()), missing = int(scatter_.missing.size());
  QString note = shown == 1 ? tr("1 run plotted") : tr("%1 runs plotted").arg(shown);
  if (!scatter_.missing.empty())
    note += tr("; %1 without this key or a number for this metric").arg(missing);
  if (runs_.empty()) note = tr("No runs: select runs in the table, or pick a sweep.");
  note_->setText(note);
}

} // namespace distillery::gui
