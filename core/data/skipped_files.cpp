#include "core/data/skipped_files.h"

#include <map>

namespace distillery {

namespace {

const char* reasonKey(SkipReason r) {
  switch (r) {
  case SkipReason::UnsupportedFormat: return "unsupported_format";
  case SkipReason::NotInClassFolder: return "not_in_class_folder";
  case SkipReason::InNestedFolder: return "in_nested_folder";
  case SkipReason::OutsideSplitFolders: return "outside_split_folders";
  }
  return "unknown";
}

struct Group {
  SkipReason reason;
  std::string group;
  std::vector<std::string> paths;
};

// Grouped by reason, then by group, in that order, so the text is stable.
std::vector<Group> grouped(const std::vector<SkippedFile>& skipped) {
  std::map<std::pair<int, std::string>, Group> groups;
  for (const auto& s : skipped) {
    auto& g = groups[{int(s.reason), s.group}];
    g.reason = s.reason;
    g.group = s.group;
    g.paths.push_back(s.path);
  }
  std::vector<Group> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

std::string groupText(const Group& g) {
  const std::string n = std::to_string(g.paths.size());
  switch (g.reason) {
  case SkipReason::UnsupportedFormat:
    return n + " " + (g.group.empty() ? std::string("without extension") : g.group) +
           " (unsupported format; read are .png, .jpg, .jpeg)";
  case SkipReason::NotInClassFolder:
    return n + " in " + (g.group.empty() ? std::string("the dataset folder") : g.group) +
           " itself (not in a class folder)";
  case SkipReason::InNestedFolder:
    return n + " in subfolders of class folders, e.g. " + g.paths.front() +
           " (only files directly in a class folder are read)";
  case SkipReason::OutsideSplitFolders:
    return n + " in " + g.group + " (beside train/, val/ and test/)";
  }
  return n;
}

} // namespace

std::string describeSkipped(const std::vector<SkippedFile>& skipped) {
  std::string text = "skipped " + std::to_string(skipped.size()) + (skipped.size() == 1 ? " file" : " files");
  const auto groups = grouped(skipped);
  for (size_t i = 0; i < groups.size(); ++i) text += (i ? ", " : ": ") + groupText(groups[i]);
  return text;
}

nlohmann::json skippedJson(const std::vector<SkippedFile>& skipped) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& g : grouped(skipped)) {
    nlohmann::json examples = nlohmann::json::array();
    for (size_t i = 0; i < g.paths.size() && i < 3; ++i) examples.push_back(g.paths[i]);
    list.push_back({{"reason", reasonKey(g.reason)}, {"group", g.group}, {"count", g.paths.size()}, {"examples", examples}});
  }
  return {{"count", skipped.size()}, {"groups", list}};
}

} // namespace distillery
