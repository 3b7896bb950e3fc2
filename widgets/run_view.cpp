#include "widgets/run_view.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/metric_chart_view.h"
#include "widgets/run_summary_view.h"
#include "widgets/run_table_model.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QChart>
#include <QLabel>
#include <QLegend>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::gui {

RunView::RunView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  loss_ = new MetricChartView(tr("Training loss"), tr("loss"),
                              {QStringLiteral("train_loss"), QStringLiteral("train_soft_loss"),
                               QStringLiteral("train_hard_loss")},
                              this);
  loss_->setObjectName(QStringLiteral("lossChart"));
  accuracy_ = new MetricChartView(tr("Validation accuracy"), tr("accuracy"),
                                  {QStringLiteral("val_accuracy")}, this);
  accuracy_->setObjectName(QStringLiteral("accuracyChart"));
  // Language-model runs measure perplexity where image runs measure accuracy.
  perplexity_ = new MetricChartView(tr("Validation perplexity"), tr("perplexity"),
                                    {QStringLiteral("val_perplexity")}, this);
  perplexity_->setObjectName(QStringLiteral("perplexityChart"));
  perplexity_->hide();
  agreement_ = new MetricChartView(tr("Teacher agreement (validation)"), tr("top-1 agreement"),
                                   {QStringLiteral("val_agreement")}, this);
  agreement_->setObjectName(QStringLiteral("agreementChart"));

  auto* charts = new QWidget(this);
  auto* chartColumn = new QVBoxLayout(charts);
  chartColumn->setContentsMargins(0, 0, 0, 0);
  chartColumn->setSpacing(2);
  auto* chartRow = new QHBoxLayout;
  chartRow->setSpacing(4);
  for (MetricChartView* chart : {loss_, accuracy_, perplexity_, agreement_}) {
    chartRow->addWidget(chart, 1);
    chart->chart()->legend()->hide(); // the shared legend below names the runs
  }
  chartColumn->addLayout(chartRow, 1);
  legend_ = new QLabel(charts);
  legend_->setObjectName(QStringLiteral("runLegend"));
  legend_->setTextFormat(Qt::RichText);
  legend_->setWordWrap(true);
  legend_->setContentsMargins(6, 0, 6, 2);
  chartColumn->addWidget(legend_);

  summary_ = new RunSummaryView(this);
  summary_->setObjectName(QStringLiteral("summaryView"));
  log_ = new QPlainTextEdit(this);
  log_->setObjectName(QStringLiteral("logView"));
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  log_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  log_->setPlaceholderText(tr("Log lines of the selected runs appear here."));

  auto* side = new QSplitter(Qt::Vertical, this);
  side->addWidget(summary_);
  side->addWidget(log_);
  side->setStretchFactor(0, 1);
  side->setStretchFactor(1, 1);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(charts);
  split->addWidget(side);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setSizes({1000, 380});

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  summary_->showNothing(tr("Select a run to see its summary."));
}

void RunView::showRuns(const QList<int64_t>& runIds, int64_t current,
                       const std::map<int64_t, QString>& labels) {
  QList<int64_t> added;
  for (int64_t id : runIds)
    if (!runIds_.contains(id)) added.append(id);
  runIds_ = runIds;
  current_ = current;
  QList<int64_t> logRunIds = runIds_;
  for (int64_t id : runIds_) {
    try {
      const auto run = store_.run(id);
      if (run && run->parent_run_id && !logRunIds.contains(run->parent_run_id)) logRunIds.append(run->parent_run_id);
    } catch (const distillery::DistilleryError&) {
      // unreadable: its own lines only; reloadLogs reports the error
    }
  }
  const bool logsChanged = logRunIds != logRunIds_;
  logRunIds_ = logRunIds;
  showPanelsForTasks();

  for (MetricChartView* chart : charts()) chart->setRuns(runIds_, labels);
  for (int64_t id : added) {
    try {
      const auto points = store_.points(id);
      for (MetricChartView* chart : charts()) chart->addPoints(points);
    } catch (const distillery::DistilleryError& e) {
      log_->appendPlainText(tr("[#%1] could not read points: %2").arg(id).arg(QString::fromUtf8(e.what())));
    }
  }
  labels_ = labels;
  updateLegend();
  if (logsChanged) reloadLogs();
  refreshSummary();
}

