#pragma once
// Watermark radioactivity (Sander et al., "Watermarking makes language models
// radioactive", NeurIPS 2024): was a suspect language model trained on text
// written by a watermarked teacher? Text mode samples text from the suspect
// and counts green tokens; open-weights mode feeds the suspect a fixed text
// (its corpus's validation split) and counts green top-1 next-token
// predictions. Both score each (h-token window, token) pair once and apply an
// exact binomial test (core/forensics/green_list.h). Open weights can instead
// read the suspect's whole next-token distribution at each distinct window:
// its probability mass on the green list, averaged over the window's
// occurrences, optionally minus a reference model's (the teacher's own clean
// distribution), weighted by sqrt(occurrences): a z test with the exact null
// mean and variance (core/forensics/green_weight_test.h). Open weights read
// held-out corpus text or the suspect's own samples.
#include "core/forensics/green_list.h"
#include "core/forensics/green_weight_test.h"
#include "core/forensics/ks_test.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

class RunStore;

struct WatermarkTestRequest {
  WatermarkParams params;
  int64_t samples = 64;      // sequences (text mode) or text windows (open weights)
  int64_t length = 256;      // tokens per sequence / window
  double temperature = 1.0;  // text mode sampling
  uint64_t seed = 0;
  bool open_weights = false;
  // Open weights: what is scored at each position. "top1": the most likely
  // next token, (window, token) pairs, binomial; "mass": the probability on
  // the window's green list, each window once, z test.
  std::string statistic = "top1";
  // mass: a finished LM run of the same vocabulary whose next-token
  // probabilities are subtracted from the suspect's (0: none). It must not
  // depend on the key: the watermarking teacher's own weights qualify (the
  // watermark is added when it samples, not learned).
  int64_t reference_run = 0;
  // Open weights: the text fed. "corpus": `samples` held-out windows of the
  // suspect's corpus at seeded random starts; "heldout": the whole held-out
  // split once, in consecutive windows (`samples` is not used); "samples":
  // the suspect's own samples (as text mode draws them).
  std::string reading = "corpus";
};

struct WatermarkTestResult {
  std::string mode;                  // "text", "open-weights" or "file"
  std::string suspect;               // "run #12 gpt L2 H2 d64 ctx64" or the file
  std::string statistic = "top1";    // open weights: request.statistic; otherwise "tokens"
  std::string reference;             // mass: the reference run, "" for none
  WatermarkScore score;              // top1 and tokens: all samples together, pairs deduplicated across them
  GreenWeightScore weight_score;     // mass: all samples together, windows deduplicated across them
  double p_value() const { return statistic == "mass" ? weight_score.p_value : score.p_value; }
  // Each sample by the pairs (windows) it adds to those before it: disjoint,
  // so independent p-values (samples that add none are left out). A count's
  // p-value is randomized within its observed value (seeded by the request's
  // seed), so that it is exactly U(0, 1) without the watermark; they serve
  // the KS check of calibration, never the verdict.
  std::vector<double> sample_p_values;
  KsResult sample_ks;                // KS test of sample_p_values against U(0, 1)
  int64_t tokens = 0;                // tokens read (generated, fed or in the file)
  int64_t dropped_characters = 0;    // file mode: characters the vocabulary lacks, left out
};

// Tests a finished language-model run. Throws ConfigError("--suspect", ...)
// when the run is missing, not a finished LM run or without its model.
WatermarkTestResult watermarkTestRun(RunStore& store, int64_t run_id, const WatermarkTestRequest& request);

// Tests a UTF-8 text file tokenized with the vocabulary of run vocab_run (the
// teacher's vocabulary: token ids seed the green lists). Characters the
// vocabulary lacks are left out. request.length splits it into samples.
WatermarkTestResult watermarkTestFile(RunStore& store, int64_t vocab_run, const std::string& path,
                                      const WatermarkTestRequest& request);

} // namespace distillery
