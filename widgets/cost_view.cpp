#include "widgets/cost_view.h"

#include "core/base/errors.h"
#include "core/analysis/pareto_front.h"
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
#include <map>
#include <optional>

namespace distillery::gui {

namespace {

std::optional<double> summaryNumber(const nlohmann::json& summary, const char* key) {
  if (!summary.is_object()) return std::nullopt;
  const auto it = summary.find(key);
  if (it == summary.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

const char* costKey(CostView::Cost cost) {
  switch (cost) {
    case CostView::Cost::WallTime: return "wall_s";
    case CostView::Cost::TrainingFlops: return "train_flops";
    case CostView::Cost::InferenceFlops: return "flops_per_sample";
    case CostView::Cost::Parameters: return "params";
  }
  return "wall_s";
}

int64_t teacherOf(const distillery::RunRecord& run) {
  if (run.teacher_run_id) return run.teacher_run_id;
  if (auto id = summaryNumber(run.summary, "teacher_run_id")) return int64_t(*id);
  return 0;
}

} // namespace

CostView::CostView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  costCombo_ = new QComboBox(this);
  costCombo_->setObjectName(QStringLiteral("costCombo"));
  costCombo_->addItem(tr("Training wall time"), int(Cost::WallTime));
  costCombo_->addItem(tr("Training compute (FLOPs)"), int(Cost::TrainingFlops));
  costCombo_->addItem(tr("Inference FLOPs per sample"), int(Cost::InferenceFlops));
  costCombo_->addItem(tr("Parameters"), int(Cost::Parameters));
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
  logX_->setChecked(cost != Cost::WallTime);
  rebuild();
}

void CostView::setAccuracy(Accuracy accuracy) {
  accuracyCombo_->setCurrentIndex(accuracyCombo_->findData(int(accuracy)));
  rebuild();
}

void CostView::setLogX(bool logX) { logX_->setChecked(logX); }

std::vector<int64_t> CostView::frontRunIds() const {
  std::vector<int64_t> ids;
  for (size_t i : front_) ids.push_back(points_[i].run_id);
  return ids;
}

QString CostView::comparisonText() const { return comparison_->text(); }

QStringList CostView::xTickLabels() const {
  const auto axes = chartView_->chart()->axes(Qt::Horizontal);
  auto* axis = axes.isEmpty() ? nullptr : qobject_cast<QCategoryAxis*>(axes.front());
  return axis ? axisTickLabels(axis) : QStringList();
}

QColor CostView::colorOf(int64_t runId) const {
  const auto it = colors_.find(runId);
  return it != colors_.end() ? it->second : runColor(runId);
}

void CostView::rebuild() {
  const Cost cost = Cost(costCombo_->currentData().toInt());
  const Accuracy accuracy = Accuracy(accuracyCombo_->currentData().toInt());
  const bool logX = logX_->isChecked();

  // The compared runs, then the teachers they name.
  std::vector<std::pair<distillery::RunRecord, bool>> runs;
  QList<int64_t> teachers;
  try {
    for (int64_t id : runIds_)
      if (auto run = store_.run(id)) runs.emplace_back(std::move(*run), false);
    for (const auto& [run, isTeacher] : runs) {
      const int64_t t = teacherOf(run);
      if (t && !runIds_.contains(t) && std::find(teachers.begin(), teachers.end(), t) == teachers.end())
        teachers.push_back(t);
    }
    for (int64_t t : teachers)
      if (auto run = store_.run(t)) runs.emplace_back(std::move(*run), true);
    // A compared run that teaches another compared run is drawn as a teacher too.
    for (auto& [run, isTeacher] : runs)
      for (const auto& other : runs)
        if (teacherOf(other.first) == run.id) isTeacher = true;
  } catch (const distillery::DistilleryError& e) {
    missing_->setText(tr("Store: %1").arg(QString::fromUtf8(e.what())));
  }

  // The compared runs keep the colours of their curves; added teachers take free ones.
  colors_ = runColors(runIds_, teachers);
  points_.clear();
  QStringList missing;
  std::map<int64_t, int64_t> teacherOfRun;
  for (const auto& [run, isTeacher] : runs) {
    const auto c = summaryNumber(run.summary, costKey(cost));
    auto a = accuracy == Accuracy::Test ? summaryNumber(run.summary, "test_accuracy")
                                        : summaryNumber(run.summary, "best_val_accuracy");
    if (!c || !a || (logX && *c <= 0)) {
      missing << QStringLiteral("#%1").arg(run.id);
      continue;
    }
    Point p;
    p.run_id = run.id;
    p.label = QStringLiteral("#%1 %2").arg(run.id).arg(QString::fromStdString(run.name));
    p.cost = *c;
    p.accuracy = *a;
    p.teacher = isTeacher;
    points_.push_back(p);
    if (const int64_t t = teacherOf(run)) teacherOfRun[run.id] = t;
  }
  std::vector<distillery::CostAccuracyPoint> pareto;
  for (const Point& p : points_) pareto.push_back({p.run_id, p.cost, p.accuracy});
  front_ = distillery::paretoFront(pareto);

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
  const QString xTitle = cost == Cost::WallTime        ? tr("Training wall time (s)")
                         : cost == Cost::TrainingFlops ? tr("Training compute (FLOPs)")
                         : cost == Cost::InferenceFlops ? tr("Inference cost (FLOPs per sample)")
                                                        : tr("Parameters");
  double c0 = 1, c1 = 10, a0 = 0, a1 = 100;
  if (!points_.empty()) {
    c0 = c1 = points_.front().cost;
    a0 = a1 = points_.front().accuracy * 100;
    for (const Point& p : points_) {
      c0 = std::min(c0, p.cost);
      c1 = std::max(c1, p.cost);
      a0 = std::min(a0, p.accuracy * 100);
      a1 = std::max(a1, p.accuracy * 100);
    }
  }
  if (logX) {
    setAxisTicks(axisX, c0 / 1.8, c1 * 1.8, scale, 6);
  } else {
    const double pad = std::max((c1 - c0) * 0.08, std::fabs(c1) * 0.05 + 1e-9);
    setAxisTicks(axisX, std::max(0.0, c0 - pad), c1 + pad, scale, 6);
  }
  axisX->setTitleText(xTitle);
  auto* axisY = new QValueAxis;
  const double padY = std::max((a1 - a0) * 0.08, 0.5);
  axisY->setRange(a0 - padY, std::min(100.0 + padY, a1 + padY));
  axisY->applyNiceNumbers();
  axisY->setLabelFormat(QStringLiteral("%.1f"));
  axisY->setTitleText(accuracy == Accuracy::Test ? tr("Test accuracy (%)") : tr("Best validation accuracy (%)"));
  chart->addAxis(axisX, Qt::AlignBottom);
  chart->addAxis(axisY, Qt::AlignLeft);

  // The front first, so the dots sit on top of it: a staircase through the
  // optimal runs, flat to the right edge (more cost buys nothing there).
  if (!front_.empty()) {
    auto* line = new QLineSeries;
    line->setName(tr("Pareto front"));
    QPen pen(QColor(0x505050));
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(1.5);
    line->setPen(pen);
    for (size_t k = 0; k < front_.size(); ++k) {
      const Point& p = points_[front_[k]];
      if (k > 0) line->append(toAxis(p.cost, scale), points_[front_[k - 1]].accuracy * 100);
      line->append(toAxis(p.cost, scale), p.accuracy * 100);
    }
    line->append(axisX->max(), points_[front_.back()].accuracy * 100);
    chart->addSeries(line);
    line->attachAxis(axisX);
    line->attachAxis(axisY);
  }
  for (size_t i = 0; i < points_.size(); ++i) {
    const Point& p = points_[i];
    auto* dot = new QScatterSeries;
    // Legend labels are HTML to Qt: a run's name is escaped, and elided in the middle.
    dot->setName(legendLabelHtml(p.label, chart->legend()->font(), std::max(200, chartView_->width() / 3),
                                 p.teacher ? tr(" (teacher)") : QString()));
    dot->setColor(colorOf(p.run_id));
    dot->setBorderColor(std::find(front_.begin(), front_.end(), i) != front_.end() ? QColor(0x202020) : QColor(0xffffff));
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

  // Student against teacher, in words.
  QStringList lines;
  const QString costWord = cost == Cost::WallTime        ? tr("training time")
                           : cost == Cost::TrainingFlops ? tr("training compute")
                           : cost == Cost::InferenceFlops ? tr("inference FLOPs per sample")
                                                          : tr("parameters");
  for (const Point& s : points_) {
    if (s.teacher || !teacherOfRun.count(s.run_id)) continue;
    const int64_t t = teacherOfRun[s.run_id];
    const auto it = std::find_if(points_.begin(), points_.end(), [&](const Point& p) { return p.run_id == t; });
    if (it == points_.end() || it->accuracy <= 0 || it->cost <= 0) continue;
    const double kept = s.accuracy / it->accuracy, ratio = s.cost / it->cost;
    QString line = tr("<span style=\"color:%1\">&#9679;</span> <b>%2</b> keeps <b>%3%</b> of teacher #%4's accuracy "
                      "(%5% vs %6%) at <b>%7×</b> its %8")
                       .arg(colorOf(s.run_id).name(), s.label.toHtmlEscaped())
                       .arg(kept * 100, 0, 'f', 1)
                       .arg(t)
                       .arg(s.accuracy * 100, 0, 'f', 2)
                       .arg(it->accuracy * 100, 0, 'f', 2)
                       .arg(ratio, 0, 'g', 3)
                       .arg(costWord);
    if (ratio > 0 && ratio < 1) line += tr(" (%1× cheaper)").arg(1.0 / ratio, 0, 'g', 3);
    lines << line;
  }
  comparison_->setText(lines.join(QStringLiteral("<br>")));
  comparison_->setVisible(!lines.isEmpty());
  missing_->setText(missing.isEmpty() ? QString()
                                      : tr("Not plotted (no %1 or accuracy yet): %2")
                                            .arg(costWord, missing.join(QStringLiteral(", "))));
  missing_->setVisible(!missing.isEmpty());
}

} // namespace distillery::gui
