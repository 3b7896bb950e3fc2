#include "core/distributed/launch_scratch_store.h"

#include "core/store/run_store.h"

#include <filesystem>

namespace distillery {

int64_t scratchTeacherRun(RunStore& store, RunConfig& config, const RunRecord* resumed) {
  if (config.isLm()) {
    auto& teacher = config.lm.teacher;
    if (teacher.kind == LmTeacherSource::Kind::Run) return teacher.run_id;
    if (teacher.kind != LmTeacherSource::Kind::Zoo || !resumed || !resumed->teacher_run_id) return 0;
    const auto t = store.run(resumed->teacher_run_id);
    if (!t || t->status != RunStatus::Finished) return 0; // rank 0 resumes its training, data-parallel
    teacher.kind = LmTeacherSource::Kind::Run;
    teacher.run_id = t->id;
    return t->id;
  }
  if (!config.isDistill()) return 0;
  auto& teacher = config.teacher;
  if (teacher.kind == TeacherSource::Kind::Run) return teacher.run_id;
  if (teacher.kind != TeacherSource::Kind::Zoo || !resumed || !resumed->teacher_run_id) return 0;
  const auto t = store.run(resumed->teacher_run_id);
  if (!t || t->status != RunStatus::Finished) return 0;
  teacher.kind = TeacherSource::Kind::Run;
  teacher.run_id = t->id;
  return t->id;
}

void seedScratchStore(RunStore& store, int64_t teacher_id, const std::string& path) {
  std::filesystem::remove(path);
  { RunStore create(path); } // the schema, closed again
  store.exportRunsTo(path, {teacher_id});
}

} // namespace distillery
