#include "widgets/defense_view.h"

#include "core/base/errors.h"
#include "core/export/defense_chart.h"
#include "core/store/run_store.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/table_data_model.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QFontMetrics>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QScatterSeries>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::gui {

namespace {

constexpr const char* kDataSeries = "defenseSeries";
constexpr const char* kLabelSeries = "defenseRunLabel";

QChartView* newChartView(const QString& name, QWidget* parent) {
  auto* view = new QChartView(new QChart, parent);
  view->setObjectName(name);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(360, 280);
  return view;
}

// Markers of a curve: discs or squares (label-only attackers), filled, or
// hollow rings of the colour (another query strategy).
QScatterSeries* newMarkers(const distillery::ChartCurve& curve, const QColor& colour, qreal size) {
  auto* dots = new QScatterSeries;
  dots->setMarkerShape(curve.square_markers ? QScatterSeries::MarkerShapeRectangle : QScatterSeries::MarkerShapeCircle);
  dots->setMarkerSize(size);
  if (curve.hollow_markers) {
    QPen ring(colour);
    ring.setWidthF(2.0);
    dots->setPen(ring);
    dots->setBrush(Qt::white);
  } else {
    dots->setColor(colour);
    dots->setBorderColor(Qt::white);
  }
  return dots;
}

} // namespace

DefenseView::DefenseView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  empty_ = new QLabel(tr("Select runs distilled through an API teacher (teacher.api) to compare defenses"), this);
  empty_->setObjectName(QStringLiteral("defenseEmptyMessage"));
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);

  content_ = new QWidget(this);
  costChart_ = newChartView(QStringLiteral("defenseCostChart"), content_);
  queriesChart_ = newChartView(QStringLiteral("defenseQueriesChart"), content_);
  model_ = new TableDataModel(this);
  table_ = new QTableView(content_);
  table_->setObjectName(QStringLiteral("defenseTable"));
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->setVisible(false);
  // The figures take their contents' width; the Run column takes the slack (its names elided).
  table_->horizontalHeader()->setStretchLastSection(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  table_->setWordWrap(false);
  legend_ = new QLabel(content_);
  legend_->setObjectName(QStringLiteral("defenseLegend"));
  legend_->setTextFormat(Qt::RichText);
  legend_->setWordWrap(true);
  legend_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  notes_ = new QLabel(content_);
  notes_->setObjectName(QStringLiteral("defenseNotes"));
  notes_->setWordWrap(true);
  notes_->setStyleSheet(QStringLiteral("color: #707070;"));

  auto* charts = new QHBoxLayout;
  charts->setContentsMargins(0, 0, 0, 0);
  charts->addWidget(costChart_, 1);
  charts->addWidget(queriesChart_, 1);
  auto* inner = new QVBoxLayout(content_);
  inner->setContentsMargins(0, 0, 0, 0);
  inner->addLayout(charts, 3);
  inner->addWidget(legend_);
  inner->addWidget(table_, 2);
  inner->addWidget(notes_);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(empty_, 1);
  layout->addWidget(content_, 1);
  rebuild();
}

void DefenseView::setRuns(const QList<int64_t>& runIds) {
  runIds_ = runIds;
  rebuild();
}

QList<QXYSeries*> DefenseView::dataSeries(QChartView* view) const {
  QList<QXYSeries*> out;
  for (QAbstractSeries* s : view->chart()->series())
    if (s->objectName() == QLatin1String(kDataSeries)) out << static_cast<QXYSeries*>(s);
  return out;
}

