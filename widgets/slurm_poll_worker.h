#pragma once
// Asks Slurm about the runs whose job is out, off the GUI thread: squeue,
// sacct and scontrol can take seconds, or the controller's timeout when it
// is down. Lives on a QThread of ExternalRunController; opens its own store
// connection there (one SQLite connection per thread) and goes through the
// same core code as `distillery-cli runs` (core/cluster/slurm_refresh.h), so
// a job that has ended is imported into the store here too.
#include "core/cluster/slurm_job_state.h"

#include <QMetaType>
#include <QObject>
#include <QStringList>

#include <map>
#include <memory>
#include <string>

namespace distillery {
class RunStore;
}

namespace distillery::gui {

// Run id -> the state of its job, for the runs whose job is still out.
using SlurmStates = std::map<qint64, distillery::SlurmJobState>;

class SlurmPollWorker : public QObject {
  Q_OBJECT
public:
  explicit SlurmPollWorker(std::string storePath);
  ~SlurmPollWorker() override;

public Q_SLOTS:
  // One look at every run with a job out; answers with polled().
  void poll();
  // Closes the store connection; called on the worker's thread before it ends.
  void closeStore();

Q_SIGNALS:
  // settled: what was imported, one line per job ("run 3: Slurm job 12 ended (COMPLETED), ...").
  void polled(const distillery::gui::SlurmStates& states, const QStringList& settled, const QString& error);

private:
  const std::string storePath_;
  std::unique_ptr<distillery::RunStore> store_;
};

} // namespace distillery::gui

Q_DECLARE_METATYPE(distillery::gui::SlurmStates)
