#pragma once
// Sampling text from a GPT: temperature sampling drawn from a seeded CPU
// generator, so a fixed seed gives the same tokens on every run and device.
#include "core/lm/gpt_model.h"

#include <torch/torch.h>

#include <functional>

namespace distillery {

// Added to the last position's logits ([B, V]) before each draw, given the
// sequence so far ([B, L] on the CPU): watermarked sampling. Empty: nothing.
using NextTokenBias = std::function<torch::Tensor(const torch::Tensor& sequence)>;

// Continues every row of prompt ([B, P] int64, P >= 1) by new_tokens tokens
// sampled from softmax(logits / temperature); temperature 0 takes the most
// likely token. Keys and values are cached while the sequence fits the
// context; past it the window slides over the last context tokens. Runs in
// eval mode without autograd and restores the model's mode. Returns
// [B, P + new_tokens] on the CPU.
torch::Tensor generateTokens(Gpt model, const torch::Tensor& prompt, int64_t new_tokens, double temperature,
                             at::Generator& generator, torch::Device device, const NextTokenBias& bias = {});

// Logits of model for every position of sequence ([B, L] int64) given all the
// tokens before it, however long L is: one pass over the first context
// positions, then one sliding window per further position. [B, L, V] on the CPU.
torch::Tensor scoreTokens(Gpt model, const torch::Tensor& sequence, torch::Device device);

// A CPU generator seeded with seed.
at::Generator seededGenerator(uint64_t seed);

} // namespace distillery
