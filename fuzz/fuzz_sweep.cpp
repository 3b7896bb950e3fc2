// libFuzzer target: sweep files. Bad input must be a ConfigError; a sweep that
// parses has a bounded size, and each run it expands to is a valid config.
#include "core/base/errors.h"
#include "core/config/sweep_spec.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const distillery::SweepSpec spec = distillery::parseSweepText(text);
    const size_t n = distillery::sweepSize(spec);
    const std::vector<distillery::RunConfig> runs = distillery::expandSweep(spec);
    if (runs.size() != n || n > 10000) std::abort();
  } catch (const distillery::ConfigError&) {
  }
  return 0;
}
