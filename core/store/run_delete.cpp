#include "core/store/run_delete.h"

#include "core/base/errors.h"

namespace distillery {

std::string deleteRefusal(RunStore& store, const std::vector<int64_t>& ids) {
  std::vector<std::string> active;
  for (int64_t id : ids) {
    const auto run = store.run(id);
    if (!run || isTerminal(run->status)) continue;
    active.push_back("#" + std::to_string(id) + " \"" + run->name + "\" (" + toString(run->status) + ")");
  }
  if (active.empty()) return {};
  std::string list;
  for (size_t i = 0; i < active.size(); ++i) list += (i ? ", " : "") + active[i];
  const bool one = active.size() == 1;
  const std::string it = one ? "it" : "them";
  return (one ? "run " + list + " is still active: a process is writing to it"
              : "runs " + list + " are still active: processes are writing to them") +
         " (this window, a distillery-cli launch in a terminal, a Slurm job). Cancel " + it +
         " first, or stop " + it + " where " + (one ? "it runs" : "they run") +
         " (Ctrl-C in its terminal, scancel), then delete. "
         "Nothing was deleted.";
}

int deleteStoppedRuns(RunStore& store, const std::vector<int64_t>& ids) {
  const std::string why = deleteRefusal(store, ids);
  if (!why.empty()) throw StoreError(store.path() + ": " + why);
  for (int64_t id : ids) store.deleteRun(id);
  return int(ids.size());
}

} // namespace distillery
