#pragma once
// Where a run started from the app executes ("Run on" in the New Run
// dialogs, issue 19): in this process (a worker thread, as always), on N
// local rank processes (`distillery-cli launch`), or as a Slurm job
// (core/cluster/slurm_submit.h). The choice and the Slurm fields are
// remembered in QSettings ("runOn/..."), as other dialogs remember theirs.
#include "core/cluster/slurm_options.h"
#include "core/config/run_config.h"

#include <QString>

namespace distillery {
class RunStore;
}

namespace distillery::gui {

struct RunPlacement {
  enum class Kind { ThisMachine, LocalProcesses, Slurm };
  Kind kind = Kind::ThisMachine;
  int nproc = 2; // LocalProcesses: ranks on this machine
  distillery::SlurmOptions slurm;

  // The config the run executes: world_size set for the ranks through the
  // same core functions the CLI's launch and submit use. Throws their
  // ConfigError (naming --nproc, --nodes, --time, ..., or distributed.world_size).
  distillery::RunConfig placedConfig(const distillery::RunConfig& config) const;
  // "this machine", "2 local processes", "Slurm: 2 nodes x 4 tasks".
  QString describe() const;
};

// The last choice made in a Run on group, or the defaults (this machine).
RunPlacement rememberedPlacement();
void rememberPlacement(const RunPlacement& placement);

// What the user reads under the form when placedConfig refuses: the field
// named as the form labels it ("Run on ▸ Time limit: expected HH:MM:SS ...").
QString placementErrorText(const std::exception& error);

// Empty when `config` can run where `placement` says, else why not: the
// placement's fields (placedConfig), then the engine's quick checks of the
// placed config (a task that cannot run data-parallel is refused there,
// naming distributed.world_size).
QString placementError(const distillery::RunConfig& config, const RunPlacement& placement, distillery::RunStore& store);

} // namespace distillery::gui
