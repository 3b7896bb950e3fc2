#include "widgets/run_view.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/metric_chart_view.h"
#include "widgets/run_summary_view.h"
#include "widgets/run_table_model.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
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
  auto* chartRow = new QHBoxLayout(charts);
  chartRow->setContentsMargins(0, 0, 0, 0);
  chartRow->setSpacing(4);
  for (MetricChartView* chart : {loss_, accuracy_, perplexity_, agreement_}) chartRow->addWidget(chart, 1);

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
  const bool logsChanged = runIds != runIds_;
  runIds_ = runIds;
  current_ = current;
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
  if (logsChanged) reloadLogs();
  refreshSummary();
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
  reloadLogs();
}

void RunView::reloadLogs() {
  log_->clear();
  logCursors_.clear();
  for (int64_t id : runIds_) {
    try {
      for (const distillery::LogEvent& event : store_.logs(id)) appendLogLine(event);
    } catch (const distillery::DistilleryError& e) {
      log_->appendPlainText(tr("[#%1] could not read the log: %2").arg(id).arg(QString::fromUtf8(e.what())));
    }
  }
}

void RunView::addLog(const distillery::LogEvent& event) {
  if (!runIds_.contains(event.run_id)) return;
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
  const QString prefix = runIds_.size() > 1 ? QStringLiteral("#%1 ").arg(event.run_id) : QString();
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
