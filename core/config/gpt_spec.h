#pragma once
// The shape of a decoder-only transformer ("gpt" in the zoo), without LibTorch,
// so forms and tables can show its size. The network itself: core/lm/gpt_model.h.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace distillery {

struct GptSpec {
  int layers = 4;          // transformer blocks
  int heads = 4;           // attention heads; embed must be a multiple of heads
  int embed = 128;         // width of the residual stream
  int context = 64;        // longest sequence the position embedding covers
  double dropout = 0.0;    // after embeddings, attention weights and each residual branch
  bool tie_weights = true; // the output projection reuses the token embedding matrix
};

// Throws ConfigError naming field (e.g. "teacher.heads").
GptSpec gptSpecFromJson(const nlohmann::json& json, const std::string& field);
// {"zoo": "gpt", "layers": .., "heads": .., "embed": .., "context": .., "dropout": .., "tie_weights": ..}
nlohmann::json toJson(const GptSpec& spec);
// "gpt L4 H4 d128 ctx64" (" untied" when the output matrix is separate).
std::string describe(const GptSpec& spec);

// Trainable parameters for a vocabulary of vocab_size tokens.
int64_t gptParameterCount(const GptSpec& spec, int64_t vocab_size);
// Forward FLOPs per token (2 per multiply-add): the matrix products of every
// block and of the output layer, plus attention over (context + 1) / 2
// positions on average.
double gptFlopsPerToken(const GptSpec& spec, int64_t vocab_size);

} // namespace distillery
