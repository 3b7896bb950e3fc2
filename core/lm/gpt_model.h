#pragma once
// "gpt" in the zoo: a decoder-only transformer language model (pre-LayerNorm
// blocks of causal multi-head self-attention and a 4x GELU MLP, learned
// position embeddings, optional weight tying), written in LibTorch ops.
#include "core/config/gpt_spec.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery {

// Keys and values of the positions seen so far, one pair per block, so that
// generation feeds one new token at a time instead of the whole prefix.
struct GptKvCache {
  std::vector<torch::Tensor> keys;   // per block: [B, heads, length, embed / heads]
  std::vector<torch::Tensor> values;
  int64_t length = 0;
};

class GptBlockImpl : public torch::nn::Module {
public:
  GptBlockImpl(const GptSpec& spec, double residual_init_std);
  // x: [B, T, embed]. past_k/past_v null: no cache. Else x continues the
  // positions they hold (none when undefined) and they are replaced by the extended ones.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* past_k, torch::Tensor* past_v);

private:
  int64_t heads_;
  torch::nn::LayerNorm ln_attn_{nullptr}, ln_mlp_{nullptr};
  torch::nn::Linear qkv_{nullptr}, attn_out_{nullptr}, mlp_in_{nullptr}, mlp_out_{nullptr};
  torch::nn::Dropout attn_drop_{nullptr}, resid_drop_{nullptr};
};
TORCH_MODULE(GptBlock);

class GptImpl : public torch::nn::Module {
public:
  GptImpl(const GptSpec& spec, int64_t vocab_size);
  // idx: [B, T] token ids. Returns logits [B, T, vocab]. Without a cache T <=
  // context; with one, cache->length + T <= context and the cache grows by T.
  torch::Tensor forward(const torch::Tensor& idx, GptKvCache* cache = nullptr);

  const GptSpec& spec() const { return spec_; }
  int64_t vocabSize() const { return vocab_size_; }

private:
  GptSpec spec_;
  int64_t vocab_size_;
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  torch::nn::Dropout embed_drop_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm ln_final_{nullptr};
  torch::Tensor output_weight_; // only when the weights are not tied
};
TORCH_MODULE(Gpt);

// Builds with initial weights drawn from seed (under modelInitMutex, see model_zoo.h).
Gpt buildGpt(const GptSpec& spec, int64_t vocab_size, uint64_t seed);
int64_t countGptParameters(Gpt model);
// Parameters and buffers in torch::save format, and back (c10::Error when the shapes differ).
std::string saveGptBytes(Gpt model);
void loadGptBytes(Gpt model, const std::string& bytes);

} // namespace distillery
