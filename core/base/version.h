#pragma once
#include <string>
#include <vector>

namespace distillery {

std::string appVersion();
std::string libtorchVersion();
// The SQLite library in use at run time (sqlite3_libversion()), not the header's.
std::string sqliteVersion();

// What `--version` prints and Help ▸ About shows, one component a line:
// "Distillery 0.1.0", "LibTorch 1.13.1", "Qt 6.4.2", "SQLite 3.40.1".
// The core has no Qt: callers pass qVersion() (render::qtVersion() in the
// CLI); an empty qt_version says the program was built without Qt.
std::vector<std::string> versionLines(const std::string& qt_version);
// The same lines joined with '\n', with a final newline.
std::string versionText(const std::string& qt_version);

} // namespace distillery