void RunView::updateLegend() {
  // Entries break between runs, never inside a name.
  QStringList entries;
  bool anyDiverged = false;
  for (int64_t id : runIds_) {
    const auto it = labels_.find(id);
    const QString name = it != labels_.end() && !it->second.isEmpty() ? it->second : QStringLiteral("#%1").arg(id);
    bool diverged = false;
    for (MetricChartView* chart : charts()) diverged = diverged || chart->isDiverged(id);
    anyDiverged = anyDiverged || diverged;
    QString entry = QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2")
                        .arg(loss_->colorOf(id).name(), name.toHtmlEscaped().replace(u' ', QStringLiteral("&nbsp;")));
    if (diverged) entry += QStringLiteral("&nbsp;<span style=\"color:#d62728\">%1</span>").arg(tr("(diverged)"));
    entries << entry;
  }
  if (anyDiverged)
    entries << QStringLiteral("<span style=\"color:#d62728\">&#9679;</span>&nbsp;%1")
                   .arg(tr("diverged (NaN/Inf)").replace(u' ', QStringLiteral("&nbsp;")));
  const QString text = entries.join(QStringLiteral(" &nbsp; "));
  if (text != legend_->text()) legend_->setText(text);
  legend_->setVisible(!entries.isEmpty());
}

void RunView::showPanelsForTasks() {
  // The panels follow the runs' task: accuracy for image runs, perplexity for
  // language models, both for a mixed selection; with nothing shown, accuracy.
  bool lm = false, image = false;
  for (int64_t id : runIds_) {
    try {
      if (auto run = store_.run(id)) (run->task == "lm" ? lm : image) = true;
    } catch (const distillery::DistilleryError&) {
      image = true; // unreadable: the usual panels
    }
  }
  accuracy_->setVisible(image || !lm);
  perplexity_->setVisible(lm);
}

void RunView::addPoints(const std::vector<distillery::MetricPoint>& points) {
  for (MetricChartView* chart : charts()) chart->addPoints(points);
  updateLegend(); // a run may have diverged
  double wall = -1.0;
  for (const distillery::MetricPoint& p : points)
    if (p.run_id == current_) wall = std::max(wall, p.wall_s);
  if (wall >= 0) summary_->setLatestPointWallSeconds(wall);
}

void RunView::reloadRun(int64_t runId) {
  if (!runIds_.contains(runId)) return;
  for (MetricChartView* chart : charts()) chart->forgetPoints(runId);
  try {
    const auto points = store_.points(runId);
    for (MetricChartView* chart : charts()) chart->addPoints(points);
  } catch (const distillery::DistilleryError& e) {
    log_->appendPlainText(tr("[#%1] could not read points: %2").arg(runId).arg(QString::fromUtf8(e.what())));
  }
  updateLegend();
  reloadLogs();
}

void RunView::replaceRunPoints(int64_t runId, const std::vector<distillery::MetricPoint>& points) {
  if (!runIds_.contains(runId)) return;
  for (MetricChartView* chart : charts()) chart->forgetPoints(runId);
  addPoints(points);
}

void RunView::reloadLogs() {
  log_->clear();
  logCursors_.clear();
  for (int64_t id : logRunIds_) {
    try {
      for (const distillery::LogEvent& event : store_.logs(id)) appendLogLine(event);
    } catch (const distillery::DistilleryError& e) {
      log_->appendPlainText(tr("[#%1] could not read the log: %2").arg(id).arg(QString::fromUtf8(e.what())));
    }
  }
}

void RunView::addLog(const distillery::LogEvent& event) {
  if (!logRunIds_.contains(event.run_id)) return;
  // A line read from the store may still arrive through the live queue.
  auto it = logCursors_.find(event.run_id);
  if (it != logCursors_.end() &&
      (event.wall_s < it->second.wall_s ||
       (event.wall_s == it->second.wall_s && event.message == it->second.message)))
    return;
  appendLogLine(event);
}

void RunView::appendLogLine(const distillery::LogEvent& event) {
  logCursors_[event.run_id] = {event.wall_s, event.message};
  // Every line carries its colour: appended HTML would otherwise inherit the last one.
  QString color = palette().color(QPalette::Text).name();
  if (event.level == "error") color = QStringLiteral("#c0392b");
  else if (event.level == "warning") color = QStringLiteral("#b9770e");
  const QString prefix = logRunIds_.size() > 1 ? QStringLiteral("#%1 ").arg(event.run_id) : QString();
  const QString line = QStringLiteral("%1%2  %3")
                           .arg(prefix, formatDuration(event.wall_s),
                                QString::fromStdString(event.message).toHtmlEscaped());
  log_->appendHtml(QStringLiteral("<span style=\"color:%1; white-space:pre\">%2</span>").arg(color, line));
}

void RunView::refreshSummary() {
  if (current_ == 0) {
    summary_->showNothing(tr("Select a run to see its summary."));
    return;
  }
  try {
    if (auto run = store_.run(current_)) {
      double latest = -1.0; // the training time so far of a run without a summary
      if (!run->summary.contains("wall_s"))
        for (const distillery::MetricPoint& p : store_.points(current_)) latest = std::max(latest, p.wall_s);
      summary_->showRun(*run, latest);
    }
    else summary_->showNothing(tr("Run #%1 is not in the store.").arg(current_));
  } catch (const distillery::DistilleryError& e) {
    summary_->showNothing(tr("Could not read run #%1: %2").arg(current_).arg(QString::fromUtf8(e.what())));
  }
}

} // namespace distillery::gui
