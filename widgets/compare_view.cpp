#include "widgets/compare_view.h"

#include "core/export/chart_spec.h"
#include "core/base/errors.h"
#include "core/analysis/metric_catalog.h"
#include "core/export/point_export.h"
#include "core/store/run_store.h"
#include "render/report_export.h"
#include "widgets/chart_export_dialog.h"
#include "widgets/compare_chart_view.h"
#include "widgets/config_diff_view.h"
#include "core/export/cost_chart.h"
#include "widgets/cost_view.h"
#include "widgets/defense_view.h"
#include "widgets/file_dialogs.h"
#include "widgets/run_colors.h"
#include "widgets/summary_table_view.h"
#include "widgets/table_export_bar.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QScrollArea>
#include <QSlider>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

namespace distillery::gui {

namespace {

// The curves a distillation paper shows first.
// Language-model runs have val_perplexity instead of val_accuracy.
const QStringList kDefaultMetrics = {QStringLiteral("val_accuracy"), QStringLiteral("val_perplexity"),
                                     QStringLiteral("val_agreement"), QStringLiteral("train_loss"),
                                     QStringLiteral("val_kl")};

QString metricTitle(const QString& metric) {
  return QString::fromStdString(distillery::metricInfo(metric.toStdString()).title);
}

} // namespace

CompareView::CompareView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  runsLabel_ = new QLabel(this);
  runsLabel_->setObjectName(QStringLiteral("compareRunsLabel"));
  runsLabel_->setTextFormat(Qt::RichText);
  runsLabel_->setWordWrap(true);

  metricsButton_ = new QToolButton(this);
  metricsButton_->setObjectName(QStringLiteral("metricsButton"));
  metricsButton_->setText(tr("Metrics"));
  metricsButton_->setPopupMode(QToolButton::InstantPopup);
  metricsButton_->setToolButtonStyle(Qt::ToolButtonTextOnly);
  metricsMenu_ = new QMenu(metricsButton_);
  metricsButton_->setMenu(metricsMenu_);
  metricsButton_->setToolTip(tr("Which metrics get a chart"));

  xAxisCombo_ = new QComboBox(this);
  xAxisCombo_->setObjectName(QStringLiteral("xAxisCombo"));
  for (distillery::XAxisKind kind : distillery::allXAxisKinds())
    xAxisCombo_->addItem(QString::fromStdString(distillery::axisTitle(kind)),
                         QString::fromStdString(distillery::toString(kind)));
  xAxisCombo_->setToolTip(tr("Plot against steps, epochs, wall time, training FLOPs (teacher included) "
                             "samples sent through the teacher or money spent on its answers"));

  logYCheck_ = new QCheckBox(tr("Log y"), this);
  logYCheck_->setObjectName(QStringLiteral("logYCheck"));
  logYCheck_->setToolTip(tr("Logarithmic y axis; values <= 0 are left out"));

  smoothingSlider_ = new QSlider(Qt::Horizontal, this);
  smoothingSlider_->setObjectName(QStringLiteral("smoothingSlider"));
  smoothingSlider_->setRange(0, 99);
  smoothingSlider_->setFixedWidth(140);
  smoothingSlider_->setToolTip(tr("Debiased exponential moving average; the raw curve stays faintly behind"));
  smoothingLabel_ = new QLabel(this);
  smoothingLabel_->setObjectName(QStringLiteral("smoothingLabel"));
  smoothingLabel_->setMinimumWidth(smoothingLabel_->fontMetrics().horizontalAdvance(QStringLiteral("0.00")) + 4);

  resetButton_ = new QToolButton(this);
  resetButton_->setObjectName(QStringLiteral("resetZoomButton"));
  resetButton_->setText(tr("Reset zoom"));
  resetButton_->setToolTip(tr("Show every chart's full range again (also: double-click a chart, or Home)"));

  exportMenu_ = new QMenu(tr("&Export"), this);
  exportButton_ = new QToolButton(this);
  exportButton_->setObjectName(QStringLiteral("exportButton"));
  exportButton_->setText(tr("Export"));
  exportButton_->setPopupMode(QToolButton::InstantPopup);
  exportButton_->setMenu(exportMenu_);

