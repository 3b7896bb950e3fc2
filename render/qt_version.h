#pragma once
// The Qt version distillery-cli runs with, for `distillery-cli --version`.
// Here because render/ is the CLI's only Qt dependency (the core has none).
#include <string>

namespace distillery::render {

std::string qtVersion(); // qVersion(): the run-time library's version

} // namespace distillery::render
