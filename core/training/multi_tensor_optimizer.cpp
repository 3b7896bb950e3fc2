#include "core/training/multi_tensor_optimizer.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <map>
#include <type_traits>
#include <vector>

namespace distillery {

namespace {

// torch::optim keys a parameter's state by its TensorImpl: as a string in
// LibTorch 1.x, as the pointer itself in later versions.
template <typename Key>
Key stateKeyOf(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) return c10::guts::to_string(p.unsafeGetTensorImpl());
  else return reinterpret_cast<Key>(p.unsafeGetTensorImpl());
}

template <typename StateMap>
auto stateKey(const StateMap&, const torch::Tensor& p) {
  return stateKeyOf<typename StateMap::key_type>(p);
}

// Whether one fused CPU pass can update these: float32, dense and contiguous on the CPU.
bool fusable(std::initializer_list<const std::vector<torch::Tensor>*> lists) {
  for (const auto* list : lists)
    for (const auto& t : *list)
      if (!t.device().is_cpu() || t.scalar_type() != torch::kFloat || !t.is_contiguous() || t.is_sparse())
        return false;
  return true;
}

// Element loops built for AVX2 and for the baseline, picked when the library
// loads (GCC and Clang on x86-64 with glibc); plain loops elsewhere.
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#define DISTILLERY_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DISTILLERY_AVX2_CLONES
#endif

// Elements per task when a large tensor's pass is split over threads.
constexpr int64_t kGrain = 32768;

struct AdamBatch { // the parameters of a group at the same step count
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
};

// Adam's update of n elements in torch::optim's order of operations:
// g += wd p; m = m b1 + (1 - b1) g; v = v b2 + (1 - b2) g g;
// p += -step_size m / (sqrt(v) / sqrt(bc2) + eps). wd 0 adds 0 p = 0 to g.
// Compiled with -fno-math-errno (core/CMakeLists.txt) so that sqrt vectorises.
struct AdamScalars {
  float b1, b2, one_b1, one_b2, wd, eps, sqrt_bc2, neg_step;
};
DISTILLERY_AVX2_CLONES
void adamElements(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                  int64_t n, AdamScalars k) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + k.wd * p[i];
    const float mi = m[i] * k.b1 + k.one_b1 * gi;
    const float vi = v[i] * k.b2 + k.one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + k.neg_step * (mi / (std::sqrt(vi) / k.sqrt_bc2 + k.eps));
  }
}

void adamFused(AdamBatch& b, const torch::optim::AdamOptions& o, int64_t step) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const AdamScalars k{float(beta1), float(beta2), float(1 - beta1), float(1 - beta2), float(o.weight_decay()),
                      float(o.eps()), float(std::sqrt(1 - std::pow(beta2, double(step)))),
                      float(-o.lr() / (1 - std::pow(beta1, double(step))))};
  for (size_t t = 0; t < b.params.size(); ++t) {
    float* p = b.params[t].data_ptr<float>();
    const float* g = b.grads[t].data_ptr<float>();
    float* m = b.exp_avgs[t].data_ptr<float>();
    float* v = b.exp_avg_sqs[t].data_ptr<float>();
    at::parallel_for(0, b.params[t].numel(), kGrain, [&](int64_t begin, int64_t end) {
      adamElements(p + begin, g + begin, m + begin, v + begin, end - begin, k);
    });
  }
}

void adamForeach(AdamBatch& b, const torch::optim::AdamOptions& o, int64_t step) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double bias_correction1 = 1 - std::pow(beta1, double(step)), bias_correction2 = 1 - std::pow(beta2, double(step));
  std::vector<torch::Tensor> grads =
      o.weight_decay() != 0 ? at::_foreach_add(b.grads, b.params, o.weight_decay()) : b.grads;
  at::_foreach_mul_(b.exp_avgs, beta1);
  at::_foreach_add_(b.exp_avgs, grads, 1 - beta1);
  at::_foreach_mul_(b.exp_avg_sqs, beta2);
  at::_foreach_addcmul_(b.exp_avg_sqs, grads, grads, 1 - beta2);
  std::vector<torch::Tensor> denom = at::_foreach_sqrt(b.exp_avg_sqs);
  at::_foreach_div_(denom, std::sqrt(bias_correction2));
  at::_foreach_add_(denom, o.eps());
  at::_foreach_addcdiv_(b.params, b.exp_avgs, denom, -o.lr() / bias_correction1);
}

struct SgdBatch { // parameters updated alike: with a momentum buffer, or at their first step
  std::vector<torch::Tensor> params, grads, buffers;
};

