#include "widgets/main_window.h"

#include "core/store/run_delete.h"

#include "widgets/forensics_view.h"

#include "widgets/external_run_controller.h"

#include "core/training/device_name.h"
#include "core/analysis/copy_name.h"

#include "widgets/model_io_actions.h" // issue 4: export model, .pt drops

#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "widgets/compare_view.h"
#include "widgets/fit_to_screen.h"
#include "widgets/generation_view.h"
#include "widgets/lm_run_dialog.h"
#include "widgets/new_run_dialog.h"
#include "widgets/run_browser.h"
#include "widgets/run_controller.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"
#include "widgets/serve_dialog.h" // issue 17: Run > Serve Teacher...
#include "widgets/serve_panel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QTreeView>

#include <algorithm>
#include <map>

namespace distillery::gui {

namespace {
constexpr int kStatusMessageMs = 8000;
}

MainWindow::MainWindow(distillery::RunStore& store, QWidget* parent)
    : QMainWindow(parent), store_(store), controller_(std::make_unique<RunController>(store)) {
  setWindowTitle(tr("Distillery"));
  // A 1024x700 screen gets a window that fits it (the table then fits its figures into that).
  resizeWithinScreen(this, QSize(1400, 900));

  model_ = new RunTableModel(store_, this);
  // Filter box, group-by and the sortable tree of runs (run_browser.h).
  browser_ = new RunBrowser(model_, this);
  table_ = browser_->tree();

  view_ = new RunView(store_, this);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(browser_);
  split->addWidget(view_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  split->setSizes({300, 600});
  split->setChildrenCollapsible(false);

  compare_ = new CompareView(store_, this);
  compare_->setObjectName(QStringLiteral("compareView"));
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("mainTabs"));
  tabs_->setDocumentMode(true);
  tabs_->addTab(split, tr("Runs"));
  tabs_->addTab(compare_, tr("Compare"));
  setCentralWidget(tabs_);
  connect(compare_, &CompareView::statusMessage, this,
          [this](const QString& message) { statusBar()->showMessage(message, kStatusMessageMs); });

  activeLabel_ = new QLabel(this);
  statusBar()->addPermanentWidget(activeLabel_);
  // The hardware a run with "device": "auto" gets: GPU name and memory, or the CPU (issue 20).
  auto* device = new QLabel(tr("Device: %1").arg(QString::fromStdString(deviceHardwareName("auto"))), this);
  device->setObjectName(QStringLiteral("deviceLabel"));
  device->setToolTip(tr("The device of runs whose config says \"device\": \"auto\""));
  statusBar()->addPermanentWidget(device);

  external_ = std::make_unique<ExternalRunController>(store);
  createActions();
  connectController();
  connectExternalRuns();

  connect(browser_, &RunBrowser::selectionChanged, this, [this] {
    showSelection();
    updateActions();
  });
  connect(browser_, &RunBrowser::currentChanged, this, [this] {
    showSelection();
    updateActions(); // baseline and resume depend on the current run
  });
  // A shown run changed in the store (renamed, started, resumed, finished):
  // the details, legends and compared runs show what it is now.
  connect(model_, &RunTableModel::runUpdated, this, [this](qint64 runId) {
    if (runId == view_->currentRun()) view_->refreshSummary();
    if (runId == currentRunId()) updateActions();
  });
  connect(model_, &RunTableModel::runRenamed, this, [this](qint64 runId) {
    if (view_->shownRuns().contains(runId)) showSelection();
    if (compare_->runs().contains(runId)) compare_->reload();
  });
  connect(model_, &RunTableModel::storeError, this, [this](const QString& message) {
    statusBar()->showMessage(tr("Store: %1").arg(message), kStatusMessageMs);
  });

  // Status changes made inside a run (its teacher finishing, say) have no
  // signal of their own; poll the store while anything is active.
  pollTimer_ = new QTimer(this);
  pollTimer_->setInterval(2000);
  connect(pollTimer_, &QTimer::timeout, this, [this] {
    if (controller_->activeCount() > 0) model_->refresh();
    followExternalRuns();
  });
  pollTimer_->start();

  refresh();
  if (store_.recoveredInterrupted() > 0)
    statusBar()->showMessage(
        tr("%n run(s) left running by an earlier session were marked interrupted.", nullptr,
           store_.recoveredInterrupted()),
        kStatusMessageMs);
}

MainWindow::~MainWindow() {
  // Join the workers while the model and views still exist.
  controller_.reset();
  external_.reset();
}

void MainWindow::createActions() {
  QStyle* s = style();
  newRunAction_ = new QAction(s->standardIcon(QStyle::SP_FileIcon), tr("&New Run…"), this);
  newRunAction_->setShortcut(QKeySequence::New);
  newRunAction_->setToolTip(tr("Configure and start a run"));
  connect(newRunAction_, &QAction::triggered, this, &MainWindow::newRun);

  duplicateAction_ = new QAction(s->standardIcon(QStyle::SP_FileDialogContentsView), tr("&Duplicate…"), this);
  duplicateAction_->setShortcut(tr("Ctrl+D"));
  duplicateAction_->setToolTip(tr("Start a new run from the selected run's config"));
  connect(duplicateAction_, &QAction::triggered, this, &MainWindow::duplicateRun);

  baselineAction_ = new QAction(s->standardIcon(QStyle::SP_ArrowDown), tr("Train &Baseline (No Teacher)"), this);
  baselineAction_->setShortcut(tr("Ctrl+B"));
  baselineAction_->setToolTip(tr("Start the selected distill run's student from scratch on labels: "
                                 "same data, optimiser, epochs and seed, no teacher"));
  connect(baselineAction_, &QAction::triggered, this, &MainWindow::trainBaseline);

  resumeAction_ = new QAction(s->standardIcon(QStyle::SP_MediaPlay), tr("&Resume Run"), this);
  resumeAction_->setShortcut(tr("Ctrl+R"));
  connect(resumeAction_, &QAction::triggered, this, &MainWindow::resumeSelected);

  cancelAction_ = new QAction(s->standardIcon(QStyle::SP_BrowserStop), tr("&Cancel Run"), this);
  cancelAction_->setShortcut(tr("Ctrl+."));
  cancelAction_->setToolTip(tr("Stop the selected runs after their current batch"));
  connect(cancelAction_, &QAction::triggered, this, &MainWindow::cancelSelected);

  refreshAction_ = new QAction(s->standardIcon(QStyle::SP_BrowserReload), tr("&Refresh"), this);
  // F5 alone: QKeySequence::Refresh is also Ctrl+R on some desktops, which is Resume here.
  refreshAction_->setShortcut(Qt::Key_F5);
  refreshAction_->setToolTip(tr("Re-read the runs from the store"));
  connect(refreshAction_, &QAction::triggered, this, &MainWindow::refresh);

  compareAction_ = new QAction(s->standardIcon(QStyle::SP_FileDialogDetailedView), tr("C&ompare"), this);
  compareAction_->setShortcut(tr("Ctrl+K"));
  compareAction_->setToolTip(tr("Compare the selected runs (2 to 12) side by side"));
  connect(compareAction_, &QAction::triggered, this, &MainWindow::compareSelected);

  starAction_ = new QAction(tr("&Star / Unstar"), this);
  starAction_->setShortcut(tr("Ctrl+Shift+S")); // not Ctrl+B: that is Train Baseline
  starAction_->setToolTip(tr("Star the selected runs (or unstar them when all are starred)"));
  connect(starAction_, &QAction::triggered, this, &MainWindow::toggleStarSelected);

  renameAction_ = new QAction(tr("Re&name"), this);
  renameAction_->setToolTip(tr("Rename the current run (or double-click its name; F2 edits the current cell)"));
  connect(renameAction_, &QAction::triggered, this, &MainWindow::renameCurrent);

  deleteAction_ = new QAction(s->standardIcon(QStyle::SP_TrashIcon), tr("&Delete…"), this);
  deleteAction_->setShortcut(QKeySequence::Delete);
  deleteAction_->setShortcutContext(Qt::WidgetWithChildrenShortcut); // not while editing a cell elsewhere
  deleteAction_->setToolTip(tr("Delete the selected runs with their points, logs and saved models"));
  connect(deleteAction_, &QAction::triggered, this, &MainWindow::deleteSelected);

  filterAction_ = new QAction(tr("&Filter Runs"), this);
  filterAction_->setShortcut(QKeySequence::Find);
  filterAction_->setToolTip(tr("Type in the filter box above the run table"));
  connect(filterAction_, &QAction::triggered, this, [this] {
    tabs_->setCurrentIndex(0);
    browser_->focusFilter();
  });

  quitAction_ = new QAction(tr("&Quit"), this);
  quitAction_->setShortcut(QKeySequence::Quit);
  quitAction_->setMenuRole(QAction::QuitRole);
  connect(quitAction_, &QAction::triggered, this, &QWidget::close);

  QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
  runMenu->addAction(newRunAction_);
  runMenu->addAction(duplicateAction_);
  runMenu->addAction(baselineAction_);
  runMenu->addAction(resumeAction_);
  runMenu->addAction(cancelAction_);
  runMenu->addSeparator();
  runMenu->addAction(compareAction_);
  // ---- language models (task "lm"): a new GPT run, and a run's generations beside its teacher's
  runMenu->addAction(tr("New &Language-Model Run…"), this, [this] {
    LmRunDialog dialog(store_, this);
    if (dialog.exec() == QDialog::Accepted) startRun(dialog.config(), dialog.placement());
  });
  generationsAction_ = runMenu->addAction(tr("&Generations…"), this,
                                          [this] { openGenerationView(store_, currentRunId(), this); });
  generationsAction_->setToolTip(tr("Text generated by the selected finished language-model run and its teacher"));
  // ---- end of language models
  runMenu->addAction(tr("Ser&ve Teacher…"), this, &MainWindow::serveTeacher)
      ->setToolTip(tr("Serve a finished run or a TorchScript model over HTTP, with its live traffic"));
  runMenu->addAction(tr("&Forensics…"), this, &MainWindow::showForensics) // issue 18
      ->setToolTip(tr("Was a suspect model distilled from a teacher? p-values against independent runs, and ROC"));
  addSweepAndNoteActions(runMenu); // issue 15: New Sweep…, Hyperparameter Plot…, Edit Tags/Notes…
  // ---- models in and out (issue 4): export a run's model; a dropped .pt file teaches a new run
  runMenu->addAction(tr("E&xport Model…"), this, [this] { exportModelInteractively(store_, currentRunId(), this); });
  acceptTorchScriptDrops(this, [this](const QString& file) {
    distillery::RunConfig preset = distillery::RunConfig::defaultDistill();
    preset.teacher.kind = distillery::TeacherSource::Kind::TorchScript;
    preset.teacher.model = distillery::ModelSpec{};
    preset.teacher.model.zoo = "torchscript";
    preset.teacher.model.torchscript = file.toStdString();
    openNewRunDialog(&preset);
  });
  // ---- end of models in and out
  runMenu->addAction(starAction_);
  runMenu->addAction(renameAction_);
  runMenu->addAction(deleteAction_);
  runMenu->addSeparator();
  runMenu->addAction(filterAction_);
  runMenu->addAction(refreshAction_);
  runMenu->addSeparator();
  runMenu->addAction(quitAction_);

  QToolBar* toolbar = addToolBar(tr("Runs"));
  toolbar->setObjectName(QStringLiteral("runToolBar"));
  toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolbar->setMovable(false);
  toolbar->addAction(newRunAction_);
  toolbar->addAction(duplicateAction_);
  toolbar->addAction(baselineAction_);
  toolbar->addAction(resumeAction_);
  toolbar->addAction(cancelAction_);
  toolbar->addAction(compareAction_);
  toolbar->addAction(refreshAction_);

  // Exports of the compare view (charts, data, tables, report).
  menuBar()->addMenu(compare_->exportMenu());

  table_->setContextMenuPolicy(Qt::ActionsContextMenu);
  table_->addActions({compareAction_, duplicateAction_, baselineAction_, resumeAction_, cancelAction_, starAction_, renameAction_, deleteAction_,
                      refreshAction_});
  addViewAndHelpMenus(); // issue 15: View and Help menus, kept table layout

  updateActions();
}

void MainWindow::connectController() {
  RunController* c = controller_.get();
  connect(c, &RunController::runQueued, this, [this] { refresh(); });
  connect(c, &RunController::runStarted, this, [this](qint64 runId) {
    model_->refresh();
    view_->reloadRun(runId); // a resume dropped the points it redoes
    updateActions();
  });
  connect(c, &RunController::runCreated, this, [this](qint64, qint64 parent) {
    model_->refresh();
    // A teacher trained for a shown run joins its charts.
    if (view_->shownRuns().contains(parent)) showSelection();
  });
  connect(c, &RunController::progressChanged, model_, &RunTableModel::setProgress);
  connect(c, &RunController::pointsArrived, this, [this](const MetricPointBatch& points) {
    if (!points) return;
    model_->addPoints(*points);
    view_->addPoints(*points);
  });
  connect(c, &RunController::logArrived, view_, &RunView::addLog);
  connect(c, &RunController::runFinished, this,
          [this](qint64 runId, const QString& status, const QString& message) {
            model_->refresh();
            if (view_->shownRuns().contains(runId)) view_->refreshSummary();
            if (compare_->runs().contains(runId)) compare_->reload();
            QString text = tr("Run #%1 %2").arg(runId).arg(status);
            if (!message.isEmpty()) text += QStringLiteral(": ") + message;
            statusBar()->showMessage(text, kStatusMessageMs);
            updateActions();
          });
}

void MainWindow::refresh() {
  model_->refresh();
  view_->refreshSummary();
  if (forensics_) forensics_->scheduleReload(); // also results stored by the CLI since
  updateActions();
}

QList<int64_t> MainWindow::selectedRunIds() const { return browser_->selectedRunIds(); }

int64_t MainWindow::currentRunId() const { return browser_->currentRunId(); }

void MainWindow::showSelection() {
  const QList<int64_t> selected = selectedRunIds();
  QList<int64_t> shown = selected;
  std::map<int64_t, QString> labels;
  // A distill run's curves come with those of the teacher it trained itself.
  for (int row = 0; row < model_->rowCount(); ++row) {
    const distillery::RunRecord* run = model_->record(model_->runIdAt(row));
    if (run && run->parent_run_id && selected.contains(run->parent_run_id) && !shown.contains(run->id))
      shown.append(run->id);
  }
  for (int64_t id : shown) {
    const distillery::RunRecord* run = model_->record(id);
    QString label = QStringLiteral("#%1").arg(id);
    if (run && !run->name.empty()) label += u' ' + QString::fromStdString(run->name);
    labels[id] = label;
  }
  view_->showRuns(shown, currentRunId(), labels);
}

void MainWindow::selectRun(int64_t runId) { browser_->selectRun(runId); }

void MainWindow::updateActions() {
  bool cancellable = false;
  for (int64_t id : selectedRunIds())
    cancellable = cancellable || controller_->isActive(id) || externalCancellable(id);
  cancellable = cancellable || cancelSweepsOf(selectedRunIds(), true);
  cancelAction_->setEnabled(cancellable);
  // A run another process runs (a `distillery-cli launch` from a terminal) can
  // only be stopped there; say so rather than grey the action out silently.
  const QString cancelTip = tr("Stop the selected runs after their current batch");
  QString elsewhere;
  if (!cancellable)
    for (int64_t id : selectedRunIds()) {
      const distillery::RunRecord* run = model_->record(id);
      if (run && !distillery::isTerminal(run->status)) {
        elsewhere = tr("Unavailable: run #%1 is %2 in another process (a distillery-cli launch from a terminal, "
                       "say), not started by this window: stop it there (Ctrl-C). Resume works here once it stopped.")
                        .arg(id)
                        .arg(QString::fromStdString(distillery::toString(run->status)));
        break;
      }
    }
  cancelAction_->setToolTip(elsewhere.isEmpty() ? cancelTip : cancelTip + u'\n' + elsewhere);
  cancelAction_->setStatusTip(elsewhere);
  duplicateAction_->setEnabled(currentRunId() != 0);
  const distillery::RunRecord* current = model_->record(currentRunId());
  baselineAction_->setEnabled(current && current->task == "distill");
  updateResumeAction(current);
  const int selected = int(selectedRunIds().size());
  compareAction_->setEnabled(selected >= CompareView::kMinRuns);
  deleteAction_->setEnabled(selected > 0);
  starAction_->setEnabled(selected > 0);
  generationsAction_->setEnabled(current && current->task == "lm" &&
                                 current->status == distillery::RunStatus::Finished);
  renameAction_->setEnabled(currentRunId() != 0);
  updateStatusSummary();
}

// Enabled exactly when Resume will start the run (the controller asks the
// store, not the table's cached record); the tooltip says why not.
void MainWindow::updateResumeAction(const distillery::RunRecord* current) {
  std::string why = "select a stopped run";
  if (current) {
    try {
      why = controller_->resumeRefusal(current->id);
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  resumeAction_->setEnabled(why.empty());
  const QString tip = tr("Continue the selected cancelled, interrupted or failed run from its last checkpoint "
                         "(or from step 0 when it stopped before its first one)");
  resumeAction_->setToolTip(why.empty() || !current ? tip : tip + QStringLiteral("\n") +
                                                                    tr("Unavailable: %1").arg(QString::fromStdString(why)));
}

void MainWindow::updateStatusSummary() {
  const int active = controller_->activeCount() + external_->activeCount();
  const QString store = QString::fromStdString(store_.path());
  activeLabel_->setText(active > 0 ? tr("%n run(s) active · %1", nullptr, active).arg(store)
                                   : tr("idle · %1").arg(store));
}

int64_t MainWindow::startRun(const distillery::RunConfig& config) {
  int64_t runId = 0;
  try {
    runId = controller_->startRun(config);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot start the run"), QString::fromUtf8(e.what()));
    return 0;
  }
  selectRun(runId);
  statusBar()->showMessage(tr("Run #%1 started").arg(runId), kStatusMessageMs);
  updateActions();
  return runId;
}

void MainWindow::openNewRunDialog(const distillery::RunConfig* preset) {
  NewRunDialog dialog(store_, this);
  if (preset) dialog.setConfig(*preset);
  if (dialog.exec() == QDialog::Accepted) startRun(dialog.config(), dialog.placement());
}

void MainWindow::newRun() { openNewRunDialog(nullptr); }

void MainWindow::duplicateRun() {
  const distillery::RunRecord* run = model_->record(currentRunId());
  if (!run) return;
  try {
    distillery::RunConfig config = distillery::RunConfig::fromJsonText(run->config_json);
    std::vector<std::string> taken;
    for (int row = 0; row < model_->rowCount(); ++row)
      if (const distillery::RunRecord* other = model_->record(model_->runIdAt(row))) taken.push_back(other->name);
    config.name = distillery::copyName(run->name.empty() ? config.name : run->name, taken);
    openNewRunDialog(&config);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot read the config"),
                         tr("Run #%1: %2").arg(run->id).arg(QString::fromUtf8(e.what())));
  }
}

void MainWindow::trainBaseline() {
  const distillery::RunRecord* run = model_->record(currentRunId());
  if (!run || run->task != "distill") {
    statusBar()->showMessage(tr("Select a distill run: its baseline is its student without the teacher."),
                             kStatusMessageMs);
    return;
  }
  try {
    distillery::RunConfig config = distillery::RunConfig::fromJsonText(run->config_json).baseline();
    // A data-parallel run's baseline trains as it did, on as many local
    // processes (the same batches per rank, the same sync); one that ran under
    // Slurm trains here on one process, its job's options not being kept.
    RunPlacement placement;
    const int ranks = config.distributed.world_size;
    if (ranks > 1 && run->slurm_job_id == 0) {
      placement.kind = RunPlacement::Kind::LocalProcesses;
      placement.nproc = ranks;
    } else {
      config.distributed.world_size = 1;
    }
    const int launches = external_->activeCount();
    const bool started = startRun(config, placement) != 0 || external_->activeCount() > launches;
    if (started)
      statusBar()->showMessage(placement.kind == RunPlacement::Kind::LocalProcesses
                                   ? tr("Baseline of run #%1 launching on %2 local processes, as the run trained: "
                                        "same student, no teacher").arg(run->id).arg(ranks)
                                   : tr("Baseline of run #%1 started: same student, no teacher").arg(run->id),
                               kStatusMessageMs);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot read the config"),
                         tr("Run #%1: %2").arg(run->id).arg(QString::fromUtf8(e.what())));
  }
}

void MainWindow::resumeSelected() {
  const int64_t id = currentRunId();
  if (id == 0) return;
  try {
    // A data-parallel run resumes on as many local processes as it had (launch --resume).
    if (const int ranks = model_->ranks(id); ranks > 1) {
      const std::string why = controller_->resumeRefusal(id);
      if (!why.empty()) throw distillery::StoreError(why);
      external_->resumeLocal(id, ranks);
    } else {
      controller_->resumeRun(id);
    }
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot resume the run"), QString::fromUtf8(e.what()));
    return;
  }
  statusBar()->showMessage(tr("Run #%1 resumed (from its last checkpoint, or from step 0 if it stopped before one)").arg(id),
                           kStatusMessageMs);
  updateActions();
}

void MainWindow::cancelSelected() {
  int asked = 0;
  for (int64_t id : selectedRunIds()) {
    if (controller_->cancelRun(id)) {
      ++asked;
      continue;
    }
    try { // a local launch is interrupted; a Slurm job gets scancel
      if (external_->cancelRun(id)) ++asked;
    } catch (const std::exception& e) {
      QMessageBox::warning(this, tr("Cannot cancel run #%1").arg(id), QString::fromUtf8(e.what()));
    }
  }
  if (cancelSweepsOf(selectedRunIds(), false)) ++asked;
  if (asked > 0)
    statusBar()->showMessage(tr("Stopping %n run(s) after the current batch…", nullptr, asked),
                             kStatusMessageMs);
}

void MainWindow::compareSelected() {
  const QList<int64_t> ids = selectedRunIds();
  if (ids.size() < CompareView::kMinRuns) {
    statusBar()->showMessage(tr("Select at least two runs to compare."), kStatusMessageMs);
    return;
  }
  const QString note = compare_->setRuns(ids);
  tabs_->setCurrentWidget(compare_);
  if (!note.isEmpty()) statusBar()->showMessage(note, kStatusMessageMs);
}

void MainWindow::toggleStarSelected() {
  const QList<int64_t> ids = selectedRunIds();
  bool allStarred = !ids.isEmpty();
  for (int64_t id : ids)
    if (const auto* run = model_->record(id)) allStarred = allStarred && run->starred;
  for (int64_t id : ids) model_->setStarred(id, !allStarred);
}

void MainWindow::renameCurrent() {
  const int64_t id = currentRunId();
  const int row = model_->rowOf(id);
  if (row < 0) return;
  tabs_->setCurrentIndex(0);
  browser_->selectRun(id);
  const QModelIndex index = table_->selectionModel()->currentIndex().siblingAtColumn(RunTableModel::NameColumn);
  if (index.isValid()) table_->edit(index);
}

void MainWindow::deleteSelected() {
  const QList<int64_t> ids = selectedRunIds();
  if (ids.isEmpty()) return;
  // A queued or running run's worker (this window's, a local launch's rank 0, a
  // `distillery-cli launch` in a terminal, a Slurm job) still writes to it:
  // deleting it would fail that process and lose the training. All or nothing:
  // a researcher who selected a mix expects what the confirmation lists to go,
  // or nothing; a partial delete would leave them to work out which went.
  // The store's statuses decide (core's rule, the one deleteStoppedRuns
  // enforces); this window's own workers count too before the table shows them.
  std::string why;
  try {
    why = distillery::deleteRefusal(store_, std::vector<int64_t>(ids.begin(), ids.end()));
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (why.empty()) {
    QStringList active;
    for (int64_t id : ids)
      if (controller_->isActive(id) || externalCancellable(id)) active << QStringLiteral("#%1").arg(id);
    if (!active.isEmpty())
      why = tr("%1 still running or queued here. Cancel first (Ctrl+.), then delete. Nothing was deleted.")
                .arg(active.join(QStringLiteral(", ")))
                .toStdString();
  }
  if (!why.empty()) {
    QString text = QString::fromStdString(why);
    text[0] = text[0].toUpper(); // core's sentence starts lower-case ("run #3 ...")
    QMessageBox::warning(this, tr("Runs are active"), text);
    return;
  }
  QStringList names, students;
  for (int64_t id : ids) {
    const distillery::RunRecord* run = model_->record(id);
    names << QStringLiteral("#%1 %2").arg(id).arg(run ? QString::fromStdString(run->name) : QString());
  }
  // Runs taught by a deleted run keep their results, but lose their teacher's model.
  for (int row = 0; row < model_->rowCount(); ++row) {
    const distillery::RunRecord* run = model_->record(model_->runIdAt(row));
    if (run && run->teacher_run_id && ids.contains(run->teacher_run_id) && !ids.contains(run->id))
      students << QStringLiteral("#%1").arg(run->id);
  }
  const int shownNames = 12;
  QString text = (ids.size() == 1 ? tr("Delete this run?") : tr("Delete these %1 runs?").arg(ids.size())) +
                 QStringLiteral("\n\n") + names.mid(0, shownNames).join(u'\n');
  if (names.size() > shownNames) text += tr("\n… and %1 more").arg(names.size() - shownNames);
  text += tr("\n\nTheir metric points, logs and saved models are removed from the store. This cannot be undone.");
  if (!students.isEmpty())
    text += tr("\n\nRuns %1 were taught by a run being deleted; they keep their results, but the teacher's "
               "model will be gone.").arg(students.join(QStringLiteral(", ")));
  QMessageBox box(QMessageBox::Warning, tr("Delete runs"), text, QMessageBox::Cancel, this);
  QPushButton* remove = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
  box.setDefaultButton(QMessageBox::Cancel);
  box.exec();
  if (box.clickedButton() != remove) return;

  const int deleted = model_->deleteRuns(ids);
  for (int64_t id : ids) compare_->removeRun(id);
  showSelection();
  updateActions();
  statusBar()->showMessage(deleted == 1 ? tr("Deleted 1 run.") : tr("Deleted %1 runs.").arg(deleted), kStatusMessageMs);
}

void MainWindow::serveTeacher() {
  if (servePanel_ && servePanel_->isServing()) {
    tabs_->setCurrentWidget(servePanel_);
    statusBar()->showMessage(tr("A server is running: stop it first (Stop server)."), kStatusMessageMs);
    return;
  }
  ServeDialog dialog(store_.runs(), currentRunId(), QString::fromStdString(store_.path()), this);
  if (dialog.exec() == QDialog::Accepted) startServing(dialog.options());
}

bool MainWindow::startServing(const ServeOptions& options) {
  if (!servePanel_) {
    servePanel_ = new ServePanel(this);
    servePanel_->setObjectName(QStringLiteral("servePanel"));
    tabs_->addTab(servePanel_, tr("Serve"));
    connect(servePanel_, &ServePanel::listening, this, [this](const QString& url) {
      statusBar()->showMessage(tr("Serving the teacher at %1").arg(url), kStatusMessageMs);
    });
    connect(servePanel_, &ServePanel::failed, this, [this](const QString& message) {
      statusBar()->showMessage(tr("Serve: %1").arg(message), kStatusMessageMs);
    });
  }
  tabs_->setCurrentWidget(servePanel_);
  return servePanel_->start(options);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  const int active = controller_->activeCount() + external_->activeCount();
  if (active > 0) {
    const auto answer = QMessageBox::question(
        this, tr("Runs are active"),
        tr("%n run(s) are still active. Cancel them and quit?", nullptr, active),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    statusBar()->showMessage(tr("Stopping runs…"));
    controller_->cancelAll();
    external_->cancelAll(); // local launches; Slurm jobs go on
  }
  // The server finishes the requests in progress, then its thread ends.
  if (servePanel_) servePanel_->stopAndWait();
  event->accept();
}

} // namespace distillery::gui
