#include "core/forensics/forensic_candidates.h"

#include "core/config/run_config.h"

#include <exception>
#include <map>
#include <optional>

namespace distillery {

namespace {

std::optional<RunConfig> configOf(const RunRecord& run) {
  try {
    return RunConfig::fromJsonText(run.config_json);
  } catch (const std::exception&) {
    return std::nullopt; // an old or foreign config: not offered
  }
}

// Same files read the same way: the null must be asked about the teacher's task.
bool sameData(const DataConfig& a, const DataConfig& b) { return a.dataset == b.dataset && a.path == b.path; }

} // namespace

ForensicCandidates forensicCandidates(const std::vector<RunRecord>& runs, int64_t reference) {
  std::map<int64_t, RunConfig> configs;
  for (const RunRecord& r : runs)
    if (auto c = configOf(r)) configs.emplace(r.id, std::move(*c));
  const auto ref = configs.find(reference);
  ForensicCandidates out;
  for (const RunRecord& r : runs) {
    if (r.id == reference || r.status != RunStatus::Finished) continue;
    const auto c = configs.find(r.id);
    if (c == configs.end() || c->second.isLm()) continue;
    const RunConfig& config = c->second;
    const bool no_teacher = !config.isDistill() || config.method.name == "none";
    if (no_teacher) {
      if (ref == configs.end() || sameData(config.data, ref->second.data)) out.independent.push_back({r.id, "independent"});
      continue;
    }
    if (reference <= 0) continue;
    // An API clone's teacher is a server; its reference run says whose model that server answered with.
    if (config.hasApiTeacher() && config.teacher.api.reference_run == reference)
      out.students.push_back({r.id, config.method.name + " via API"});
    else if (r.teacher_run_id == reference)
      out.students.push_back({r.id, config.method.name});
  }
  return out;
}

} // namespace distillery
