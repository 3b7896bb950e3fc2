#pragma once
// The stores of a local launch's ranks > 0 (docs/distributed.md, "The store
// during a distributed run"). They train in scratch stores under the
// launcher's temporary folder, and never read the real one during the run;
// what they need from it, a finished run that teaches this one, is copied in
// before they start: the teacher run with its id, row and artifacts (its
// model), as Slurm's seed store carries it. The launcher reads the real store
// once, on this host (WAL readers beside rank 0 are safe). Torch-free.
#include "core/config/run_config.h"

#include <cstdint>
#include <string>

namespace distillery {

class RunStore;
struct RunRecord;

// The finished run the ranks > 0 read as their teacher, 0 when none: the
// config's "teacher": {"run": ID}; on resume (record given), also a teacher
// the run trained on the way that has finished (rank 0 reuses it, so the
// others must too). When it is the latter, config's teacher becomes {"run": ID}
// for the ranks > 0.
int64_t scratchTeacherRun(RunStore& store, RunConfig& config, const RunRecord* resumed);

// Creates the scratch store at path holding run teacher_id from store, with
// its artifacts (no points or logs). Throws StoreError naming the paths.
void seedScratchStore(RunStore& store, int64_t teacher_id, const std::string& path);

} // namespace distillery