  auto* bar = new QHBoxLayout;
  bar->addWidget(metricsButton_);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("X axis:"), this));
  bar->addWidget(xAxisCombo_);
  bar->addSpacing(8);
  bar->addWidget(logYCheck_);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Smoothing:"), this));
  bar->addWidget(smoothingSlider_);
  bar->addWidget(smoothingLabel_);
  bar->addSpacing(8);
  bar->addWidget(resetButton_);
  bar->addStretch(1);
  bar->addWidget(exportButton_);

  chartPage_ = new QWidget;
  chartGrid_ = new QGridLayout(chartPage_);
  chartGrid_->setContentsMargins(0, 0, 0, 0);
  chartGrid_->setSpacing(6);
  emptyHint_ = new QLabel(tr("Select 2 to 12 runs in the run table and choose Compare."), chartPage_);
  emptyHint_->setAlignment(Qt::AlignCenter);
  chartGrid_->addWidget(emptyHint_, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setWidget(chartPage_);

  summary_ = new SummaryTableView(store_, this);
  diff_ = new ConfigDiffView(this);
  cost_ = new CostView(store_, this);
  defenses_ = new DefenseView(store_, this);
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("compareTabs"));
  tabs_->addTab(scroll, tr("Charts"));
  tabs_->addTab(summary_, tr("Summary"));
  tabs_->addTab(diff_, tr("Config diff"));
  tabs_->addTab(cost_, tr("Cost"));
  tabs_->addTab(defenses_, tr("Defenses"));

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(runsLabel_);
  layout->addLayout(bar);
  layout->addWidget(tabs_, 1);

  QAction* chartAction = exportMenu_->addAction(tr("Chart as PNG, SVG or PDF…"), this, &CompareView::exportChartInteractive);
  chartAction->setObjectName(QStringLiteral("exportChartAction"));
  exportMenu_->addAction(tr("Data (every point) as CSV or JSON…"), this, &CompareView::exportDataInteractive)
      ->setObjectName(QStringLiteral("exportDataAction"));
  exportMenu_->addAction(tr("Report as HTML, PDF, Markdown or LaTeX…"), this, &CompareView::exportReportInteractive)
      ->setObjectName(QStringLiteral("exportReportAction"));
  exportMenu_->addSeparator();
  exportMenu_->addAction(tr("Copy summary table as Markdown"), summary_->exportBar(), &TableExportBar::copyMarkdown);
  exportMenu_->addAction(tr("Copy summary table as LaTeX"), summary_->exportBar(), &TableExportBar::copyLatex);
  exportMenu_->addAction(tr("Save summary table…"), summary_->exportBar(), &TableExportBar::saveAs);
  exportMenu_->addSeparator();
  exportMenu_->addAction(tr("Copy config diff as Markdown"), diff_->exportBar(), &TableExportBar::copyMarkdown);
  exportMenu_->addAction(tr("Copy config diff as LaTeX"), diff_->exportBar(), &TableExportBar::copyLatex);
  exportMenu_->addAction(tr("Save config diff…"), diff_->exportBar(), &TableExportBar::saveAs);

  connect(xAxisCombo_, &QComboBox::activated, this, [this] {
    if (auto kind = distillery::parseXAxisKind(xAxisCombo_->currentData().toString().toStdString())) setXAxis(*kind);
  });
  connect(logYCheck_, &QCheckBox::toggled, this, &CompareView::setLogY);
  connect(smoothingSlider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
  connect(resetButton_, &QToolButton::clicked, this, &CompareView::resetZoom);
  setSmoothing(0.0);
  updateRunsLabel();
  updateEnabled();
}

QString CompareView::setRuns(const QList<int64_t>& runIds) {
  QList<int64_t> ids;
  for (int64_t id : runIds)
    if (!ids.contains(id)) ids.append(id);
  QString note;
  if (ids.size() > kMaxRuns) {
    note = tr("Comparing the first %1 of %2 runs; more would not be told apart by colour.").arg(kMaxRuns).arg(ids.size());
    ids = ids.mid(0, kMaxRuns);
  }
  runIds_ = ids;
  reload();
  return note;
}

void CompareView::removeRun(int64_t runId) {
  if (!runIds_.contains(runId)) return;
  runIds_.removeAll(runId);
  reload();
}

