#include "widgets/defense_view.h"

#include "core/base/errors.h"
#include "core/export/defense_chart.h"
#include "core/store/run_store.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/table_data_model.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
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
  table_->horizontalHeader()->setStretchLastSection(true);
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
  table_->resizeColumnsToContents();
  // Long run names and defense labels would push the figures out of sight; tooltips have them whole.
  for (int c : {0, 1}) table_->setColumnWidth(c, std::min(table_->columnWidth(c), 260));
  table_->setTextElideMode(Qt::ElideMiddle);

  QStringList entries;
  for (const distillery::DefenseSeries& s : tradeoff_.series)
    entries << QStringLiteral("<span style=\"white-space:nowrap\"><span style=\"color:%1; font-size:large\">%2</span>"
                              "&nbsp;%3&nbsp;<i>%4</i></span>")
                   .arg(QColor(QRgb(s.rgb)).name(), s.label_only ? QStringLiteral("&#9632;") : QStringLiteral("&#9679;"),
                        QString::fromStdString(s.defense).toHtmlEscaped(),
                        QString::fromStdString(distillery::attackerLabel(s.method, s.label_only)).toHtmlEscaped());
  QString legend = entries.join(QStringLiteral(" &nbsp;&nbsp;&nbsp; "));
  if (std::any_of(tradeoff_.series.begin(), tradeoff_.series.end(), [](const auto& s) { return s.label_only; }))
    legend += tr(" &nbsp;&nbsp;&nbsp; <span style=\"color:#707070\">(squares and dashed lines: label-only attackers)</span>");
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
  chart->setMargins(QMargins(4, 4, 10, 4));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setBackgroundRoundness(0);
  chart->legend()->hide(); // the shared legend under both charts names the series

  const AxisScale scale = spec.log_x ? AxisScale::Log : AxisScale::Linear;
  const distillery::ChartBounds b = distillery::chartBounds(spec);
  QCategoryAxis* axisX = newTickAxis();
  setAxisTicks(axisX, b.x_min, b.x_max, scale, 6);
  axisX->setTitleText(QString::fromStdString(spec.xTitle()));
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
    if (curve.line) {
      auto* line = new QLineSeries;
      QPen pen(colour);
      pen.setWidthF(2.0);
      if (curve.dashed) pen.setStyle(Qt::DashLine);
      line->setPen(pen);
      line->setPointsVisible(!curve.square_markers);
      line->setMarkerSize(9);
      series = line;
      // The line's own points are discs; a label-only attacker's squares ride on a scatter over them.
      if (curve.square_markers) {
        auto* squares = new QScatterSeries;
        squares->setObjectName(QLatin1String(kLabelSeries));
        squares->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
        squares->setMarkerSize(11);
        squares->setColor(colour);
        squares->setBorderColor(Qt::white);
        squares->replace(points);
        chart->addSeries(squares);
        squares->attachAxis(axisX);
        squares->attachAxis(axisY);
      }
    } else {
      auto* dots = new QScatterSeries;
      dots->setMarkerShape(curve.square_markers ? QScatterSeries::MarkerShapeRectangle
                                                : QScatterSeries::MarkerShapeCircle);
      dots->setMarkerSize(12);
      dots->setColor(colour);
      dots->setBorderColor(Qt::white);
      series = dots;
    }
    series->setObjectName(QLatin1String(kDataSeries));
    series->setName(QString::fromStdString(curve.label).toHtmlEscaped());
    series->replace(points);
    chart->addSeries(series);
    series->attachAxis(axisX);
    series->attachAxis(axisY);

    // Qt 6.4 has one label format per series: each run's id rides on an
    // invisible one-point series of its own, kept out of the legend.
    for (size_t i = 0; i < curve.point_labels.size() && i < size_t(points.size()); ++i) {
      auto* tag = new QScatterSeries;
      tag->setObjectName(QLatin1String(kLabelSeries));
      tag->setMarkerSize(1);
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
