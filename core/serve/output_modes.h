#pragma once
// What the caller gets back per input, and the registry of output
// post-processors that produce it (issue 17 items 1-2).
//
// A post-processor has a name, a parameter schema and a function on a
// probability batch. Two kinds exist:
//   transform  ProbBatch -> ProbBatch (a defense that perturbs the
//              distribution: output_defenses.h), and
//   mode       ProbBatch -> one JSON answer per input: probs, topk, rounded, label.
// An output pipeline is any number of transforms followed by exactly one mode,
// so a later defense composes in front of whichever mode the server uses.
//
// Config (the serve config's "output"): {"mode": "topk", "k": 3}, with the
// mode's parameters beside its name; "transforms": [{"name": ..., ...}]
// lists the defenses, applied in order before the mode.
#include "core/serve/prob_batch.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace distillery {

struct OutputParam {
  std::string name;
  std::string type; // "integer" or "number"
  double min = 0, max = 0, fallback = 0;
  std::string help;
};

struct OutputProcessorInfo {
  std::string name;
  enum class Kind { Transform, Mode } kind = Kind::Mode;
  std::string help;
  std::vector<OutputParam> params;
};

const std::vector<OutputProcessorInfo>& outputProcessors();

using ProbTransform = std::function<ProbBatch(ProbBatch)>;
// One answer per row, e.g. {"label": 3, "probs": [...]}; `labels` are the class names.
using OutputRenderer = std::function<nlohmann::json(const ProbBatch&, int64_t row)>;

struct OutputPipeline {
  std::vector<ProbTransform> transforms;
  OutputRenderer render;
  std::string mode;          // the mode's name, as logged and reported
  nlohmann::json parameters; // the resolved config: {"mode": ..., params...}

  // The answers for every row, after the transforms: a JSON array.
  nlohmann::json apply(ProbBatch batch) const;
};

// Builds the pipeline from the "output" object; `classes` bounds topk's k.
// Throws ConfigError naming the field ("output.mode", "output.k").
OutputPipeline buildOutputPipeline(const nlohmann::json& output, int64_t classes, const std::string& path = "output");

} // namespace distillery