void DefenseView::rebuild() {
  QString storeError;
  try {
    tradeoff_ = distillery::defenseTradeoffFromStore(store_, std::vector<int64_t>(runIds_.begin(), runIds_.end()));
  } catch (const distillery::DistilleryError& e) {
    tradeoff_ = {};
    storeError = tr("Store: %1").arg(QString::fromUtf8(e.what()));
  }
  costSpec_ = distillery::defenseCostChartSpec(tradeoff_);
  queriesSpec_ = distillery::defenseQueriesChartSpec(tradeoff_);
  drawChart(costChart_, costSpec_);
  drawChart(queriesChart_, queriesSpec_);

  std::vector<QColor> rowColors;
  for (size_t i : tradeoff_.orderedPoints())
    for (const distillery::DefenseSeries& s : tradeoff_.series)
      if (std::find(s.points.begin(), s.points.end(), i) != s.points.end()) rowColors.emplace_back(QRgb(s.rgb));
  model_->setTable(distillery::defenseTable(tradeoff_), std::move(rowColors));
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(0, QHeaderView::Interactive);
  table_->resizeColumnsToContents();
  // Long defense labels would push the figures out of sight; tooltips have them whole.
  table_->setColumnWidth(1, std::min(table_->columnWidth(1), 260));
  if (model_->columnCount(QModelIndex()) > 0) header->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->setTextElideMode(Qt::ElideMiddle);

  QStringList entries;
  const bool mixed = tradeoff_.mixedStrategies();
  for (const distillery::DefenseSeries& s : tradeoff_.series) {
    // Filled or hollow (another query strategy) disc or square (a label-only attacker).
    const QString mark = s.label_only ? (s.other_strategy ? QStringLiteral("&#9633;") : QStringLiteral("&#9632;"))
                                      : (s.other_strategy ? QStringLiteral("&#9675;") : QStringLiteral("&#9679;"));
    QString attacker = QString::fromStdString(distillery::attackerLabel(s.method, s.label_only)).toHtmlEscaped();
    if (mixed) attacker += QStringLiteral(", ") + QString::fromStdString(distillery::strategyLabel(s.strategy)).toHtmlEscaped();
    entries << QStringLiteral("<span style=\"white-space:nowrap\"><span style=\"color:%1; font-size:large\">%2</span>"
                              "&nbsp;%3&nbsp;<i>%4</i></span>")
                   .arg(QColor(QRgb(s.rgb)).name(), mark, QString::fromStdString(s.defense).toHtmlEscaped(), attacker);
  }
  QString legend = entries.join(QStringLiteral(" &nbsp;&nbsp;&nbsp; "));
  QStringList keys;
  if (std::any_of(tradeoff_.series.begin(), tradeoff_.series.end(), [](const auto& s) { return s.label_only; }))
    keys << tr("squares and dashed lines: label-only attackers");
  if (mixed)
    keys << tr("hollow markers and dotted lines: strategies other than %1")
                .arg(QString::fromStdString(distillery::strategyLabel(tradeoff_.strategies.front())).toHtmlEscaped());
  if (!keys.isEmpty())
    legend += QStringLiteral(" &nbsp;&nbsp;&nbsp; <span style=\"color:#707070\">(%1)</span>").arg(keys.join(QStringLiteral("; ")));
  legend_->setText(legend);

  // What is not drawn, and why, so a missing dot is not a mystery.
  QStringList lacking;
  for (const distillery::DefensePoint& p : tradeoff_.points) {
    QStringList what;
    if (!p.benign_cost) what << tr("benign accuracy");
    if (!p.fidelity) what << tr("fidelity");
    if (!p.queries) what << tr("queries");
    if (!what.isEmpty()) lacking << tr("#%1 (no %2)").arg(p.run_id).arg(what.join(QStringLiteral(", ")));
  }
  QString notes = storeError;
  if (!lacking.isEmpty()) notes = tr("Not in every chart: %1.").arg(lacking.join(QStringLiteral("; ")));
  if (!tradeoff_.not_api.empty()) {
    QStringList ids;
    for (int64_t id : tradeoff_.not_api) ids << QStringLiteral("#%1").arg(id);
    notes += (notes.isEmpty() ? QString() : QStringLiteral("  ")) +
             tr("Not API runs (left out): %1.").arg(ids.join(QStringLiteral(", ")));
  }
  notes_->setText(notes);
  notes_->setVisible(!notes.isEmpty());

  const bool any = !tradeoff_.empty();
  empty_->setVisible(!any);
  content_->setVisible(any);
  if (!any && !storeError.isEmpty()) empty_->setText(storeError);
}

