#pragma once
// The checks a run config passes before its row is stored ("preflight"), so a
// config that cannot start is refused with the field at fault and leaves no
// failed run behind. RunConfig::fromJson has checked each value already; these
// look at the world the run will meet: the data files exist in the layout their
// format needs, the validation split leaves training samples, the teacher run
// exists, is finished and fits the task and data, TorchScript files load and
// fit, feature-layer names exist on the models; an API teacher's key is in the
// environment, its query data exists, its reference run fits, and (Full) the API
// answers GET /v1/info with the run's key in a mode the method can use. `distillery-cli run` and
// `sweep`, the GUI's RunController and the New Run dialogs call it; the engine
// still checks everything again when the run starts.
#include "core/config/run_config.h"

#include <string>

namespace distillery {

class RunStore;
struct RunRecord;
struct DataProbe;

enum class PreflightDepth {
  Quick, // files, store lookups and config arithmetic: cheap enough for every edit of a form
  Full,  // also builds or loads the models (layer names, TorchScript files), reads a char corpus and asks a teacher API
};

// Throws ConfigError naming the field (name, data.path, data.val_size,
// teacher.run, teacher.torchscript, teacher.api.key_env, teacher.api.url,
// teacher.api.reference_run, queries.data.path, method.teacher_layer, corpus.path, ...).
// store: where teacher runs are looked up (nullptr: a teacher run cannot be checked).
void preflightRun(const RunConfig& config, RunStore* store, PreflightDepth depth = PreflightDepth::Full);

// "" when the finished run `teacher` can teach `config`: the same kind of task
// (image or language model) and a model that fits it (image: the input shape
// and class count the data gives, as far as `data` tells; language model: a
// context at least the student's, the same tokenizer). Else why not, as a
// sentence to follow "run N ". For views that offer only runs that can teach.
std::string teacherRunMismatch(const RunRecord& teacher, const RunConfig& config, const DataProbe& data);

} // namespace distillery
