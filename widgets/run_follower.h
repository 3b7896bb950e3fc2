#pragma once
// Following the runs another process writes into the store (a `distillery-cli
// launch`'s rank 0, a CLI run, an imported Slurm job), which send this one no
// signals: one cursor per run, so each look reads only the points and log
// lines written since the last (RunStore::pointsSince). A resume or an import
// that deleted rows comes back `restarted`, with all of the run's rows.
#include "core/store/run_store.h"

#include <cstdint>
#include <map>
#include <vector>

namespace distillery::gui {

class RunFollower {
public:
  struct News {
    std::vector<distillery::MetricPoint> points;
    std::vector<distillery::LogEvent> logs;
    // Replace what is held of the run by `points` (or `logs`), rather than add them.
    bool pointsRestarted = false;
    bool logsRestarted = false;
  };

  // What the run gained since the last look (everything, the first time).
  // Throws what the store throws; the cursor then stays where it was.
  News look(distillery::RunStore& store, int64_t runId);
  // Stops following the run: the next look starts from its first row.
  void forget(int64_t runId) { cursors_.erase(runId); }
  bool follows(int64_t runId) const { return cursors_.count(runId) > 0; }
  std::vector<int64_t> followed() const;

private:
  struct Cursors {
    distillery::RowCursor points;
    distillery::RowCursor logs;
  };
  std::map<int64_t, Cursors> cursors_;
};

} // namespace distillery::gui
