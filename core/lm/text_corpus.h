#pragma once
// A text corpus for language models: a UTF-8 file or a folder of them,
// tokenised at byte or char level and split into training and validation
// tokens. The split is a fixed function of the text (every k-th block of
// tokens is held out), so a teacher and a student trained in different runs
// on the same corpus never see each other's validation text.
#include "core/config/lm_config.h"
#include "core/lm/text_vocabulary.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

struct TextCorpus {
  std::string path;
  std::vector<std::string> files;  // read, relative to path, in reading order
  int64_t skipped_files = 0;       // binary or not UTF-8: left out
  int64_t bytes = 0;               // text bytes used
  std::string content_hash;        // over the file names and bytes used
  TextVocabulary vocab;
  int64_t block_tokens = 0;        // the split's unit
  torch::Tensor train;             // 1-D int64 token ids
  torch::Tensor val;
};

// Throws DataError naming the file or folder (missing, empty, not UTF-8 where
// the char tokenizer needs it, too short to split).
TextCorpus loadTextCorpus(const TextCorpusConfig& config);

// Fixed windows of context + 1 tokens (inputs and shifted targets) that cover
// tokens with stride context, at most max_tokens predicted tokens (0: all).
struct LmWindows {
  torch::Tensor inputs;  // [N, context] int64
  torch::Tensor targets; // [N, context] int64
  int64_t tokens() const { return inputs.defined() ? inputs.numel() : 0; }
};
LmWindows makeWindows(const torch::Tensor& tokens, int64_t context, int64_t max_tokens);

// batch random windows of context + 1 tokens from tokens, drawn with gen.
torch::Tensor sampleWindows(const torch::Tensor& tokens, int64_t batch, int64_t context, at::Generator& gen);

} // namespace distillery
