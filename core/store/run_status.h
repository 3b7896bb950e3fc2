#pragma once
#include <optional>
#include <string>

namespace distillery {

// Diverged: the training loss became NaN or Inf (the error names the step).
// Interrupted: the process running it ended before it did (crash, kill).
enum class RunStatus { Queued, Running, Finished, Failed, Cancelled, Interrupted, Diverged };

std::string toString(RunStatus status);
std::optional<RunStatus> runStatusFromString(const std::string& text);
inline bool isTerminal(RunStatus s) { return s != RunStatus::Queued && s != RunStatus::Running; }
// Runs that may continue from their last checkpoint. A diverged one may not:
// the same steps from the same checkpoint would diverge again.
inline bool canResume(RunStatus s) {
  return s == RunStatus::Cancelled || s == RunStatus::Interrupted || s == RunStatus::Failed;
}

} // namespace distillery
