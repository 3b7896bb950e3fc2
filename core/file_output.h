#pragma once
// Writing export files, with errors that name the file and the reason.
#include <string>

namespace distillery {

// Writes through a temporary sibling and renames it, so a failed export never
// leaves half a file under the requested name. Throws std::runtime_error.
void writeTextFile(const std::string& path, const std::string& content);
// Lower-case extension without the dot: "report.PDF" -> "pdf"; "" when none.
std::string fileExtension(const std::string& path);

} // namespace distillery
