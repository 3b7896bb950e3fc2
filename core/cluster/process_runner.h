#pragma once
// One small way to run a program and read what it says: the Slurm commands
// (sbatch, squeue, sacct, scontrol, scancel) go through here, so a missing
// program, a refusal and a hang are told apart in one place. Torch-free, no Qt.
#include <string>
#include <vector>

namespace distillery {

struct ProcessOutput {
  bool found = true;      // false: the program is not on PATH (nothing ran)
  bool timed_out = false; // killed after the timeout
  int exit_code = -1;     // -1 when it did not exit normally
  std::string out, err;
  bool ok() const { return found && !timed_out && exit_code == 0; }
};

// Runs argv[0] (looked up on PATH) with argv, this process's environment and
// no stdin; collects stdout and stderr; kills it after timeout_s.
ProcessOutput runProgram(const std::vector<std::string>& argv, double timeout_s = 30.0);

// Whether a program is on PATH (an executable file in one of its folders).
bool programOnPath(const std::string& name);

} // namespace distillery
