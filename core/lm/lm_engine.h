#pragma once
// Execution of a language-model run (task "lm"), called by executeRun
// (engine.h): load and tokenise the corpus, obtain the teacher (a finished
// LM run, or a GPT trained first as a run of its own), train the student with
// the method, store the model and vocabulary, and return the summary.
#include "core/store/checkpoint.h"
#include "core/config/run_config.h"
#include "core/store/run_observer.h"
#include "core/store/run_recorder.h"
#include "core/base/stop_token.h"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace distillery {

class RunStore;
class DataParallelGroup;

struct LmRunResult {
  bool cancelled = false;
  nlohmann::json summary = nlohmann::json::object();
};

// Throws ConfigError / DataError (e.g. a vocabulary mismatch with the teacher)
// and LibTorch errors; executeRun turns them into the run's error. The
// student's training checkpoints go to the run's "checkpoint" artifact; with
// `resume` it continues from one (the teacher must then be a finished run).
// `parallel`: this process is one rank of a data-parallel run (the student,
// and a teacher trained on the way, train data-parallel).
LmRunResult executeLmRun(RunStore& store, int64_t run_id, const RunConfig& config, RunObserver& observer,
                         const StopToken& stop, RunRecorder& recorder, const TrainingCheckpoint* resume = nullptr,
                         DataParallelGroup* parallel = nullptr);

} // namespace distillery
