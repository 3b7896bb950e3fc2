#include "core/base/version.h"

#include <sqlite3.h>

namespace distillery {

std::string appVersion() { return DISTILLERY_VERSION; }
// The LibTorch this build links, from CMake (Torch_VERSION): no torch header here.
std::string libtorchVersion() { return DISTILLERY_LIBTORCH_VERSION; }
std::string sqliteVersion() { return sqlite3_libversion(); }

std::vector<std::string> versionLines(const std::string& qt_version) {
  return {"Distillery " + appVersion(), "LibTorch " + libtorchVersion(),
          qt_version.empty() ? std::string("Qt: not built with Qt") : "Qt " + qt_version,
          "SQLite " + sqliteVersion()};
}

std::string versionText(const std::string& qt_version) {
  std::string text;
  for (const std::string& line : versionLines(qt_version)) text += line + '\n';
  return text;
}

} // namespace distillery
