#include "core/training/teacher_run.h"

#include "core/base/errors.h"
#include "core/base/stop_token.h"
#include "core/store/resume_check.h"

#include <c10/util/Exception.h>

#include <optional>

namespace distillery {

RunRecord finishedTeacherRun(RunStore& store, int64_t id) {
  const std::string which = "run " + std::to_string(id);
  auto record = store.run(id);
  if (!record) throw ConfigError("teacher.run", which + " does not exist in the store");
  if (record->status != RunStatus::Finished)
    throw ConfigError("teacher.run", which + " is " + toString(record->status) + "; only a finished run can teach");
  return *record;
}

namespace {

// Takes up the stopped child again: from its checkpoint, dropping the points
// recorded after it, or without one from step 0, dropping all its points.
std::optional<TrainingCheckpoint> reopenChild(RunStore& store, RunRecorder& parent_log, const RunRecord& child) {
  const std::string which = "run #" + std::to_string(child.id);
  std::optional<TrainingCheckpoint> checkpoint;
  if (auto bytes = store.loadArtifact(child.id, kCheckpointArtifact))
    checkpoint = decodeCheckpoint(*bytes, "the checkpoint of run " + std::to_string(child.id));
  store.deletePointsAfter(child.id, checkpoint ? checkpoint->step : -1);
  parent_log.log("info", "its teacher, " + which + ", stopped (" + toString(child.status) + ") before it finished: " +
                             (checkpoint ? "resuming it from step " + std::to_string(checkpoint->step)
                                         : std::string("training it again from step 0")));
  return checkpoint;
}

} // namespace

TeacherRun trainTeacherRun(RunStore& store, RunObserver& observer, RunRecorder& parent_log, int64_t parent_id,
                           const RunConfig& teacher_config, const std::string& what, const TeacherTraining& train) {
  std::optional<RunRecord> child;
  if (auto parent = store.run(parent_id)) child = teacherChildRun(store, *parent);
  if (child && child->status == RunStatus::Finished) {
    parent_log.log("info", "teacher: run #" + std::to_string(child->id) + ", trained before this run stopped, is reused");
    return {child->id, true};
  }
  std::optional<TrainingCheckpoint> checkpoint;
  std::string restart_note;
  int64_t id = 0;
  if (child) {
    const std::string why = resumeRefusal(store, *child);
    if (!why.empty()) throw DistilleryError("the teacher cannot continue: " + why);
    id = child->id;
    checkpoint = reopenChild(store, parent_log, *child);
    if (!checkpoint)
      restart_note = "no checkpoint (it stopped before its first one): restarted from step 0 with the same config "
                     "and seed; its earlier points were replaced";
  } else {
    id = store.createRun(teacher_config.name, teacher_config.task, teacher_config.toJson().dump(), parent_id);
    store.setTeacher(parent_id, id);
  }
  observer.onRunCreated(id, parent_id);
  store.setStatus(id, RunStatus::Running);
  observer.onStarted(id);
  if (!child) parent_log.log("info", "training teacher " + what + " as run #" + std::to_string(id));

  RunRecorder recorder(&store, &observer, id);
  if (!restart_note.empty()) recorder.log("info", restart_note);
  nlohmann::json summary;
  try {
    summary = train(id, recorder, checkpoint ? &*checkpoint : nullptr);
  } catch (const RunCancelled&) {
    recorder.flush(true);
    store.setStatus(id, RunStatus::Cancelled, "cancelled while training");
    throw;
  } catch (const DivergedError& e) {
    // The teacher diverged; the parent fails because it has no teacher.
    recorder.flush(true);
    store.setStatus(id, RunStatus::Diverged, e.what());
    throw DistilleryError("the teacher, run #" + std::to_string(id) + ", " + e.what());
  } catch (const c10::Error& e) {
    recorder.flush(true);
    store.setStatus(id, RunStatus::Failed, e.what_without_backtrace());
    throw;
  } catch (const std::exception& e) {
    recorder.flush(true);
    store.setStatus(id, RunStatus::Failed, e.what());
    throw;
  }
  recorder.flush(true);
  store.setSummary(id, summary);
  store.setStatus(id, RunStatus::Finished);
  return {id, false};
}

} // namespace distillery
