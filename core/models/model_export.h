#pragma once
// Models out: a finished run's trained model written as a TorchScript file
// that Python's torch.jit.load runs without Distillery, with the app's
// outputs (see torchscript_export.h for how). Torch-free header, for the GUI.
#include <cstdint>
#include <string>

namespace distillery {

class RunStore;

// Writes the trained model of finished run `run_id` to out_path and returns
// the number of bytes written. Throws ConfigError("export", ...) when the run
// does not exist, is not finished or has no model; DataError(out_path, ...)
// when the file cannot be written.
int64_t exportRunModel(RunStore& store, int64_t run_id, const std::string& out_path);

} // namespace distillery
