// libFuzzer target: run configs (JSON text), image and language-model tasks.
// Bad input must be a ConfigError. A config that parses must survive its own
// round trip: what toJson writes parses again to the same JSON.
#include "core/base/errors.h"
#include "core/config/run_config.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  distillery::RunConfig config;
  try {
    config = distillery::RunConfig::fromJsonText(text);
  } catch (const distillery::ConfigError&) {
    return 0;
  }
  const nlohmann::json written = config.toJson();
  try {
    const distillery::RunConfig again = distillery::RunConfig::fromJson(written);
    if (again.toJson() != written) std::abort();
  } catch (const distillery::ConfigError&) {
    std::abort(); // the app wrote a config it cannot read back
  }
  return 0;
}
