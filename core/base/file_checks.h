#pragma once
// Questions about a path that never throw: a path that cannot be looked at
// (missing, not allowed) is neither a folder nor a file. Readers and probes
// word their own errors.
#include <filesystem>

namespace distillery {

bool isFolder(const std::filesystem::path& p);
bool isRegularFile(const std::filesystem::path& p);

} // namespace distillery
