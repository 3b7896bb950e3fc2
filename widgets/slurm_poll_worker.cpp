#include "widgets/slurm_poll_worker.h"

#include "core/cluster/slurm_refresh.h"
#include "core/store/run_store.h"

#include <sstream>

namespace distillery::gui {

SlurmPollWorker::SlurmPollWorker(std::string storePath) : storePath_(std::move(storePath)) {}

SlurmPollWorker::~SlurmPollWorker() = default;

void SlurmPollWorker::closeStore() { store_.reset(); }

void SlurmPollWorker::poll() {
  SlurmStates states;
  QStringList settled;
  QString error;
  try {
    if (!store_) store_ = std::make_unique<distillery::RunStore>(storePath_);
    std::vector<distillery::RunRecord> out = store_->runsWithSlurmJobOut(); // not every run, every 5 s
    if (!out.empty()) {
      std::ostringstream log;
      const distillery::SlurmRefresh refresh = distillery::refreshSlurmRuns(*store_, out, log);
      for (const auto& [id, state] : refresh.active) states[id] = state;
      std::istringstream lines(log.str());
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) settled << QString::fromStdString(line);
    }
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
  Q_EMIT polled(states, settled, error);
}

} // namespace distillery::gui
