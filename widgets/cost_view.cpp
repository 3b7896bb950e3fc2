#include "widgets/cost_view.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/legend_label.h"
#include "widgets/run_colors.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace distillery::gui {

CostView::CostView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  costCombo_ = new QComboBox(this);
  costCombo_->setObjectName(QStringLiteral("costCombo"));
  costCombo_->addItem(tr("Wall time (training + teacher inference)"), int(Cost::WallTime));
  costCombo_->addItem(tr("Compute (FLOPs, teacher inference included)"), int(Cost::TrainingFlops));
  costCombo_->addItem(tr("Inference FLOPs per sample"), int(Cost::InferenceFlops));
  costCombo_->addItem(tr("Parameters"), int(Cost::Parameters));
  costCombo_->addItem(tr("Teacher queries"), int(Cost::TeacherQueries));
  costCombo_->addItem(tr("Money spent on teacher answers"), int(Cost::Money));
  costCombo_->setToolTip(tr("A distilled run's time and FLOPs include its teacher's answers, cached or not"));
  accuracyCombo_ = new QComboBox(this);
  accuracyCombo_->setObjectName(QStringLiteral("accuracyCombo"));
  accuracyCombo_->addItem(tr("Test accuracy"), int(Accuracy::Test));
  accuracyCombo_->addItem(tr("Best validation accuracy"), int(Accuracy::BestValidation));
  logX_ = new QCheckBox(tr("Log x"), this);
  logX_->setObjectName(QStringLiteral("costLogXCheck"));

  chartView_ = new QChartView(new QChart, this);
  chartView_->setObjectName(QStringLiteral("costChart"));
  chartView_->setRenderHint(QPainter::Antialiasing);
  chartView_->setMinimumSize(400, 300);
  comparison_ = new QLabel(this);
  comparison_->setObjectName(QStringLiteral("costComparison"));
  comparison_->setTextFormat(Qt::RichText);
  comparison_->setWordWrap(true);
  comparison_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  missing_ = new QLabel(this);
  missing_->setObjectName(QStringLiteral("costMissing"));
  missing_->setWordWrap(true);
  missing_->setStyleSheet(QStringLiteral("color: #707070;"));

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Cost:"), this));
  bar->addWidget(costCombo_);
  bar->addSpacing(12);
  bar->addWidget(new QLabel(tr("Accuracy:"), this));
  bar->addWidget(accuracyCombo_);
  bar->addSpacing(12);
  bar->addWidget(logX_);
  bar->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(chartView_, 1);
  layout->addWidget(comparison_);
  layout->addWidget(missing_);

  connect(costCombo_, &QComboBox::activated, this, [this] { setCost(Cost(costCombo_->currentData().toInt())); });
  connect(accuracyCombo_, &QComboBox::activated, this, [this] { rebuild(); });
  connect(logX_, &QCheckBox::toggled, this, [this] { rebuild(); });
}

void CostView::setRuns(const QList<int64_t>& runIds) {
  runIds_ = runIds;
  rebuild();
}

void CostView::setCost(Cost cost) {
  costCombo_->setCurrentIndex(costCombo_->findData(int(cost)));
  // FLOPs and sizes span orders of magnitude between teacher and student.
  const QSignalBlocker block(logX_);
  logX_->setChecked(distillery::costDefaultsToLog(cost));
  rebuild();
}

void CostView::setAccuracy(Accuracy accuracy) {
  accuracyCombo_->setCurrentIndex(accuracyCombo_->findData(int(accuracy)));
  rebuild();
}

void CostView::setLogX(bool logX) { logX_->setChecked(logX); }

QString CostView::comparisonText() const { return comparison_->text(); }

QStringList CostView::xTickLabels() const {
  const auto axes = chartView_->chart()->axes(Qt::Horizontal);
  auto* axis = axes.isEmpty() ? nullptr : qobject_cast<QCategoryAxis*>(axes.front());
  return axis ? axisTickLabels(axis) : QStringList();
}

QColor CostView::colorOf(int64_t runId) const {
  for (const distillery::CostPoint& p : chart_.points)
    if (p.run_id == runId) return QColor(QRgb(p.rgb));
  // A compared run without a point keeps the colour of its curves.
  const auto colours = runColors(runIds_);
  const auto it = colours.find(runId);
  return it != colours.end() ? it->second : runColor(runId);
}

