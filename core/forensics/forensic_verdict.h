#pragma once
// The verdict of one stored forensic result in plain words, the same in the
// Forensics tab and in reports: a rank p-value at or below kForensicLevel
// calls the suspect a copy. The level is 0.05 because a null of a few dozen
// independent models (what a desktop trains) can reach it; 0.01 would need at
// least 99. A null too small to reach the level is said to be the reason.
#include <nlohmann/json.hpp>

#include <string>

namespace distillery {

inline constexpr double kForensicLevel = 0.05;

// "#12" for "run:12", the file name for a path, a URL as it is.
std::string forensicModelLabel(const std::string& id);

// From a result as ForensicOutcome::toJson stores it:
//   "distilled from #12: p = 0.0244 against 40 independent models"
//   "no evidence of copying: p = 0.41 against 40 independent models"
//   "inconclusive: p = 0.25, the smallest a null of 3 independent models
//    allows; p <= 0.05 needs at least 19"
//   "skipped: <why>"
// reference is shown as given (pass forensicModelLabel(...) or a longer name).
std::string forensicVerdict(const nlohmann::json& result, const std::string& reference);

// The smallest null that can reach kForensicLevel: 19 at 0.05.
int64_t forensicNullNeeded();

} // namespace distillery