void CompareView::reload() {
  std::set<QString> metrics;
  std::vector<distillery::RunRecord> records;
  try {
    for (int64_t id : runIds_) {
      if (auto run = store_.run(id)) records.push_back(std::move(*run));
      for (const std::string& m : store_.metricNames(id)) metrics.insert(QString::fromStdString(m));
    }
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT statusMessage(tr("Store: %1").arg(QString::fromUtf8(e.what())));
  }
  // Runs deleted meanwhile drop out.
  QList<int64_t> present;
  for (const auto& r : records) present.append(r.id);
  runIds_ = present;

  available_.clear();
  for (const QString& m : kDefaultMetrics)
    if (metrics.count(m)) available_ << m;
  for (const QString& m : metrics)
    if (!available_.contains(m)) available_ << m;
  QStringList keep;
  for (const QString& m : chosen_)
    if (available_.contains(m)) keep << m;
  if (keep.isEmpty()) {
    for (const QString& m : kDefaultMetrics)
      if (available_.contains(m)) keep << m;
    if (keep.isEmpty()) keep = available_.mid(0, 4);
  }
  chosen_ = keep;
  rebuildMetricMenu();
  rebuildCharts();

  const std::vector<int64_t> ids(runIds_.begin(), runIds_.end());
  summary_->setRuns(ids);
  diff_->setRuns(records);
  cost_->setRuns(runIds_);
  defenses_->setRuns(runIds_);
  updateRunsLabel();
  updateEnabled();
}

void CompareView::rebuildMetricMenu() {
  metricsMenu_->clear();
  for (const QString& m : available_) {
    QAction* action = metricsMenu_->addAction(QStringLiteral("%1  (%2)").arg(metricTitle(m), m));
    action->setObjectName(QStringLiteral("metric_") + m);
    action->setCheckable(true);
    action->setChecked(chosen_.contains(m));
    connect(action, &QAction::toggled, this, [this, m](bool on) {
      QStringList next = chosen_;
      if (on && !next.contains(m)) next << m;
      if (!on) next.removeAll(m);
      setMetrics(next);
    });
  }
  metricsButton_->setText(tr("Metrics (%1)").arg(chosen_.size()));
}

void CompareView::setMetrics(const QStringList& metrics) {
  QStringList next;
  // In the order of the menu, so the grid does not reshuffle as boxes are ticked.
  for (const QString& m : available_)
    if (metrics.contains(m)) next << m;
  if (next == chosen_) return;
  chosen_ = next;
  for (QAction* a : metricsMenu_->actions()) {
    const QSignalBlocker block(a);
    a->setChecked(chosen_.contains(a->objectName().mid(int(qstrlen("metric_")))));
  }
  metricsButton_->setText(tr("Metrics (%1)").arg(chosen_.size()));
  rebuildCharts();
  updateEnabled();
}

void CompareView::rebuildCharts() {
  for (CompareChartView* c : charts_) {
    chartGrid_->removeWidget(c);
    delete c;
  }
  charts_.clear();
  lastFocused_ = nullptr;
  const std::vector<int64_t> ids(runIds_.begin(), runIds_.end());
  const int columns = chosen_.size() > 1 ? 2 : 1;
  for (int i = 0; i < chosen_.size(); ++i) {
    auto* chart = new CompareChartView(chartPage_);
    chart->setObjectName(QStringLiteral("chart_") + chosen_[i]);
    chart->setMinimumHeight(300);
    distillery::ChartSpec spec;
    try {
      // Full resolution, read once per metric and axis; zooming only re-decimates.
      spec = distillery::chartSpecFromStore(store_, ids, chosen_[i].toStdString(), xAxis_);
    } catch (const distillery::DistilleryError& e) {
      Q_EMIT statusMessage(tr("Store: %1").arg(QString::fromUtf8(e.what())));
      spec.metric = chosen_[i].toStdString();
      spec.title = metricTitle(chosen_[i]).toStdString();
    }
    spec.log_y = logY_;
    spec.smoothing = smoothing_;
    chart->setSpec(std::move(spec));
    connect(chart, &CompareChartView::rangeChanged, this, [this, chart] { lastFocused_ = chart; });
    chartGrid_->addWidget(chart, i / columns, i % columns);
    charts_ << chart;
  }
  // A run that diverged in one metric is flagged in every chart (and its
  // runaway values in, say, KL do not stretch that chart either).
  diverged_.clear();
  for (CompareChartView* c : charts_)
    for (const distillery::ChartCurve& curve : c->spec().curves)
      if (!curve.divergence_x.empty()) diverged_.insert(curve.run_id);
  for (int64_t id : runIds_) {
    const auto run = store_.run(id);
    if (run && distillery::endedDiverged(*run)) diverged_.insert(id);
  }
  for (CompareChartView* c : charts_) c->setDivergedRuns(diverged_);
  emptyHint_->setVisible(charts_.isEmpty());
  emptyHint_->setText(runIds_.isEmpty() ? tr("Select 2 to 12 runs in the run table and choose Compare.")
                                        : tr("These runs have no recorded metrics yet."));
}

