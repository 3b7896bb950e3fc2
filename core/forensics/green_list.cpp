#include "core/forensics/green_list.h"

#include "core/base/splitmix64.h"
#include "core/base/errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

namespace distillery {

namespace {

// A key gives the same green lists on every platform and standard library.
uint64_t mix(uint64_t x) { return splitMix64(x); }

} // namespace

std::string watermarkKeyFingerprint(uint64_t key) {
  uint64_t h = key;
  for (int i = 0; i < 16; ++i) h = mix(h ^ 0x6b65792d66707221ULL);
  char buf[16];
  std::snprintf(buf, sizeof buf, "wm-%08x", unsigned(h >> 32));
  return buf;
}

GreenList::GreenList(const WatermarkParams& params, int64_t vocab_size, const std::string& field)
    : params_(params), vocab_(vocab_size) {
  if (vocab_size < 2) throw ConfigError(field, "a vocabulary of " + std::to_string(vocab_size) + " tokens has no partition");
  if (params.context < 1) throw ConfigError(field + ".context", "expected at least 1 token of context");
  green_count_ = std::llround(params.gamma * double(vocab_size));
  if (!(params.gamma > 0.0 && params.gamma < 1.0) || green_count_ < 1 || green_count_ >= vocab_size)
    throw ConfigError(field + ".gamma", "is " + std::to_string(params.gamma) + ": with " + std::to_string(vocab_size) +
                                            " tokens it must leave at least one green and one red token");
}

uint64_t GreenList::windowSeed(const int64_t* window) const {
  uint64_t h = mix(params_.key);
  for (int i = 0; i < params_.context; ++i) h = mix(h ^ uint64_t(window[i]));
  return h;
}

std::vector<uint8_t> GreenList::greens(const int64_t* window) const {
  // A seeded Fisher-Yates shuffle; its first green_count_ tokens are green.
  std::vector<int64_t> order(static_cast<size_t>(vocab_));
  std::iota(order.begin(), order.end(), int64_t(0));
  uint64_t state = windowSeed(window);
  for (int64_t i = vocab_ - 1; i > 0; --i) {
    state = mix(state);
    // Modulo bias: at most V / 2^64 per draw, negligible.
    const int64_t j = int64_t(state % uint64_t(i + 1));
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  std::vector<uint8_t> flags(static_cast<size_t>(vocab_), 0);
  for (int64_t i = 0; i < green_count_; ++i) flags[size_t(order[size_t(i)])] = 1;
  return flags;
}

bool GreenList::isGreen(const int64_t* window, int64_t token) const {
  if (token < 0 || token >= vocab_) return false;
  return greens(window)[size_t(token)] != 0;
}

double binomialSurvivalLog(int64_t k, int64_t n, double p) {
  if (k <= 0) return 0.0;
  if (k > n || p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return 0.0;
  const double lp = std::log(p), lq = std::log1p(-p), lfn = std::lgamma(double(n) + 1.0);
  auto logTerm = [&](int64_t i) {
    return lfn - std::lgamma(double(i) + 1.0) - std::lgamma(double(n - i) + 1.0) + double(i) * lp + double(n - i) * lq;
  };
  // The terms rise up to the mode and fall after it: the largest term of
  // i = k..n sits at max(k, mode).
  const int64_t mode = std::min<int64_t>(n, int64_t(std::floor(double(n + 1) * p)));
  const double top = logTerm(std::max(k, mode));
  double sum = 0.0;
  for (int64_t i = k; i <= n; ++i) {
    const double d = logTerm(i) - top;
    if (i > mode && d < -745.0) break; // past the mode every further term is smaller still
    sum += std::exp(d);
  }
  return std::min(0.0, top + std::log(sum));
}

WatermarkDetector::WatermarkDetector(const GreenList& greens) : greens_(greens) {}

void WatermarkDetector::addPrediction(const int64_t* window, int64_t predicted) {
  const int h = greens_.params().context;
  std::vector<int64_t> pair(window, window + h);
  pair.push_back(predicted);
  if (!seen_.insert(std::move(pair)).second) {
    ++duplicates_;
    return;
  }
  green_ += greens_.isGreen(window, predicted);
}

void WatermarkDetector::addText(const std::vector<int64_t>& tokens) {
  const size_t h = size_t(greens_.params().context);
  for (size_t t = h; t < tokens.size(); ++t) addPrediction(tokens.data() + (t - h), tokens[t]);
}

WatermarkScore WatermarkDetector::score() const {
  WatermarkScore s;
  s.scored = int64_t(seen_.size());
  s.green = green_;
  s.duplicates = duplicates_;
  s.gamma = greens_.greenShare();
  const double log_p = binomialSurvivalLog(s.green, s.scored, s.gamma);
  s.p_value = std::exp(log_p);
  s.log10_p = log_p / std::log(10.0);
  return s;
}

} // namespace distillery
