// The main window's table layout, notes, sweeps and hyperparameter plot
// (issue 15, items 29 and 30), kept apart from main_window.cpp's run actions.
#include "widgets/main_window.h"

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/compare_view.h"
#include "widgets/forensics_view.h"
#include "widgets/help_menu.h"
#include "widgets/hyperparam_view.h"
#include "widgets/run_annotation_actions.h"
#include "widgets/run_browser.h"
#include "widgets/run_table_model.h"
#include "widgets/run_table_settings.h"
#include "widgets/run_view.h"
#include "widgets/sweep_dialog.h"
#include "widgets/sweep_launcher.h"
#include "widgets/view_menu.h"

#include <QAction>
#include <QCoreApplication>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeView>

namespace distillery::gui {

namespace {
constexpr int kStatusMessageMs = 8000;
}

void MainWindow::addSweepAndNoteActions(QMenu* runMenu) {
  sweeps_ = new SweepLauncher(store_, this);
  connect(sweeps_, &SweepLauncher::runsChanged, this, [this] {
    model_->refresh();
    updateActions();
  });
  connect(sweeps_, &SweepLauncher::progressChanged, model_, &RunTableModel::setProgress);
  connect(sweeps_, &SweepLauncher::pointsArrived, this, [this](const MetricPointBatch& points) {
    if (!points) return;
    model_->addPoints(*points);
    view_->addPoints(*points);
  });
  connect(sweeps_, &SweepLauncher::logArrived, view_, &RunView::addLog);
  // The new sweep's runs, together, as the table shows them.
  connect(sweeps_, &SweepLauncher::sweepStarted, this, [this] { browser_->setGroupKey("sweep"); });
  connect(sweeps_, &SweepLauncher::sweepFinished, this, [this](qint64, const QString& summary) {
    statusBar()->showMessage(summary, kStatusMessageMs);
    view_->refreshSummary();
    if (hyperparams_ && hyperparams_->isVisible()) hyperparams_->reload();
  });

  QAction* sweep = runMenu->addAction(tr("New S&weep…"), this, &MainWindow::newSweep);
  sweep->setObjectName(QStringLiteral("newSweepAction"));
  sweep->setToolTip(tr("Run a grid of configs around the current run's config, as distillery-cli sweep does"));
  QAction* plot = runMenu->addAction(tr("&Hyperparameter Plot…"), this, [this] { showHyperparameters(); });
  plot->setObjectName(QStringLiteral("hyperparameterAction"));
  plot->setToolTip(tr("Any config key against any summary metric, for the selected runs or a sweep"));

  annotations_ = new RunAnnotationActions(browser_, model_, this);
  runMenu->addAction(annotations_->editTagsAction());
  runMenu->addAction(annotations_->editNotesAction());
}

void MainWindow::addViewAndHelpMenus() {
  auto* separator = new QAction(this);
  separator->setSeparator(true);
  table_->addActions({separator, annotations_->editTagsAction(), annotations_->editNotesAction()});
  addViewMenu(menuBar(), browser_, compare_);
  addHelpMenu(this, QString::fromStdString(store_.path()));
  // The app names its organisation; tests and embedders that do not keep no state.
  if (!QCoreApplication::organizationName().isEmpty()) {
    auto* settings = new RunTableSettings(browser_);
    settings->restore();
  }
}

bool MainWindow::cancelSweepsOf(const QList<int64_t>& runIds, bool dryRun) {
  bool any = false;
  if (!sweeps_) return false;
  for (int64_t id : runIds) any = sweeps_->cancelSweepOf(id, dryRun) || any;
  return any;
}

void MainWindow::newSweep() {
  SweepDialog dialog(this);
  const distillery::RunRecord* run = model_->record(currentRunId());
  if (run) {
    dialog.setBaseConfig(run->config_json);
    // A sweep's run is named "<sweep>/<key>=<value>,...": start from its sweep's name, not the whole run name.
    dialog.setSweepName(QString::fromStdString(run->name).section(u'/', 0, 0) + QStringLiteral("-sweep"));
  } else {
    dialog.setBaseConfig(distillery::RunConfig::defaultDistill().toJson().dump());
  }
  dialog.addAxis(QStringLiteral("seed"), QStringLiteral("0, 1, 2"));
  if (dialog.exec() != QDialog::Accepted) return;
  try {
    sweeps_->start(dialog.sweepDocument(), dialog.parallel());
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot start the sweep"), QString::fromUtf8(e.what()));
    return;
  }
  statusBar()->showMessage(tr("Sweep started: %1 runs").arg(dialog.runCount()), kStatusMessageMs);
}

HyperparamView* MainWindow::showHyperparameters() {
  if (!hyperparams_) {
    hyperparams_ = new HyperparamView(store_, this);
    hyperparams_->setWindowFlag(Qt::Window);
    hyperparams_->setObjectName(QStringLiteral("hyperparamView"));
  }
  const QList<int64_t> ids = selectedRunIds();
  hyperparams_->setSelectedRuns(ids);
  // A single run of a sweep stands for its sweep (a sweep's group row selects all its runs).
  if (ids.size() == 1)
    if (const auto* run = model_->record(ids.front()); run && run->sweep_id) hyperparams_->showSweep(run->sweep_id);
  hyperparams_->show();
  hyperparams_->raise();
  hyperparams_->activateWindow();
  return hyperparams_;
}

// Run ▸ Forensics… (issue 18, part 4): one tab, made once; its run lists
// follow the run table's changes, and are read again each time it is asked for.
ForensicsView* MainWindow::showForensics() {
  if (!forensics_) {
    forensics_ = new ForensicsView(store_, this);
    forensics_->setObjectName(QStringLiteral("forensicsView"));
    tabs_->addTab(forensics_, tr("Forensics"));
    connect(forensics_, &ForensicsView::failed, this,
            [this](const QString& message) { statusBar()->showMessage(tr("Forensics: %1").arg(message), kStatusMessageMs); });
    // The run lists follow the store as the run table learns of it (runs
    // queued, finished, imported, deleted, F5); hidden, the tab reads it when next shown.
    ForensicsView* view = forensics_;
    const auto follow = [view] { view->scheduleReload(); };
    connect(model_, &QAbstractItemModel::rowsInserted, forensics_, follow);
    connect(model_, &QAbstractItemModel::rowsRemoved, forensics_, follow);
    connect(model_, &QAbstractItemModel::modelReset, forensics_, follow);
    connect(model_, &RunTableModel::runUpdated, forensics_, follow);
  } else {
    forensics_->reload();
  }
  tabs_->setCurrentWidget(forensics_);
  return forensics_;
}

} // namespace distillery::gui
