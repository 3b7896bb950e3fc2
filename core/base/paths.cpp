#include "core/base/paths.h"

#include <cstdlib>

namespace distillery {

std::string defaultStorePath() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  std::string base;
  if (xdg && *xdg) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = std::string(home && *home ? home : ".") + "/.local/share";
  }
  return base + "/distillery/runs.sqlite";
}

std::string resolveStorePath(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  const char* env = std::getenv("DISTILLERY_DB");
  if (env && *env) return env;
  return defaultStorePath();
}

} // namespace distillery
