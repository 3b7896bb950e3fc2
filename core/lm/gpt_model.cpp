#include "core/lm/gpt_model.h"

#include "core/base/errors.h"
#include "core/models/model_zoo.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace distillery {

namespace F = torch::nn::functional;

namespace {

// GPT-2 style initialisation: N(0, 0.02) for every matrix and embedding, zero
// biases; the two projections that write into the residual stream are scaled
// down by sqrt(2 * layers) so the stream's variance does not grow with depth.
void initLinear(torch::nn::Linear& layer, double std) {
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, std);
  if (layer->bias.defined()) layer->bias.zero_();
}

} // namespace

GptBlockImpl::GptBlockImpl(const GptSpec& s, double residual_init_std) : heads_(s.heads) {
  const int64_t d = s.embed;
  ln_attn_ = register_module("ln_attn", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  qkv_ = register_module("qkv", torch::nn::Linear(d, 3 * d));
  attn_out_ = register_module("attn_out", torch::nn::Linear(d, d));
  ln_mlp_ = register_module("ln_mlp", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  mlp_in_ = register_module("mlp_in", torch::nn::Linear(d, 4 * d));
  mlp_out_ = register_module("mlp_out", torch::nn::Linear(4 * d, d));
  attn_drop_ = register_module("attn_drop", torch::nn::Dropout(s.dropout));
  resid_drop_ = register_module("resid_drop", torch::nn::Dropout(s.dropout));
  initLinear(qkv_, 0.02);
  initLinear(mlp_in_, 0.02);
  initLinear(attn_out_, residual_init_std);
  initLinear(mlp_out_, residual_init_std);
}

torch::Tensor GptBlockImpl::forward(const torch::Tensor& x, torch::Tensor* past_k, torch::Tensor* past_v) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2), hd = d / heads_;
  auto qkv = qkv_->forward(ln_attn_->forward(x)).chunk(3, /*dim=*/2);
  // [B, T, d] -> [B, heads, T, hd]
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads_, hd}).transpose(1, 2); };
  auto q = split(qkv[0]), k = split(qkv[1]), v = split(qkv[2]);
  int64_t past = 0;
  if (past_k && past_k->defined()) {
    past = past_k->size(2);
    k = torch::cat({*past_k, k}, 2);
    v = torch::cat({*past_v, v}, 2);
  }
  if (past_k) {
    *past_k = k;
    *past_v = v;
  }
  // Query i sits at absolute position past + i and may look at keys 0 .. past + i.
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(hd)));
  auto allowed = torch::ones({T, past + T}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).tril(past);
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  auto weights = attn_drop_->forward(torch::softmax(scores, -1));
  auto y = torch::matmul(weights, v).transpose(1, 2).contiguous().view({B, T, d});
  auto h = x + resid_drop_->forward(attn_out_->forward(y));
  auto m = mlp_out_->forward(F::gelu(mlp_in_->forward(ln_mlp_->forward(h))));
  return h + resid_drop_->forward(m);
}

GptImpl::GptImpl(const GptSpec& s, int64_t vocab_size) : spec_(s), vocab_size_(vocab_size) {
  if (s.embed % s.heads != 0) throw ConfigError("heads", "embed must be a multiple of heads");
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(vocab_size, s.embed));
  position_embedding_ = register_module("position_embedding", torch::nn::Embedding(s.context, s.embed));
  embed_drop_ = register_module("embed_drop", torch::nn::Dropout(s.dropout));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  const double residual_std = 0.02 / std::sqrt(2.0 * s.layers);
  for (int i = 0; i < s.layers; ++i) blocks_->push_back(GptBlock(s, residual_std));
  ln_final_ = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({int64_t(s.embed)})));
  torch::NoGradGuard no_grad;
  token_embedding_->weight.normal_(0.0, 0.02);
  position_embedding_->weight.normal_(0.0, 0.02);
  if (!s.tie_weights) {
    output_weight_ = register_parameter("output_weight", torch::empty({vocab_size, int64_t(s.embed)}));
    output_weight_.normal_(0.0, 0.02);
  }
}

torch::Tensor GptImpl::forward(const torch::Tensor& idx, GptKvCache* cache) {
  const int64_t T = idx.size(1);
  const int64_t past = cache ? cache->length : 0;
  TORCH_CHECK(past + T <= spec_.context, "sequence of ", past + T, " tokens is longer than the context (",
              spec_.context, ")");
  auto positions = torch::arange(past, past + T, torch::TensorOptions().dtype(torch::kLong).device(idx.device()));
  auto x = embed_drop_->forward(token_embedding_->forward(idx) + position_embedding_->forward(positions));
  if (cache && cache->keys.empty()) {
    cache->keys.resize(blocks_->size());
    cache->values.resize(blocks_->size());
  }
  for (size_t i = 0; i < blocks_->size(); ++i) {
    auto block = blocks_->ptr<GptBlockImpl>(i);
    x = cache ? block->forward(x, &cache->keys[i], &cache->values[i]) : block->forward(x, nullptr, nullptr);
  }
  if (cache) cache->length += T;
  x = ln_final_->forward(x);
  return F::linear(x, spec_.tie_weights ? token_embedding_->weight : output_weight_);
}

Gpt buildGpt(const GptSpec& spec, int64_t vocab_size, uint64_t seed) {
  std::lock_guard<std::mutex> lock(modelInitMutex());
  torch::manual_seed(seed);
  return Gpt(spec, vocab_size);
}

int64_t countGptParameters(Gpt model) {
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  return n;
}

std::string saveGptBytes(Gpt model) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void loadGptBytes(Gpt model, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in);
  model->load(archive);
}

} // namespace distillery
