#pragma once
// The green-list watermark of Kirchenbauer et al. ("A Watermark for Large
// Language Models", ICML 2023) and its detector. A secret key and the h tokens
// before a position seed a partition of the vocabulary; round(gamma * V) tokens
// are "green". Watermarked sampling adds delta to the green logits
// (core/forensics/watermark_sampler.h); text written that way holds more green
// tokens than the share gamma that text independent of the key has. The
// detector counts them, scoring each (h-token window, token) pair once, as
// Sander et al. ("Watermarking makes language models radioactive", NeurIPS
// 2024) do, and tests the count with an exact binomial test. No LibTorch here.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace distillery {

struct WatermarkParams {
  uint64_t key = 0;    // the secret
  double gamma = 0.25; // share of green tokens
  int context = 4;     // h: tokens before a position that seed its green list
};

// One-way-ish 32-bit fingerprint of a key ("wm-1a2b3c4d") to record in run
// summaries instead of the key: it tells two keys apart, it does not hide a
// small key from someone who tries every one.
std::string watermarkKeyFingerprint(uint64_t key);

class GreenList {
public:
  // Throws ConfigError naming field + ".gamma" / ".context" when gamma gives no
  // green or no red token for this vocabulary, or context < 1.
  GreenList(const WatermarkParams& params, int64_t vocab_size, const std::string& field = "watermark");

  const WatermarkParams& params() const { return params_; }
  int64_t vocabSize() const { return vocab_; }
  int64_t greenCount() const { return green_count_; }
  // The exact probability that a token independent of the key is green: greenCount / V.
  double greenShare() const { return double(green_count_) / double(vocab_); }

  // Flags (1 = green) over the vocabulary for the token after window, which
  // points at the params().context tokens just before it, oldest first.
  std::vector<uint8_t> greens(const int64_t* window) const;
  bool isGreen(const int64_t* window, int64_t token) const;

private:
  uint64_t windowSeed(const int64_t* window) const;

  WatermarkParams params_;
  int64_t vocab_;
  int64_t green_count_;
};

// P(X >= k) for X ~ Binomial(n, p), as its natural logarithm (so p-values far
// below 1e-308 stay representable): a log-sum-exp of the exact terms i = k..n.
double binomialSurvivalLog(int64_t k, int64_t n, double p);

struct WatermarkScore {
  int64_t scored = 0;     // distinct (window, token) pairs tested
  int64_t green = 0;      // of them green
  int64_t duplicates = 0; // pairs seen again, left out
  double gamma = 0.0;     // the null share used (GreenList::greenShare)
  double p_value = 1.0;   // P(X >= green | scored, gamma)
  double log10_p = 0.0;   // the same, log10 (finite when p_value underflows)
  double greenFraction() const { return scored ? double(green) / double(scored) : 0.0; }
};

// Accumulates token sequences (or single predictions) and scores them
// together: a (window, token) pair seen before anywhere in what was added is
// not counted again, because repeated contexts repeat their tokens whether or
// not there is a watermark, and would break the binomial test's independence.
class WatermarkDetector {
public:
  explicit WatermarkDetector(const GreenList& greens);
  // Scores tokens[t] under the window tokens[t - h .. t - 1] for every t >= h.
  void addText(const std::vector<int64_t>& tokens);
  // Scores predicted under window (h tokens, oldest first): open-weights mode,
  // where predicted is the suspect's top-1 next token after a fixed text.
  void addPrediction(const int64_t* window, int64_t predicted);
  WatermarkScore score() const;

private:
  const GreenList& greens_;
  std::set<std::vector<int64_t>> seen_;
  int64_t green_ = 0, duplicates_ = 0;
};

} // namespace distillery
