#pragma once
#include <optional>
#include <string>

namespace distillery {

enum class RunStatus { Queued, Running, Finished, Failed, Cancelled, Interrupted };

std::string toString(RunStatus status);
std::optional<RunStatus> runStatusFromString(const std::string& text);
inline bool isTerminal(RunStatus s) { return s != RunStatus::Queued && s != RunStatus::Running; }

} // namespace distillery
