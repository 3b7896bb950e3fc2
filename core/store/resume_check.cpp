#include "core/store/resume_check.h"

#include "core/config/run_config.h"
#include "core/store/checkpoint.h"

namespace distillery {

std::optional<RunRecord> teacherChildRun(RunStore& store, const RunRecord& run) {
  if (run.teacher_run_id == 0) return std::nullopt;
  const RunConfig config = RunConfig::fromJsonText(run.config_json);
  const bool zoo_teacher = (config.isDistill() && config.teacher.kind == TeacherSource::Kind::Zoo) ||
                           (config.isLm() && config.lm.teacher.kind == LmTeacherSource::Kind::Zoo);
  if (!zoo_teacher) return std::nullopt;
  auto child = store.run(run.teacher_run_id);
  // The link outlives a deleted child; a run of another parent is not this one's child.
  if (!child || child->parent_run_id != run.id) return std::nullopt;
  return child;
}

std::string resumeRefusal(RunStore& store, const RunRecord& run) {
  const std::string name = "run " + std::to_string(run.id);
  if (!canResume(run.status)) {
    std::string why = name + " is " + toString(run.status) +
                      "; only a cancelled, interrupted or failed run can be resumed";
    if (run.status == RunStatus::Diverged)
      why += " (from its checkpoint it would diverge again: start it anew with a lower learning rate)";
    return why;
  }
  const bool checkpoint = store.hasArtifact(run.id, kCheckpointArtifact);
  std::optional<RunRecord> child;
  int64_t teacher = 0; // a stored run whose model must teach the resumed run
  bool api_teacher = false;
  try {
    const RunConfig config = RunConfig::fromJsonText(run.config_json);
    api_teacher = config.hasApiTeacher();
    if (config.isDistill() && config.teacher.kind == TeacherSource::Kind::Run) teacher = config.teacher.run_id;
    if (config.isLm() && config.lm.teacher.kind == LmTeacherSource::Kind::Run) teacher = config.lm.teacher.run_id;
    child = teacherChildRun(store, run);
    // Past its first checkpoint, a run had its teacher child finished: resuming reuses it.
    if (checkpoint && run.teacher_run_id && !teacher && !child) teacher = run.teacher_run_id;
    if (checkpoint && child) teacher = child->id;
  } catch (const std::exception& e) {
    return name + ": " + e.what();
  }
  if (teacher) {
    const auto record = store.run(teacher);
    if (!record) return name + ": its teacher, run " + std::to_string(teacher) + ", no longer exists";
    if (record->status != RunStatus::Finished)
      return name + ": its teacher, run " + std::to_string(teacher) + ", is " + toString(record->status) +
             "; only a finished run can teach" + (canResume(record->status) ? " (resume that run first)" : "");
  }
  if (checkpoint) return {};
  if (child && child->status != RunStatus::Finished) {
    const std::string which = "its teacher, run " + std::to_string(child->id);
    if (!isTerminal(child->status))
      return name + " cannot resume while " + which + ", is " + toString(child->status) +
             "; resume it when that run has ended";
    const std::string why = resumeRefusal(store, *child);
    if (!why.empty()) return name + " stopped while training " + which + ", which cannot resume: " + why;
    return {};
  }
  // A run with an API teacher fails mostly because of the server (gone,
  // budget spent) and its answers are cached: starting again buys nothing twice.
  if (run.status == RunStatus::Failed && !api_teacher)
    return name + " failed before its first checkpoint" + (run.error.empty() ? "" : " (" + run.error + ")") +
           "; it would fail again: fix the cause and start it anew";
  return {};
}

std::string resumeRefusal(RunStore& store, int64_t run_id) {
  const auto record = store.run(run_id);
  if (!record) return "run " + std::to_string(run_id) + " does not exist in the store";
  return resumeRefusal(store, *record);
}

} // namespace distillery
