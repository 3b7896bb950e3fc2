#pragma once
// PRADA (Juuti et al., "PRADA: Protecting against DNN Model Stealing
// Attacks", EuroS&P 2019) over one API key's logged queries. For each new
// query, the minimum L2 distance to the key's earlier queries; once enough of
// those distances exist, the Shapiro-Wilk W of their set. Natural inputs give
// distances that look roughly normal; an extraction attack's synthetic or
// near-duplicate inputs do not, and W falls below the threshold delta.
//
// Departures from the paper, because the request log keeps neither inputs nor
// answers: distances are between the log's sketches (input_sketch.h: 8x8 grey
// thumbnails, raw units), not the inputs; and every earlier query is in the
// growing set, not only those of the same predicted class (the log has no
// predicted classes), with no threshold on what joins it. Exact repeats (same
// SHA-256 as an earlier query) are counted and left out of the distances:
// their distance 0 says nothing about the input distribution, and honest users
// repeat themselves.
#include "core/serve/input_sketch.h"

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace distillery {

struct PradaQuery {
  std::string sha256;
  InputSketch sketch;
};

struct PradaOptions {
  double delta = 0.80;           // flagged when W < delta (natural images dip to ~0.85 early on)
  int64_t min_distances = 20;    // W is tested from this many distances on
  int64_t max_distances = 5000;  // the test's limit: the most recent ones
};

struct PradaTrace {
  int64_t queries = 0;
  int64_t distinct = 0;          // distinct SHA-256s
  int64_t exact_repeats = 0;     // queries - distinct
  std::vector<double> distances; // one per new (non-repeated) query after the first
  double w = -1;                 // W of every distance at the end; -1 with too few
  double p = -1;
  double min_w = -1;             // the lowest W along the way; -1 with too few
  int64_t flagged_after = 0;     // queries seen when W first fell below delta; 0: never
};

// PRADA one query at a time, for a log that grows (the traffic panel): after
// each add() the trace is what pradaTrace() gives on every query so far.
class PradaStream {
public:
  explicit PradaStream(const PradaOptions& options = {}) : options_(options) {}
  // Adds the next answered query; returns W after it, NaN while there are too
  // few distances to test (a repeat leaves W as it was).
  double add(const PradaQuery& query);
  const PradaTrace& trace() const { return trace_; }

private:
  PradaOptions options_;
  PradaTrace trace_;
  std::unordered_set<std::string> seen_;
  std::vector<InputSketch> growing_; // the key's distinct queries so far
};

// `queries` in the order they were answered.
PradaTrace pradaTrace(const std::vector<PradaQuery>& queries, const PradaOptions& options = {});

// The L2 distance between two sketches of the same size (infinity otherwise).
double sketchDistance(const InputSketch& a, const InputSketch& b);

} // namespace distillery