void DefenseView::drawChart(QChartView* view, const distillery::ChartSpec& spec) {
  auto* chart = new QChart;
  chart->setTitle(QString::fromStdString(spec.title));
  QFont titleFont = chart->titleFont();
  titleFont.setBold(true);
  chart->setTitleFont(titleFont);
  chart->setMargins(QMargins(4, 4, 10, 4)); // the right one grows below to fit the last x label
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setBackgroundRoundness(0);
  chart->legend()->hide(); // the shared legend under both charts names the series

  const AxisScale scale = spec.log_x ? AxisScale::Log : AxisScale::Linear;
  const distillery::ChartBounds b = distillery::chartBounds(spec);
  QCategoryAxis* axisX = newTickAxis();
  setAxisTicks(axisX, b.x_min, b.x_max, scale, 6);
  axisX->setTitleText(QString::fromStdString(spec.xTitle()));
  // Labels centre on their ticks: one on the right edge ("100k") would be cut in half there.
  if (const QStringList xLabels = axisTickLabels(axisX); !xLabels.isEmpty())
    chart->setMargins(QMargins(4, 4, std::max(10, QFontMetrics(axisX->labelsFont()).horizontalAdvance(xLabels.last()) / 2 + 6), 4));
  QCategoryAxis* axisY = newTickAxis();
  setAxisTicks(axisY, b.y_min, b.y_max, AxisScale::Linear, 6);
  axisY->setTitleText(QString::fromStdString(spec.yTitle()));
  chart->addAxis(axisX, Qt::AlignBottom);
  chart->addAxis(axisY, Qt::AlignLeft);

  for (const distillery::ChartCurve& curve : spec.curves) {
    QList<QPointF> points;
    points.reserve(qsizetype(curve.raw.size()));
    for (size_t i = 0; i < curve.raw.size(); ++i) points.append({toAxis(curve.raw.x[i], scale), curve.raw.y[i]});
    const QColor colour{QRgb(curve.rgb)};
    QXYSeries* series = nullptr;
    QXYSeries* overlay = nullptr;
    if (curve.line) {
      auto* line = new QLineSeries;
      QPen pen(colour);
      pen.setWidthF(2.0);
      if (curve.dotted) pen.setStyle(Qt::DotLine);
      else if (curve.dashed) pen.setStyle(Qt::DashLine);
      line->setPen(pen);
      const bool plainDiscs = !curve.square_markers && !curve.hollow_markers;
      line->setPointsVisible(plainDiscs);
      line->setMarkerSize(9);
      series = line;
      // The line's own points are filled discs; squares and hollow markers ride on a scatter over them.
      if (!plainDiscs) {
        overlay = newMarkers(curve, colour, 11);
        overlay->setObjectName(QLatin1String(kLabelSeries));
        overlay->replace(points);
      }
    } else {
      series = newMarkers(curve, colour, 12);
    }
    series->setObjectName(QLatin1String(kDataSeries));
    series->setName(QString::fromStdString(curve.label).toHtmlEscaped());
    series->replace(points);
    for (QXYSeries* s : {series, overlay}) {
      if (!s) continue;
      chart->addSeries(s);
      s->attachAxis(axisX);
      s->attachAxis(axisY);
    }

    // Qt 6.4 has one label format per series: each run's id rides on an
    // invisible one-point series of its own, kept out of the legend.
    for (size_t i = 0; i < curve.point_labels.size() && i < size_t(points.size()); ++i) {
      auto* tag = new QScatterSeries;
      tag->setObjectName(QLatin1String(kLabelSeries));
      tag->setMarkerSize(12); // as large as the drawn marker: Qt puts the label above it, clear of the disc
      tag->setColor(Qt::transparent);
      tag->setBorderColor(Qt::transparent);
      tag->replace(QList<QPointF>{points[qsizetype(i)]});
      // '@' would start a placeholder of the format.
      tag->setPointLabelsFormat(QString::fromStdString(curve.point_labels[i]).remove(u'@'));
      tag->setPointLabelsVisible(true);
      tag->setPointLabelsClipping(false);
      tag->setPointLabelsColor(QColor(0x30, 0x30, 0x30));
      chart->addSeries(tag);
      tag->attachAxis(axisX);
      tag->attachAxis(axisY);
    }
  }

  QChart* old = view->chart();
  view->setChart(chart);
  delete old;
}

} // namespace distillery::gui
