#pragma once
// Files a dataset reader saw but did not read, with the reason, so that a run
// can say what it left out instead of dropping files silently.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace distillery {

enum class SkipReason {
  UnsupportedFormat,    // not .png/.jpg/.jpeg (e.g. .webp, .bmp, .gif, .txt)
  NotInClassFolder,     // directly in train/ (or the dataset folder) instead of in a class folder
  InNestedFolder,       // in a subfolder of a class folder: only a class folder's own files are read
  OutsideSplitFolders,  // beside train/, val/ and test/ in a dataset folder that has train/
};

struct SkippedFile {
  std::string path; // relative to the dataset folder, '/'-separated; folders end in '/'
  SkipReason reason;
  std::string group; // what files of one reason are counted by: ".webp", "train/", ...
};

// One line for the run's log, e.g. "skipped 3 files: 2 .webp (unsupported
// format; read are .png, .jpg, .jpeg), 1 in train/ itself (not in a class folder)".
std::string describeSkipped(const std::vector<SkippedFile>& skipped);

// For the run's summary (data.skipped): {"count": N, "groups": [{"reason",
// "group", "count", "examples": [up to 3 paths]}, ...]}.
nlohmann::json skippedJson(const std::vector<SkippedFile>& skipped);

} // namespace distillery