// SGD's update of n elements in torch::optim's order: d = g + wd p; buf = d
// at the first step, else buf = buf momentum + (1 - dampening) d; d =
// nesterov ? d + momentum buf : buf; p += -lr d. One loop per case, so each
// vectorises.
struct SgdScalars {
  float wd, mom, keep, neg_lr;
};
DISTILLERY_AVX2_CLONES
void sgdElements(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t n, SgdScalars k,
                 bool first_step, bool nesterov) {
  if (!buf) {
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] + k.neg_lr * (g[i] + k.wd * p[i]);
  } else if (first_step) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = g[i] + k.wd * p[i];
      buf[i] = d;
      p[i] = p[i] + k.neg_lr * (nesterov ? d + k.mom * d : d);
    }
  } else if (nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = g[i] + k.wd * p[i];
      const float bi = buf[i] * k.mom + k.keep * d;
      buf[i] = bi;
      p[i] = p[i] + k.neg_lr * (d + k.mom * bi);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float bi = buf[i] * k.mom + k.keep * (g[i] + k.wd * p[i]);
      buf[i] = bi;
      p[i] = p[i] + k.neg_lr * bi;
    }
  }
}

void sgdFused(SgdBatch& b, const torch::optim::SGDOptions& o, bool first_step) {
  const SgdScalars k{float(o.weight_decay()), float(o.momentum()), float(1 - o.dampening()), float(-o.lr())};
  for (size_t t = 0; t < b.params.size(); ++t) {
    float* p = b.params[t].data_ptr<float>();
    const float* g = b.grads[t].data_ptr<float>();
    float* buf = b.buffers.empty() ? nullptr : b.buffers[t].data_ptr<float>();
    at::parallel_for(0, b.params[t].numel(), kGrain, [&](int64_t begin, int64_t end) {
      sgdElements(p + begin, g + begin, buf ? buf + begin : nullptr, end - begin, k, first_step, o.nesterov());
    });
  }
}

void sgdForeach(SgdBatch& b, const torch::optim::SGDOptions& o, bool first_step) {
  std::vector<torch::Tensor> d =
      o.weight_decay() != 0 ? at::_foreach_add(b.grads, b.params, o.weight_decay()) : b.grads;
  if (!b.buffers.empty()) {
    if (first_step) {
      for (size_t t = 0; t < d.size(); ++t) b.buffers[t].copy_(d[t]);
    } else {
      at::_foreach_mul_(b.buffers, o.momentum());
      at::_foreach_add_(b.buffers, d, 1 - o.dampening());
    }
    d = o.nesterov() ? at::_foreach_add(d, b.buffers, o.momentum()) : b.buffers;
  }
  at::_foreach_add_(b.params, d, -o.lr());
}

// The closure's loss, evaluated with autograd on, as torch::optim's step() does.
torch::Tensor lossOf(const torch::optim::Optimizer::LossClosure& closure) {
  if (!closure) return {};
  at::AutoGradMode enable_grad(true);
  return closure();
}

} // namespace

torch::Tensor MultiTensorAdam::step(LossClosure closure) {
  torch::Tensor loss = lossOf(closure);
  torch::NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
    TORCH_CHECK(!o.amsgrad(), "MultiTensorAdam: amsgrad is not supported");
    std::map<int64_t, AdamBatch> batches; // by step count: each has its own bias corrections
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "Adam does not support sparse gradients");
      const auto key = stateKey(state_, p);
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(fresh)).first;
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      s.step(s.step() + 1);
      AdamBatch& b = batches[s.step()];
      b.params.push_back(p);
      b.grads.push_back(p.grad());
      b.exp_avgs.push_back(s.exp_avg());
      b.exp_avg_sqs.push_back(s.exp_avg_sq());
    }
    for (auto& [step, b] : batches) {
      if (!foreach_only_ && fusable({&b.params, &b.grads, &b.exp_avgs, &b.exp_avg_sqs})) adamFused(b, o, step);
      else adamForeach(b, o, step);
    }
  }
  return loss;
}

torch::Tensor MultiTensorSgd::step(LossClosure closure) {
  torch::Tensor loss = lossOf(closure);
  torch::NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
    SgdBatch later, first; // with a momentum buffer from earlier steps; at their first step
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (o.momentum() == 0) {
        later.params.push_back(p);
        later.grads.push_back(p.grad());
        continue;
      }
      const auto key = stateKey(state_, p);
      auto it = state_.find(key);
      SgdBatch& b = it == state_.end() ? first : later;
      if (it == state_.end()) {
        auto fresh = std::make_unique<torch::optim::SGDParamState>();
        fresh->momentum_buffer(torch::empty_like(p.grad(), torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(fresh)).first;
      }
      b.params.push_back(p);
      b.grads.push_back(p.grad());
      b.buffers.push_back(static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer());
    }
    for (auto* b : {&later, &first}) {
      if (b->params.empty()) continue;
      const bool first_step = b == &first;
      if (!foreach_only_ && fusable({&b->params, &b->grads, &b->buffers})) sgdFused(*b, o, first_step);
      else sgdForeach(*b, o, first_step);
    }
  }
  return loss;
}

} // namespace distillery
