#include "widgets/main_window.h"

#include "core/errors.h"
#include "core/run_store.h"
#include "widgets/new_run_dialog.h"
#include "widgets/progress_bar_delegate.h"
#include "widgets/run_controller.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QToolBar>

#include <algorithm>
#include <map>

namespace distillery::gui {

namespace {
constexpr int kStatusMessageMs = 8000;
}

MainWindow::MainWindow(distillery::RunStore& store, QWidget* parent)
    : QMainWindow(parent), store_(store), controller_(std::make_unique<RunController>(store)) {
  setWindowTitle(tr("Distillery"));
  resize(1400, 900);

  model_ = new RunTableModel(store_, this);
  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("runTable"));
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setAlternatingRowColors(true);
  table_->setWordWrap(false);
  table_->setShowGrid(false);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 10);
  table_->setItemDelegateForColumn(RunTableModel::ProgressColumn,
                                   new ProgressBarDelegate(RunTableModel::ProgressFractionRole, table_));
  QHeaderView* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setSectionResizeMode(RunTableModel::NameColumn, QHeaderView::Stretch);
  header->setHighlightSections(false);
  header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);

  view_ = new RunView(store_, this);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(table_);
  split->addWidget(view_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  split->setSizes({250, 600});
  split->setChildrenCollapsible(false);
  setCentralWidget(split);

  activeLabel_ = new QLabel(this);
  statusBar()->addPermanentWidget(activeLabel_);

  createActions();
  connectController();

  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    showSelection();
    updateActions();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this] { showSelection(); });
  connect(model_, &RunTableModel::storeError, this, [this](const QString& message) {
    statusBar()->showMessage(tr("Store: %1").arg(message), kStatusMessageMs);
  });

  // Status changes made inside a run (its teacher finishing, say) have no
  // signal of their own; poll the store while anything is active.
  pollTimer_ = new QTimer(this);
  pollTimer_->setInterval(2000);
  connect(pollTimer_, &QTimer::timeout, this, [this] {
    if (controller_->activeCount() > 0) model_->refresh();
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

  cancelAction_ = new QAction(s->standardIcon(QStyle::SP_BrowserStop), tr("&Cancel Run"), this);
  cancelAction_->setShortcut(tr("Ctrl+."));
  cancelAction_->setToolTip(tr("Stop the selected runs after their current batch"));
  connect(cancelAction_, &QAction::triggered, this, &MainWindow::cancelSelected);

  refreshAction_ = new QAction(s->standardIcon(QStyle::SP_BrowserReload), tr("&Refresh"), this);
  refreshAction_->setShortcut(QKeySequence::Refresh);
  refreshAction_->setToolTip(tr("Re-read the runs from the store"));
  connect(refreshAction_, &QAction::triggered, this, &MainWindow::refresh);

  quitAction_ = new QAction(tr("&Quit"), this);
  quitAction_->setShortcut(QKeySequence::Quit);
  quitAction_->setMenuRole(QAction::QuitRole);
  connect(quitAction_, &QAction::triggered, this, &QWidget::close);

  QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
  runMenu->addAction(newRunAction_);
  runMenu->addAction(duplicateAction_);
  runMenu->addAction(cancelAction_);
  runMenu->addSeparator();
  runMenu->addAction(refreshAction_);
  runMenu->addSeparator();
  runMenu->addAction(quitAction_);

  QToolBar* toolbar = addToolBar(tr("Runs"));
  toolbar->setObjectName(QStringLiteral("runToolBar"));
  toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolbar->setMovable(false);
  toolbar->addAction(newRunAction_);
  toolbar->addAction(duplicateAction_);
  toolbar->addAction(cancelAction_);
  toolbar->addAction(refreshAction_);

  table_->setContextMenuPolicy(Qt::ActionsContextMenu);
  table_->addActions({duplicateAction_, cancelAction_, refreshAction_});
  updateActions();
}

void MainWindow::connectController() {
  RunController* c = controller_.get();
  connect(c, &RunController::runQueued, this, [this] { refresh(); });
  connect(c, &RunController::runStarted, this, [this] { model_->refresh(); });
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
            QString text = tr("Run #%1 %2").arg(runId).arg(status);
            if (!message.isEmpty()) text += QStringLiteral(": ") + message;
            statusBar()->showMessage(text, kStatusMessageMs);
            updateActions();
          });
}

void MainWindow::refresh() {
  model_->refresh();
  view_->refreshSummary();
  updateActions();
}

QList<int64_t> MainWindow::selectedRunIds() const {
  QList<int64_t> ids;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows())
    ids.append(model_->runIdAt(index.row()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

int64_t MainWindow::currentRunId() const {
  const QModelIndex current = table_->selectionModel()->currentIndex();
  const QList<int64_t> selected = selectedRunIds();
  if (current.isValid() && table_->selectionModel()->isRowSelected(current.row(), {}))
    return model_->runIdAt(current.row());
  return selected.isEmpty() ? 0 : selected.first();
}

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

void MainWindow::selectRun(int64_t runId) {
  const int row = model_->rowOf(runId);
  if (row < 0) return;
  table_->selectionModel()->setCurrentIndex(
      model_->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  table_->scrollTo(model_->index(row, 0));
}

void MainWindow::updateActions() {
  bool cancellable = false;
  for (int64_t id : selectedRunIds()) cancellable = cancellable || controller_->isActive(id);
  cancelAction_->setEnabled(cancellable);
  duplicateAction_->setEnabled(currentRunId() != 0);
  updateStatusSummary();
}

void MainWindow::updateStatusSummary() {
  const int active = controller_->activeCount();
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
  if (dialog.exec() == QDialog::Accepted) startRun(dialog.config());
}

void MainWindow::newRun() { openNewRunDialog(nullptr); }

void MainWindow::duplicateRun() {
  const distillery::RunRecord* run = model_->record(currentRunId());
  if (!run) return;
  try {
    const distillery::RunConfig config = distillery::RunConfig::fromJsonText(run->config_json);
    openNewRunDialog(&config);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot read the config"),
                         tr("Run #%1: %2").arg(run->id).arg(QString::fromUtf8(e.what())));
  }
}

void MainWindow::cancelSelected() {
  int asked = 0;
  for (int64_t id : selectedRunIds())
    if (controller_->cancelRun(id)) ++asked;
  if (asked > 0)
    statusBar()->showMessage(tr("Stopping %n run(s) after the current batch…", nullptr, asked),
                             kStatusMessageMs);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  const int active = controller_->activeCount();
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
  }
  event->accept();
}

} // namespace distillery::gui