void CostView::rebuild() {
  const Cost cost = Cost(costCombo_->currentData().toInt());
  const Accuracy accuracy = Accuracy(accuracyCombo_->currentData().toInt());
  const bool logX = logX_->isChecked();

  QString storeError;
  try {
    chart_ = distillery::costChartFromStore(store_, std::vector<int64_t>(runIds_.begin(), runIds_.end()), cost,
                                            accuracy, logX);
  } catch (const distillery::DistilleryError& e) {
    chart_ = distillery::CostChart{};
    storeError = tr("Store: %1").arg(QString::fromUtf8(e.what()));
  }
  const std::vector<distillery::CostPoint>& points = chart_.points;
  const std::vector<size_t>& front = chart_.front;

  auto* chart = new QChart;
  chart->setTitle(tr("Accuracy against cost"));
  QFont titleFont = chart->titleFont();
  titleFont.setBold(true);
  chart->setTitleFont(titleFont);
  chart->setMargins(QMargins(6, 6, 12, 6));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setBackgroundRoundness(0);
  chart->legend()->setAlignment(Qt::AlignBottom);

  // Round ticks with SI labels (10G, 200k): on a log axis 1-2-5 within a
  // decade where decades alone would leave one label; x is log10(cost) there.
  const AxisScale scale = logX ? AxisScale::Log : AxisScale::Linear;
  QCategoryAxis* axisX = newTickAxis();
  const distillery::ChartBounds range = distillery::costChartRange(chart_);
  setAxisTicks(axisX, range.x_min, range.x_max, scale, 6);
  axisX->setTitleText(QString::fromStdString(distillery::costAxisTitle(cost)));
  auto* axisY = new QValueAxis;
  axisY->setRange(range.y_min, range.y_max);
  axisY->applyNiceNumbers();
  axisY->setLabelFormat(QStringLiteral("%.1f"));
  axisY->setTitleText(QString::fromStdString(distillery::costAccuracyAxisTitle(accuracy)));
  chart->addAxis(axisX, Qt::AlignBottom);
  chart->addAxis(axisY, Qt::AlignLeft);

  // The front first, so the dots sit on top of it: a staircase through the
  // optimal runs, flat to the right edge (more cost buys nothing there).
  if (!front.empty()) {
    auto* line = new QLineSeries;
    line->setName(tr("Pareto front"));
    QPen pen(QColor(0x505050));
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(1.5);
    line->setPen(pen);
    for (size_t k = 0; k < front.size(); ++k) {
      const distillery::CostPoint& p = points[front[k]];
      if (k > 0) line->append(toAxis(p.cost, scale), points[front[k - 1]].accuracy * 100);
      line->append(toAxis(p.cost, scale), p.accuracy * 100);
    }
    line->append(axisX->max(), points[front.back()].accuracy * 100);
    chart->addSeries(line);
    line->attachAxis(axisX);
    line->attachAxis(axisY);
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const distillery::CostPoint& p = points[i];
    auto* dot = new QScatterSeries;
    // Legend labels are HTML to Qt: a run's name is escaped, and elided in the middle.
    dot->setName(legendLabelHtml(QString::fromStdString(p.label), chart->legend()->font(), std::max(200, chartView_->width() / 3),
                                 p.teacher ? tr(" (teacher)") : QString()));
    dot->setColor(colorOf(p.run_id));
    dot->setBorderColor(std::find(front.begin(), front.end(), i) != front.end() ? QColor(0x202020) : QColor(0xffffff));
    dot->setMarkerShape(p.teacher ? QScatterSeries::MarkerShapeRectangle : QScatterSeries::MarkerShapeCircle);
    dot->setMarkerSize(p.teacher ? 15.0 : 13.0);
    dot->append(toAxis(p.cost, scale), p.accuracy * 100);
    // The run id next to the dot; the legend has the full name. '@' would start a placeholder.
    QString tag = QStringLiteral("#%1").arg(p.run_id);
    if (p.teacher) tag += tr(" teacher");
    dot->setPointLabelsFormat(tag);
    dot->setPointLabelsVisible(true);
    dot->setPointLabelsClipping(false);
    chart->addSeries(dot);
    dot->attachAxis(axisX);
    dot->attachAxis(axisY);
  }

  QChart* old = chartView_->chart();
  chartView_->setChart(chart);
  delete old;

  // Student against teacher, in words, with what its cost counts (the sentence the reports print).
  QStringList lines;
  const QString costWord = QString::fromStdString(distillery::costNoun(cost));
  for (const distillery::CostComparison& c : distillery::teacherComparisons(chart_)) {
    const QString sentence = QString::fromStdString(distillery::comparisonSentence(chart_, c));
    const qsizetype counted = sentence.indexOf(QStringLiteral("; counted: "));
    lines << QStringLiteral("<span style=\"color:%1\">&#9679;</span> %2<br><span style=\"color:#606060;\">&nbsp;&nbsp;&nbsp;%3</span>")
                 .arg(colorOf(points[c.student].run_id).name(), sentence.left(counted).toHtmlEscaped(),
                      sentence.mid(counted + 2).toHtmlEscaped());
  }
  comparison_->setText(lines.join(QStringLiteral("<br>")));
  comparison_->setVisible(!lines.isEmpty());
  QStringList missing;
  for (int64_t id : chart_.missing) missing << QStringLiteral("#%1").arg(id);
  QString missingText = storeError;
  if (!missing.isEmpty())
    missingText = tr("Not plotted (no %1 or accuracy yet): %2").arg(costWord, missing.join(QStringLiteral(", ")));
  missing_->setText(missingText);
  missing_->setVisible(!missingText.isEmpty());
}

} // namespace distillery::gui
