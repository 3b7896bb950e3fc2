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
            model_->reloadMetrics(runId);
            view_->reloadRun(runId);
            followedPoints_.erase(runId);
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
  for (const auto& [id, seen] : followedPoints_) look.insert(id);
  for (int64_t id : look) {
    int64_t count = 0;
    try {
      count = store_.pointCount(id);
    } catch (const std::exception&) {
      continue;
    }
    auto it = followedPoints_.find(id);
    if (it == followedPoints_.end() || it->second != count) {
      model_->reloadMetrics(id);
      view_->reloadRun(id); // charts and log, when shown
      if (id == view_->currentRun()) view_->refreshSummary();
    }
    if (running.count(id)) followedPoints_[id] = count;
    else followedPoints_.erase(id);
  }
}

} // namespace distillery::gui
