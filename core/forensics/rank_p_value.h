#pragma once
// The p-value of a suspect's statistic as its rank against a null of
// statistics from models known to be independent of the teacher (issue 18):
// p = (1 + #null at least as close to the teacher) / (null size + 1). The +1
// counts the suspect itself, so p is never 0 and its smallest value, 1/(n+1),
// says how strong a claim a null of n models can support at all.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

// Which way a statistic points: agreement grows with similarity, a distance shrinks.
enum class Closeness { HigherIsCloser, LowerIsCloser };

struct RankPValue {
  double p_value = 1.0;
  int64_t null_size = 0;
  int64_t at_least_as_close = 0; // null models whose statistic is as close to the teacher or closer (ties count)
};

// Throws ConfigError("null", ...) for an empty null or a non-finite value.
RankPValue rankPValue(double statistic, const std::vector<double>& null, Closeness closeness);

const char* toString(Closeness c); // "higher", "lower": which way is closer

} // namespace distillery
