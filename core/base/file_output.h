#pragma once
// Writing export files, with errors that name the file and the reason.
#include <string>

namespace distillery {

// Writes through a temporary sibling, fsyncs it and renames it over path, so
// a failed export or a crash never leaves half a file under the requested
// name. Any bytes, not only text. Throws std::runtime_error naming the file.
void writeTextFile(const std::string& path, const std::string& content);
// Lower-case extension without the dot: "report.PDF" -> "pdf"; "" when none.
std::string fileExtension(const std::string& path);

} // namespace distillery
