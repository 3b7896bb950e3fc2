#include "core/analysis/copy_name.h"

#include <algorithm>
#include <cctype>

namespace distillery {

namespace {

// "kd (3)" -> base "kd", number 3; a name without the suffix has number 1.
void splitSuffix(const std::string& name, std::string& base, int& number) {
  base = name;
  number = 1;
  if (name.size() < 4 || name.back() != ')') return;
  const size_t open = name.rfind(" (");
  if (open == std::string::npos) return;
  const std::string digits = name.substr(open + 2, name.size() - open - 3);
  if (digits.empty() || digits.size() > 6 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return;
  base = name.substr(0, open);
  number = std::stoi(digits);
}

} // namespace

std::string copyName(const std::string& name, const std::vector<std::string>& taken) {
  std::string base;
  int number = 1;
  splitSuffix(name, base, number);
  if (base.empty()) base = "copy";
  for (int n = std::max(2, number + 1);; ++n) {
    const std::string candidate = base + " (" + std::to_string(n) + ")";
    if (std::find(taken.begin(), taken.end(), candidate) == taken.end()) return candidate;
  }
}

} // namespace distillery