CompareChartView* CompareView::chart(const QString& metric) const {
  for (CompareChartView* c : charts_)
    if (QString::fromStdString(c->spec().metric) == metric) return c;
  return nullptr;
}

void CompareView::setXAxis(distillery::XAxisKind kind) {
  const int at = xAxisCombo_->findData(QString::fromStdString(distillery::toString(kind)));
  if (at >= 0 && xAxisCombo_->currentIndex() != at) xAxisCombo_->setCurrentIndex(at);
  if (kind == xAxis_) return;
  xAxis_ = kind;
  rebuildCharts(); // new x values; the old zoom has other units
}

void CompareView::setLogY(bool logY) {
  if (logYCheck_->isChecked() != logY) logYCheck_->setChecked(logY); // comes back here through toggled
  logY_ = logY;
  for (CompareChartView* c : charts_) c->setLogY(logY);
}

void CompareView::setSmoothing(double weight) {
  weight = std::clamp(weight, 0.0, 0.99);
  const int ticks = int(std::lround(weight * 100));
  if (smoothingSlider_->value() != ticks) {
    const QSignalBlocker block(smoothingSlider_);
    smoothingSlider_->setValue(ticks);
  }
  smoothingLabel_->setText(QString::number(weight, 'f', 2));
  smoothing_ = weight;
  for (CompareChartView* c : charts_) c->setSmoothing(weight);
}

void CompareView::resetZoom() {
  for (CompareChartView* c : charts_) c->resetZoom();
}

void CompareView::updateRunsLabel() {
  if (runIds_.isEmpty()) {
    runsLabel_->setText(tr("<b>Compare</b>: no runs chosen. Select 2 to 12 runs in the run table and press "
                           "<i>Compare</i> (Ctrl+K)."));
    return;
  }
  QStringList chips;
  const auto colors = runColors(runIds_); // as the curves
  for (int64_t id : runIds_) {
    QString name;
    const bool diverged = diverged_.count(id) > 0;
    if (auto run = store_.run(id)) name = QString::fromStdString(run->name).toHtmlEscaped();
    QString chip = QStringLiteral("<span style=\"color:%1; font-size:large\">&#9632;</span>&nbsp;#%2&nbsp;%3")
                       .arg(colors.at(id).name())
                       .arg(id)
                       .arg(name);
    if (diverged) chip += QStringLiteral("&nbsp;<span style=\"color:#c0392b\"><b>&#9888;&nbsp;diverged</b></span>");
    chips << chip;
  }
  QString text = (runIds_.size() == 1 ? tr("<b>Comparing 1 run:</b> ")
                                     : tr("<b>Comparing %1 runs:</b> ").arg(runIds_.size())) +
                 chips.join(QStringLiteral(" &nbsp;&nbsp; "));
  if (runIds_.size() < kMinRuns) text += tr(" &nbsp; <i>(select at least two runs to compare)</i>");
  runsLabel_->setText(text);
}

void CompareView::updateEnabled() {
  const bool any = !runIds_.isEmpty();
  for (QAction* a : exportMenu_->actions()) a->setEnabled(any);
  exportButton_->setEnabled(any);
  resetButton_->setEnabled(!charts_.isEmpty());
  metricsButton_->setEnabled(!available_.isEmpty());
}

QStringList CompareView::exportChartTitles() const {
  QStringList titles;
  for (CompareChartView* c : charts_) titles << metricTitle(QString::fromStdString(c->spec().metric));
  // The cost chart, as distillery-cli export-cost-chart draws it, with the cost tab's settings.
  if (!runIds_.isEmpty()) titles << tr("Cost chart");
  return titles;
}

int CompareView::exportChartCurrent() const {
  if (tabs_->currentWidget() == cost_ && !runIds_.isEmpty()) return int(charts_.size());
  return lastFocused_ ? std::max(0, int(charts_.indexOf(lastFocused_))) : 0;
}

