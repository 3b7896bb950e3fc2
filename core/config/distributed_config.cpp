#include "core/config/distributed_config.h"

#include "core/config/config_reader.h"

namespace distillery {

DistributedConfig distributedConfigFromJson(const nlohmann::json& object) {
  ConfigReader r(object, "distributed");
  DistributedConfig c;
  // 0 is refused by the range check, naming distributed.world_size.
  c.world_size = int(r.integer("world_size", c.world_size, 1, 1 << 16));
  c.backend = r.oneOf("backend", c.backend, {"auto", "gloo", "nccl"});
  c.timeout_s = r.number("timeout_s", c.timeout_s, 1.0, 86400.0);
  c.sync_batchnorm = r.boolean("sync_batchnorm", c.sync_batchnorm);
  r.finish();
  return c;
}

nlohmann::json toJson(const DistributedConfig& c) {
  nlohmann::json j = {{"world_size", c.world_size}, {"backend", c.backend}, {"timeout_s", c.timeout_s}};
  if (c.sync_batchnorm) j["sync_batchnorm"] = true; // configs without it read as before
  return j;
}

} // namespace distillery
