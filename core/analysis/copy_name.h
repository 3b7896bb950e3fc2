#pragma once
// The name of a run started from another run's config (Run ▸ Duplicate): the
// original's name with the first free " (N)" suffix, so two runs never end
// up with the same name unless a user gives it.
#include <string>
#include <vector>

namespace distillery {

// "kd" -> "kd (2)", "kd (2)" -> "kd (3)", skipping names in `taken`.
std::string copyName(const std::string& name, const std::vector<std::string>& taken);

} // namespace distillery
