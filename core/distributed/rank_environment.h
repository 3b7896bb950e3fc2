#pragma once
// Who this process is in a data-parallel run: rank, world size, local rank
// and the master's address, from the launcher's environment
// (RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT, as torchrun and
// `distillery-cli launch` set them) or from Slurm's
// (SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID, the master being the first node of
// SLURM_JOB_NODELIST). Torch-free, so the launcher and tests can use it.
#include <functional>
#include <optional>
#include <string>

namespace distillery {

struct RankEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source; // "RANK/WORLD_SIZE" or "SLURM_PROCID/SLURM_NTASKS": what the errors name
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup processEnvironment();

// The environment's ranks, or nullopt when neither set of variables is there.
// Throws ConfigError naming the variable when one is malformed or out of range.
std::optional<RankEnvironment> rankEnvironment(const EnvLookup& env = processEnvironment());

// The first host of a Slurm node list: "gpu[03-05,07],cpu1" -> "gpu03".
std::string firstSlurmNode(const std::string& nodelist);

// This process's ranks checked against the config's world size, or a
// ConfigError naming distributed.world_size (not started as a rank, or
// started with another number of ranks than the config asks for).
RankEnvironment checkedRankEnvironment(int config_world_size, const EnvLookup& env = processEnvironment());

} // namespace distillery
