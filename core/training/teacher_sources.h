#pragma once
// Where an image run's teacher comes from, besides training one as a child
// run (teacher_run.h): the model of a finished run, or a TorchScript file.
// Each comes back on `device`, checked against the dataset.
#include "core/training/prepared_model.h"

#include <torch/torch.h>

#include <string>

namespace distillery {

class RunStore;

// Throws ConfigError("teacher.run", ...) when the run cannot teach (not
// finished, no model) or its model does not fit this dataset.
TrainedModel teacherFromStoredRun(RunStore& store, int64_t teacher_run_id, const Dataset& data, torch::Device device);

// Throws ConfigError("teacher.torchscript", ...) for a file that does not load or fit.
TrainedModel teacherFromTorchScript(const ModelSpec& spec, const Dataset& data, torch::Device device);

// SHA-256 of what the teacher computes: its architecture, weights and buffers
// (the teacher-output cache's key).
std::string teacherDigest(const TrainedModel& teacher);

} // namespace distillery
