#pragma once
// The main window: the run table on top, the selected runs' charts, summary
// and log below. Runs execute on worker threads behind RunController; the GUI
// thread only reads its own store connection and handles queued updates.
#include "core/run_config.h"

#include <QList>
#include <QMainWindow>

#include <cstdint>
#include <memory>

class QAction;
class QLabel;
class QTableView;
class QTimer;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class RunController;
class RunTableModel;
class RunView;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  // The store must outlive the window; it is the GUI thread's connection.
  explicit MainWindow(distillery::RunStore& store, QWidget* parent = nullptr);
  ~MainWindow() override; // stops and joins active runs

  // Queues and starts a run and selects it. Returns its id, or 0 after
  // telling the user why it could not be queued.
  int64_t startRun(const distillery::RunConfig& config);
  void selectRun(int64_t runId);

  RunController* controller() const { return controller_.get(); }
  RunTableModel* runModel() const { return model_; }
  QTableView* runTable() const { return table_; }
  RunView* runView() const { return view_; }

public Q_SLOTS:
  void newRun();
  void duplicateRun();
  void cancelSelected();
  void refresh();

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
  void openNewRunDialog(const distillery::RunConfig* preset);

  distillery::RunStore& store_;
  std::unique_ptr<RunController> controller_;
  RunTableModel* model_ = nullptr;
  QTableView* table_ = nullptr;
  RunView* view_ = nullptr;
  QLabel* activeLabel_ = nullptr;
  QTimer* pollTimer_ = nullptr;
  QAction* newRunAction_ = nullptr;
  QAction* duplicateAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QAction* refreshAction_ = nullptr;
  QAction* quitAction_ = nullptr;
};

} // namespace distillery::gui
