#include "core/distributed/rank_environment.h"

#include "core/base/errors.h"

#include <cstdlib>

namespace distillery {

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

int intVariable(const EnvLookup& env, const std::string& name, int fallback, int min, int max) {
  auto text = env(name);
  if (!text) return fallback;
  char* end = nullptr;
  const long v = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < min || v > max)
    throw ConfigError(name, "\"" + *text + "\" is not an integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  return int(v);
}

} // namespace

std::string firstSlurmNode(const std::string& nodelist) {
  // Up to the first comma outside brackets; then a bracket's first number.
  std::string first;
  int depth = 0;
  for (char ch : nodelist) {
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if (ch == ',' && depth == 0) break;
    first += ch;
  }
  const auto open = first.find('[');
  if (open == std::string::npos) return first;
  std::string range = first.substr(open + 1);
  const auto stop = range.find_first_of(",-]");
  return first.substr(0, open) + range.substr(0, stop);
}

std::optional<RankEnvironment> rankEnvironment(const EnvLookup& env) {
  RankEnvironment e;
  if (env("RANK") || env("WORLD_SIZE")) {
    e.source = "RANK/WORLD_SIZE";
    e.world_size = intVariable(env, "WORLD_SIZE", 1, 1, 1 << 16);
    e.rank = intVariable(env, "RANK", 0, 0, e.world_size - 1);
    e.local_rank = intVariable(env, "LOCAL_RANK", e.rank, 0, 1 << 16);
  } else if (env("SLURM_PROCID")) {
    e.source = "SLURM_PROCID/SLURM_NTASKS";
    e.world_size = intVariable(env, "SLURM_NTASKS", 1, 1, 1 << 16);
    e.rank = intVariable(env, "SLURM_PROCID", 0, 0, e.world_size - 1);
    e.local_rank = intVariable(env, "SLURM_LOCALID", 0, 0, 1 << 16);
    if (auto nodes = env("SLURM_JOB_NODELIST")) e.master_addr = firstSlurmNode(*nodes);
    // One port per job, so two jobs sharing a first node do not collide.
    if (auto job = env("SLURM_JOB_ID")) e.master_port = 20000 + int(std::strtoul(job->c_str(), nullptr, 10) % 20000);
  } else {
    return std::nullopt;
  }
  if (auto addr = env("MASTER_ADDR"); addr && !addr->empty()) e.master_addr = *addr;
  e.master_port = intVariable(env, "MASTER_PORT", e.master_port, 1, 65535);
  return e;
}

RankEnvironment checkedRankEnvironment(int config_world_size, const EnvLookup& env) {
  const auto e = rankEnvironment(env);
  const std::string n = std::to_string(config_world_size);
  if (!e)
    throw ConfigError("distributed.world_size",
                      n + " ranks asked for, but this process was not started as a rank (no RANK/WORLD_SIZE or "
                          "SLURM_PROCID in its environment); start it with `distillery-cli launch --nproc " + n + "`");
  if (e->world_size != config_world_size)
    throw ConfigError("distributed.world_size",
                      n + " ranks asked for, but " + e->source + " gives " + std::to_string(e->world_size) +
                          " task" + (e->world_size == 1 ? "" : "s"));
  return *e;
}

} // namespace distillery
