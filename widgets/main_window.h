#pragma once
// The main window: the run table on top, the selected runs' charts, summary
// and log below; a second tab compares 2 to 12 runs side by side; a Serve tab
// (Run ▸ Serve Teacher…, issue 17) shows a teacher server's live traffic; a
// Forensics tab (Run ▸ Forensics…, issue 18) tests suspects against a teacher. Runs execute on worker threads behind RunController; the GUI
// thread only reads its own store connection and handles queued updates.
#include "core/config/run_config.h"
#include "widgets/run_follower.h"
#include "widgets/run_placement.h"

#include <QList>
#include <QMainWindow>

#include <cstdint>
#include <map>
#include <memory>

class QAction;
class QLabel;
class QMenu;
class QTabWidget;
class QTimer;
class QTreeView;

namespace distillery {
class RunStore;
struct RunRecord;
}

namespace distillery::gui {

class CompareView;
class ExternalRunController;
class ForensicsView;
class HyperparamView;
class RunAnnotationActions;
class RunBrowser;
class RunController;
class RunTableModel;
class RunView;
class ServePanel;
struct ServeOptions;
class SweepLauncher;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  // The store must outlive the window; it is the GUI thread's connection.
  explicit MainWindow(distillery::RunStore& store, QWidget* parent = nullptr);
  ~MainWindow() override; // stops and joins active runs

  // Queues and starts a run and selects it. Returns its id, or 0 after
  // telling the user why it could not be queued.
  int64_t startRun(const distillery::RunConfig& config);
  // Starts the run where `placement` says (the New Run dialogs' Run on):
  // this machine as startRun(config); N local processes through
  // `distillery-cli launch` (returns 0: the id comes with
  // ExternalRunController::runLaunched); Slurm through sbatch (returns the
  // run's id). 0 after telling the user why it could not start.
  int64_t startRun(const distillery::RunConfig& config, const RunPlacement& placement);
  void selectRun(int64_t runId);
  // Charts, figures and log lines of the runs another process writes into the
  // store, read incrementally (RunFollower). The 2 s poll timer calls it; tests may.
  void followExternalRuns();
  const RunFollower& runFollower() const { return follower_; }

  RunController* controller() const { return controller_.get(); }
  ExternalRunController* externalRuns() const { return external_.get(); }
  RunTableModel* runModel() const { return model_; }
  QTreeView* runTable() const { return table_; }
  RunBrowser* runBrowser() const { return browser_; }
  RunView* runView() const { return view_; }
  CompareView* compareView() const { return compare_; }
  QTabWidget* tabs() const { return tabs_; }
  QAction* baselineAction() const { return baselineAction_; }
  SweepLauncher* sweepLauncher() const { return sweeps_; }
  RunAnnotationActions* annotationActions() const { return annotations_; }
  // The sweep dialog on the current run's config; starts what it describes.
  void newSweep();
  // The hyperparameter plot, on the selected runs (or on the sweep they belong to).
  HyperparamView* showHyperparameters();
  QAction* resumeAction() const { return resumeAction_; }
  QAction* starAction() const { return starAction_; }
  QAction* cancelAction() const { return cancelAction_; }
  QAction* deleteAction() const { return deleteAction_; }
  QAction* generationsAction() const { return generationsAction_; }
  // Run ▸ Serve Teacher… (issue 17): the dialog, then the Serve tab with its live traffic.
  void serveTeacher();
  // The Serve tab; null until a server was first started.
  ServePanel* servePanel() const { return servePanel_; }
  // Starts a server in the Serve tab (made if needed) and shows it; false while one runs.
  bool startServing(const ServeOptions& options);
  // Run ▸ Forensics… (issue 18): the Forensics tab (made if needed, its runs re-read), shown.
  ForensicsView* showForensics();
  ForensicsView* forensicsView() const { return forensics_; }

public Q_SLOTS:
  void newRun();
  void duplicateRun();
  // "Same student, no teacher": starts the selected distill run's baseline
  // (its student trained on labels alone, same data, optimiser, epochs, seed).
  void trainBaseline();
  // Continues the selected cancelled, interrupted or failed run from its last checkpoint.
  void resumeSelected();
  void cancelSelected();
  void refresh();
  // Opens the compare tab on the selected runs (2 to 12).
  void compareSelected();
  // Asks, then removes the selected runs with their points, logs and files.
  // Active runs are refused: cancel them first.
  void deleteSelected();
  void toggleStarSelected();
  void renameCurrent();

protected:
  void closeEvent(QCloseEvent* event) override;

private:
  void createActions();
  void connectController();
  QList<int64_t> selectedRunIds() const;
  int64_t currentRunId() const;
  void showSelection();
  void updateActions();
  void updateStatusSummary();
  void updateResumeAction(const distillery::RunRecord* current);
  void openNewRunDialog(const distillery::RunConfig* preset);
  // main_window_views.cpp (issue 15: 29, 30): sweeps and notes in the Run
  // menu and the table's context menu; View and Help menus; kept table layout.
  void addSweepAndNoteActions(QMenu* runMenu);
  void addViewAndHelpMenus();
  bool cancelSweepsOf(const QList<int64_t>& runIds, bool dryRun);
  // main_window_distributed.cpp (issue 19): runs on local processes or Slurm.
  void connectExternalRuns();
  // One look at a followed run: its new points and log lines into the table and charts.
  void followRun(int64_t runId);
  bool externalCancellable(int64_t runId) const;

  distillery::RunStore& store_;
  std::unique_ptr<RunController> controller_;
  std::unique_ptr<ExternalRunController> external_;
  RunFollower follower_; // runs written elsewhere -> where this window stopped reading them
  RunTableModel* model_ = nullptr;
  RunBrowser* browser_ = nullptr;
  QTreeView* table_ = nullptr; // the browser's tree
  RunView* view_ = nullptr;
  CompareView* compare_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QLabel* activeLabel_ = nullptr;
  QTimer* pollTimer_ = nullptr;
  QAction* newRunAction_ = nullptr;
  QAction* duplicateAction_ = nullptr;
  QAction* baselineAction_ = nullptr;
  QAction* resumeAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QAction* refreshAction_ = nullptr;
  QAction* compareAction_ = nullptr;
  QAction* deleteAction_ = nullptr;
  QAction* starAction_ = nullptr;
  QAction* renameAction_ = nullptr;
  QAction* quitAction_ = nullptr;
  SweepLauncher* sweeps_ = nullptr;
  RunAnnotationActions* annotations_ = nullptr;
  HyperparamView* hyperparams_ = nullptr;
  ServePanel* servePanel_ = nullptr;
  ForensicsView* forensics_ = nullptr;
  QAction* filterAction_ = nullptr;      // Ctrl+F: the filter box
  QAction* generationsAction_ = nullptr; // finished language-model runs only
};

} // namespace distillery::gui
