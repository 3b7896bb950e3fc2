#pragma once
// The parts of a run config that only language-model runs (task "lm") have:
// the text corpus, the GPT teacher and student, the step budget and the
// evaluation cadence. The common fields (name, optim, batch_size, seed,
// device, ...) and the method stay in RunConfig.
#include "core/config/gpt_spec.h"
#include "core/config/optim_config.h"
#include "core/forensics/green_list.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

struct RunConfig;

// Where the default corpus lives: the Debian package "fortunes" (about 2.5 MB
// of English quotations and jokes in plain UTF-8 text), installed by scripts/setup.sh.
inline constexpr const char* kDefaultCorpusPath = "/usr/share/games/fortunes";

struct TextCorpusConfig {
  // A UTF-8 file, or a folder whose files (recursively, in path order) are joined.
  std::string path = kDefaultCorpusPath;
  std::string tokenizer = "char"; // "char": one token per Unicode code point seen | "byte": 256 tokens
  double val_fraction = 0.1;      // share of the corpus's blocks held out for validation
  int64_t max_bytes = 0;          // 0: the whole corpus; else only its first max_bytes bytes
};

// Green-list watermarked sampling of the teacher (Kirchenbauer et al. 2023):
// delta is added to the green logits wherever the teacher's distribution is
// sampled (seq_kd's written text, on_policy's teacher scores). fraction: the
// share of the teacher's sequences that carry it (the rest are unwatermarked),
// spread evenly over the run's batches.
struct LmWatermarkConfig {
  bool enabled = false;
  WatermarkParams params;
  double delta = 2.0;
  double fraction = 1.0;
};

// Where the teacher of a language-model run comes from.
struct LmTeacherSource {
  // None: no teacher (method "none" without comparison); Run: a finished LM
  // run's model; Zoo: a GPT trained first, as a run of its own.
  enum class Kind { None, Run, Zoo };
  Kind kind = Kind::None;
  int64_t run_id = 0;         // Kind::Run
  GptSpec model;              // Kind::Zoo
  int64_t train_steps = 1000; // Kind::Zoo
  int train_batch_size = 32;
  OptimConfig train_optim;
  LmWatermarkConfig watermark; // "watermark": {...} in either form
};

struct LmConfig {
  TextCorpusConfig corpus;
  LmTeacherSource teacher;
  GptSpec student;             // the model this run trains
  int64_t steps = 1000;        // optimiser steps of the student
  int64_t eval_every = 100;    // validation pass every N steps (and at step 0 and the end)
  int64_t eval_tokens = 16384; // validation tokens per pass (0: the whole validation split)
};

// The whole config of a task "lm" run, read by RunConfig::fromJson: every field
// is checked and unknown keys are refused, as for image runs. Throws ConfigError.
RunConfig lmRunConfigFromJson(const nlohmann::json& json);
nlohmann::json lmRunConfigJson(const RunConfig& config);
// The embedded default (`distillery-cli run --default-lm`): a 1.3 M-parameter
// char-level GPT teacher trained on the default corpus, distilled with
// forward_kl into an 11x smaller student.
RunConfig defaultLmConfig();

} // namespace distillery