QString CompareView::exportChart(int chartIndex, const QString& path,
                                 const distillery::render::ChartImageOptions& options) {
  const bool cost = chartIndex == charts_.size() && !runIds_.isEmpty();
  if (chartIndex < 0 || (chartIndex >= charts_.size() && !cost)) return tr("No chart to export.");
  try {
    // We never turn on OpenGL for series; the exporter paints with QPainter,
    // so what the screen shows and what the file gets come from one ChartSpec.
    const distillery::ChartSpec spec =
        cost ? distillery::costChartSpec(cost_->costChart()) : charts_[chartIndex]->exportSpec();
    distillery::render::exportChart(spec, path.toStdString(), options);
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
  return {};
}

QString CompareView::exportData(const QString& path) {
  const std::vector<int64_t> ids(runIds_.begin(), runIds_.end());
  const bool json = QFileInfo(path).suffix().compare(QStringLiteral("json"), Qt::CaseInsensitive) == 0;
  try {
    std::ofstream out(path.toStdString(), std::ios::binary | std::ios::trunc);
    if (!out) return tr("%1: cannot open for writing").arg(path);
    if (json) distillery::writePointsJson(store_, ids, {}, out);
    else distillery::writePointsCsv(store_, ids, {}, out);
    out.flush();
    if (!out) return tr("%1: write failed (disk full?)").arg(path);
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
  return {};
}

QString CompareView::exportReport(const QString& path) {
  distillery::render::ReportRequest request;
  request.run_ids.assign(runIds_.begin(), runIds_.end());
  for (const QString& m : chosen_) request.metrics.push_back(m.toStdString());
  request.x_axis = xAxis_;
  request.smoothing = smoothing_;
  try {
    distillery::render::exportReport(store_, request, path.toStdString());
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
  return {};
}

void CompareView::reportResult(const QString& error, const QString& done) {
  if (!error.isEmpty()) QMessageBox::warning(this, tr("Export failed"), error);
  else Q_EMIT statusMessage(done);
}

void CompareView::exportChartInteractive() {
  const QStringList titles = exportChartTitles();
  if (titles.isEmpty()) {
    QMessageBox::information(this, tr("Export chart"), tr("There is no chart to export yet."));
    return;
  }
  const int current = exportChartCurrent();
  ChartExportDialog dialog(titles, current, this);
  const auto fileStem = [this](int i) {
    return i < charts_.size() ? QString::fromStdString(charts_[i]->spec().metric) : QStringLiteral("cost");
  };
  dialog.setPath(QDir::home().filePath(fileStem(current) + QStringLiteral(".pdf")));
  if (dialog.exec() != QDialog::Accepted || dialog.path().isEmpty()) return;
  const QString path = dialog.path();
  if (dialog.chartIndex() >= 0) {
    reportResult(exportChart(dialog.chartIndex(), path, dialog.options()), tr("Chart saved to %1").arg(path));
    return;
  }
  // Every chart: name_metric.ext next to the chosen path.
  const QFileInfo info(path);
  QStringList written;
  for (int i = 0; i < titles.size(); ++i) {
    const QString file = info.dir().filePath(info.completeBaseName() + u'_' + fileStem(i) + u'.' + info.suffix());
    const QString error = exportChart(i, file, dialog.options());
    if (!error.isEmpty()) {
      reportResult(error, {});
      return;
    }
    written << QFileInfo(file).fileName();
  }
  Q_EMIT statusMessage(tr("Saved %1 in %2").arg(written.join(QStringLiteral(", ")), info.dir().path()));
}

void CompareView::exportDataInteractive() {
  const QString path = saveFileName(this, tr("Export every point"), QStringLiteral("points.csv"),
                                                    tr("CSV (*.csv);;JSON (*.json)"));
  if (path.isEmpty()) return;
  reportResult(exportData(path), tr("Points saved to %1").arg(path));
}

void CompareView::exportReportInteractive() {
  const QString path = saveFileName(this, tr("Export report"), QStringLiteral("report.html"),
                                                    tr("HTML, self-contained (*.html);;PDF (*.pdf);;Markdown (*.md);;LaTeX (*.tex)"));
  if (path.isEmpty()) return;
  reportResult(exportReport(path), tr("Report saved to %1").arg(path));
}

} // namespace distillery::gui
