// MainWindow's runs outside its process (issue 19, "Run on"): local launches
// and Slurm jobs through ExternalRunController, their status in the run
// table, and the charts of runs another process writes into the store.
#include "widgets/main_window.h"

#include "core/cluster/slurm_refresh.h"
#include "core/store/run_store.h"
#include "widgets/external_run_controller.h"
#include "widgets/run_browser.h"
#include "widgets/run_controller.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"
#include "widgets/sweep_launcher.h"

#include <QApplication>
#include <QMessageBox>
#include <QStatusBar>

#include <set>

namespace distillery::gui {

namespace {
constexpr int kMessageMs = 8000;
}

int64_t MainWindow::startRun(const distillery::RunConfig& config, const RunPlacement& placement) {
  if (placement.kind == RunPlacement::Kind::ThisMachine) return startRun(config);
  try {
    if (placement.kind == RunPlacement::Kind::LocalProcesses) {
      external_->launchLocal(config, placement.nproc);
      statusBar()->showMessage(tr("Launching %1 on %n local process(es)…", nullptr, placement.nproc)
                                   .arg(QString::fromStdString(config.name)),
                               kMessageMs);
      updateActions();
      return 0;
    }
    QApplication::setOverrideCursor(Qt::WaitCursor); // sbatch answers in a moment, or its timeout
    struct Restore {
      ~Restore() { QApplication::restoreOverrideCursor(); }
    } restore;
    const int64_t id = external_->submitToSlurm(config, placement.slurm);
    model_->refresh();
    selectRun(id);
    const distillery::RunRecord* run = model_->record(id);
    statusBar()->showMessage(tr("Run #%1 submitted to Slurm as job %2").arg(id).arg(run ? run->slurm_job_id : 0),
                             kMessageMs);
    updateActions();
    return id;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    QMessageBox::warning(this, tr("Cannot start the run on %1").arg(placement.describe()), QString::fromUtf8(e.what()));
    return 0;
  }
}

void MainWindow::connectExternalRuns() {
  ExternalRunController* x = external_.get();
  connect(x, &ExternalRunController::runLaunched, this, [this](qint64 runId, int ranks) {
    model_->refresh();
    selectRun(runId);
    statusBar()->showMessage(tr("Run #%1 started on %n local process(es)", nullptr, ranks).arg(runId), kMessageMs);
    updateActions();
  });
  connect(x, &ExternalRunController::progressChanged, model_, &RunTableModel::setProgress);
  connect(x, &ExternalRunController::runFinished, this,
          [this](qint64 runId, const QString& status, const QString& message) {
            model_->refresh();
            // Its last points (it may have ended between two looks of followExternalRuns).
            followRun(runId);
            follower_.forget(runId);
            if (view_->shownRuns().contains(runId)) view_->refreshSummary();
            QString text = tr("Run #%1 %2").arg(runId).arg(status);
            if (!message.isEmpty()) text += QStringLiteral(": ") + message;
            statusBar()->showMessage(text, kMessageMs);
            updateActions();
          });
  connect(x, &ExternalRunController::rankFailed, this, [this](qint64 runId, const QString& line) {
    // Until the others end the run still reads running: say what it waits for, and that Cancel ends it.
    statusBar()->showMessage(tr("Run #%1: %2; Cancel stops the other ranks now").arg(runId).arg(line), 4 * kMessageMs);
  });
  connect(x, &ExternalRunController::launchFailed, this, [this](const QString& message) {
    QMessageBox::warning(this, tr("The local processes did not start the run"), message);
    updateActions();
  });
  connect(x, &ExternalRunController::slurmStatesChanged, this, [this](const SlurmStates& states) {
    model_->setSlurmStates(states);
    updateActions();
  });
  connect(x, &ExternalRunController::slurmNews, this, [this](const QStringList& lines) {
    model_->refresh(); // an imported job changed its run (and may have added its teacher)
    // A shown run of a Slurm job (an imported one among them) gets its points
    // and log lines: one look, from its first row.
    for (int64_t id : view_->shownRuns()) {
      const distillery::RunRecord* run = model_->record(id);
      if (run && run->slurm_job_id && !follower_.follows(id)) {
        followRun(id);
        follower_.forget(id);
      }
    }
    statusBar()->showMessage(lines.join(QStringLiteral("; ")), kMessageMs);
    updateActions();
  });
}

bool MainWindow::externalCancellable(int64_t runId) const {
  if (external_->isLaunchedHere(runId)) return true;
  const distillery::RunRecord* run = model_->record(runId);
  return run && distillery::hasSlurmJobOut(*run);
}

void MainWindow::followExternalRuns() {
  // Runs this process executes send their points as they come; the others
  // (a local launch's rank 0, a CLI run) only write them to the store.
  std::set<int64_t> running;
  bool jobsOut = false;
  for (int row = 0; row < model_->rowCount(); ++row) {
    const distillery::RunRecord* run = model_->record(model_->runIdAt(row));
    jobsOut = jobsOut || (run && distillery::hasSlurmJobOut(*run));
    if (!run || run->status != distillery::RunStatus::Running) continue;
    if (controller_->isActive(run->id) || sweeps_->cancelSweepOf(run->id, true)) continue;
    running.insert(run->id);
  }
  external_->setJobsOut(jobsOut); // Slurm is asked only while a run has a job out
  // A teacher a shown run trains in another process joins its charts, as one trained here does.
  for (int64_t id : running) {
    const distillery::RunRecord* run = model_->record(id);
    if (run->parent_run_id && view_->shownRuns().contains(run->parent_run_id) && !view_->shownRuns().contains(id)) {
      showSelection();
      break;
    }
  }
  // A run that just ended is read once more, for its last points.
  std::set<int64_t> look = running;
  for (int64_t id : follower_.followed()) look.insert(id);
  for (int64_t id : look) {
    followRun(id);
    if (running.count(id)) continue;
    follower_.forget(id);
    if (id == view_->currentRun()) view_->refreshSummary(); // it ended: its status and summary
  }
}

void MainWindow::followRun(int64_t id) {
  // Only what was written since the last look is read: a long run costs each
  // look its new rows, not all of its points and log lines again.
  const bool first = !follower_.follows(id);
  RunFollower::News news;
  try {
    news = follower_.look(store_, id);
  } catch (const std::exception&) {
    return; // the store is busy or gone: the next look reads from the same cursor
  }
  // The first look, or a resume or import that deleted rows: what the table and
  // charts hold of the run is replaced by all of its rows, which the look returned.
  if (first || news.pointsRestarted) {
    model_->replaceMetrics(id, news.points);
    view_->replaceRunPoints(id, news.points);
  } else if (!news.points.empty()) {
    model_->addPoints(news.points);
    view_->addPoints(news.points); // the charts re-draw what they hold with the new points
  }
  if (first || news.logsRestarted) {
    if (view_->logRuns().contains(id)) view_->reloadLogs();
  } else {
    for (const distillery::LogEvent& event : news.logs) view_->addLog(event);
  }
}

} // namespace distillery::gui
