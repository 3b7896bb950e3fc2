#pragma once
#include <string>

namespace distillery {

// --db wins, then $DISTILLERY_DB, then $XDG_DATA_HOME/distillery/runs.sqlite
// (default ~/.local/share/distillery/runs.sqlite).
std::string defaultStorePath();
std::string resolveStorePath(const std::string& explicit_path);

} // namespace distillery
