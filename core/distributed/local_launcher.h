#pragma once
// `distillery-cli launch`: N rank processes of distillery-cli on this machine,
// meeting at 127.0.0.1 on a free port. Rank 0 runs the run in the store and
// its output streams through; the others train in scratch stores under a
// temporary folder (their logs there too). Ctrl-C reaches every rank; when a
// rank fails, the others get the run's timeout to end on their own, then are
// stopped, and the launcher names the rank that failed first. An interrupt
// after a rank failed kills the others at once (they could only wait on the
// dead one) and still reports the failure. Torch-free.
#include "core/config/run_config.h"

#include <functional>
#include <string>
#include <vector>

namespace distillery {

// The config a launch of nproc ranks runs: distributed.world_size is set to
// nproc when the config leaves it at 1, and must equal it otherwise. Throws
// ConfigError naming --nproc (fewer than 1) or distributed.world_size. The CLI's
// `launch` and the GUI's "N local processes" both go through here.
RunConfig configForLocalRanks(RunConfig config, int nproc);

struct LaunchPlan {
  int nproc = 2;
  std::string exe;          // distillery-cli itself
  std::string store;        // rank 0's store (--db)
  // Rank 0 runs `run <config> --db <store>`, or `resume <id>` when resume_run > 0;
  // the others `run <scratch_config> --db <scratch store>`.
  std::string config_json;  // the run's config, world_size set
  std::string scratch_config_json; // the ranks > 0's, when it differs (a resumed run's teacher); else config_json
  // Called with each rank > 0's scratch store path before any rank starts:
  // puts there what they read (a stored teacher run). Empty: nothing.
  std::function<void(const std::string& scratch_store)> seed_scratch;
  long long resume_run = 0;
  double grace_s = 75.0;    // after a rank fails, how long the others may take to end
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int freeLoopbackPort();

// Runs the ranks to their end. Returns 0 when every rank succeeded, 130 when
// the user interrupted them (before any failed), else 1 with the failed rank
// named on stderr.
int launchLocalRanks(const LaunchPlan& plan);

} // namespace distillery
