#pragma once
// Runs the app starts outside its own process (issue 19, "Run on"):
//  - N local processes: `distillery-cli launch --nproc N CONFIG --db STORE`
//    as a QProcess. Rank 0 writes the run into the app's store from its own
//    process (WAL, one host); its stderr tells the run's id and its progress.
//    Cancel interrupts the launcher (SIGTERM), which has every rank stop at
//    an agreed step, rank 0 checkpoint, and the run end cancelled.
//  - Slurm: the run is queued in the app's store and submitted through
//    core/cluster (the same code as `distillery-cli submit --slurm`); a
//    SlurmPollWorker on a thread of its own asks Slurm about the jobs out on
//    a timer and imports those that ended. Cancel is scancel.
// The app's process opens the store only through its SQLite connections
// (docs/architecture.md, "Sharing a store"): the config goes to the launcher
// in a file of its own temporary folder.
#include "core/cluster/slurm_options.h"
#include "core/config/run_config.h"
#include "widgets/run_meta_types.h"
#include "widgets/slurm_poll_worker.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <memory>
#include <set>

class QProcess;
class QTemporaryDir;
class QThread;
class QTimer;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class ExternalRunController : public QObject {
  Q_OBJECT
public:
  // guiStore: the GUI thread's connection, a file (the other processes open it too).
  explicit ExternalRunController(distillery::RunStore& guiStore, QObject* parent = nullptr);
  // Interrupts the local launches and waits for them (their runs end
  // cancelled, resumable); Slurm jobs go on, and are followed next time.
  ~ExternalRunController() override;

  // distillery-cli beside this program, as the app is installed and built.
  static QString defaultCliPath();
  void setCliPath(const QString& path) { cli_ = path; }
  QString cliPath() const { return cli_; }
  // How often Slurm is asked about the jobs out (default 5 s).
  void setSlurmPollInterval(int ms);

  // Starts the launcher; the run's id arrives with runLaunched() once rank 0
  // has queued it (or launchFailed() when the launcher refuses). Throws
  // DistilleryError when distillery-cli is missing, ConfigError for a config
  // the ranks cannot run (world size, preflight).
  void launchLocal(const distillery::RunConfig& config, int nproc);
  // `distillery-cli launch --nproc N --resume ID`: a stopped data-parallel run
  // continues on as many local processes as it had (runLaunched at once).
  void resumeLocal(int64_t runId, int nproc);
  // Queues and submits the run; returns its id. Throws what submit would
  // (ConfigError for the options, DistilleryError with sbatch's words).
  int64_t submitToSlurm(const distillery::RunConfig& config, const distillery::SlurmOptions& options);

  // Local launch of this window: interrupts it (a second cancel kills the
  // ranks). A run with a Slurm job out: scancel. False when neither applies;
  // throws DistilleryError with scancel's words when it refuses.
  bool cancelRun(int64_t runId);
  void cancelAll(); // the local launches
  // Whether cancelRun(runId) has something to stop.
  bool isCancellable(int64_t runId) const;
  // A run of a local launch of this window (or the teacher it trains).
  bool isLaunchedHere(int64_t runId) const;
  int activeCount() const { return int(launches_.size()); }
  const SlurmStates& slurmStates() const { return slurmStates_; }
  // Asks Slurm now instead of at the next tick (after a submit or a cancel).
  void pollSlurmNow();
  // Whether the store has runs with a job out, as the window's table sees
  // them: the timer's look at the store (and at Slurm) is skipped without.
  void setJobsOut(bool out);

Q_SIGNALS:
  void runLaunched(qint64 runId, int ranks);
  void progressChanged(const distillery::RunProgress& progress);
  // status: the run's status in the store when the launcher ended; message:
  // the launcher's error (its last lines) when it failed.
  void runFinished(qint64 runId, const QString& status, const QString& message);
  // A rank failed and the launcher waits for the others to end (they may
  // wait on it up to distributed.timeout_s): the launcher's line, once the run's id is known.
  void rankFailed(qint64 runId, const QString& line);
  // The launcher ended before rank 0 queued a run.
  void launchFailed(const QString& message);
  void slurmStatesChanged(const distillery::gui::SlurmStates& states);
  // Jobs that ended and were imported (one line each), or why Slurm could not be asked.
  void slurmNews(const QStringList& lines);

private:
  struct Launch {
    std::unique_ptr<QProcess> process;
    std::unique_ptr<QTemporaryDir> dir; // config.json for the launcher
    int ranks = 0;
    int64_t runId = 0;
    std::set<int64_t> children; // its teacher trained in the run
    QString pending;            // stderr not yet a whole line
    QStringList tail;           // the last lines, for the error message
    QString failedRank;         // the launcher's line on a rank that failed
    int interrupts = 0;
  };

  // Starts the launcher with these arguments (after "launch --nproc N").
  Launch& start(std::unique_ptr<Launch> launch, const QStringList& args);
  void requireCli(const char* what) const;
  void readStderr(Launch& launch);
  void onLine(Launch& launch, const QString& line);
  void onFinished(QProcess* process);
  // Writes the launcher's reason into the run (and its teacher) that rank 0 could not end itself.
  void recordLauncherFailure(const Launch& launch, const QString& message);
  Launch* findLaunch(int64_t runId);
  const Launch* findLaunch(int64_t runId) const;
  void startPoll(bool forced);
  void onPolled(const SlurmStates& states, const QStringList& settled, const QString& error);

  distillery::RunStore& store_;
  std::string storePath_;
  QString cli_;
  std::map<QProcess*, std::unique_ptr<Launch>> launches_;
  QThread* pollThread_ = nullptr;
  SlurmPollWorker* pollWorker_ = nullptr; // lives on pollThread_
  QTimer* pollTimer_ = nullptr;
  bool polling_ = false;
  bool jobsOut_ = true; // until told: the first look finds jobs submitted before the app started
  SlurmStates slurmStates_;
};

} // namespace distillery::gui
