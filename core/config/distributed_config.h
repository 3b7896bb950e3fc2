#pragma once
// The run config's "distributed" object: how many ranks train the run
// data-parallel and through which c10d backend (docs/distributed.md).
#include <nlohmann/json.hpp>

#include <string>

namespace distillery {

struct DistributedConfig {
  int world_size = 1;           // 1: one process, no process group
  std::string backend = "auto"; // "auto" (NCCL on CUDA where built in, else Gloo) | "gloo" | "nccl"
  // How long a collective or the rendezvous waits for the other ranks before
  // the run ends naming the rank that is gone.
  double timeout_s = 60.0;
  // BatchNorm statistics over every rank's rows (SyncBatchNorm) instead of each
  // rank's own; image runs with zoo networks (GPTs have no BatchNorm).
  bool sync_batchnorm = false;
  bool enabled() const { return world_size > 1; }
};

// Reads {"world_size": N, "backend": ..., "timeout_s": S, "sync_batchnorm": B}; errors name "distributed.<field>".
DistributedConfig distributedConfigFromJson(const nlohmann::json& object);
nlohmann::json toJson(const DistributedConfig& config);

} // namespace distillery
