#include "core/models/syncable_batch_norm.h"

namespace distillery {

namespace {

thread_local const RankSum* t_rank_sum = nullptr;

// Channel dimension 1; every other dimension is reduced over.
std::vector<int64_t> reducedDims(const torch::Tensor& x) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

// [C] -> [1, C, 1, ...] to broadcast over x.
torch::Tensor perChannel(const torch::Tensor& v, const torch::Tensor& x) {
  std::vector<int64_t> shape(size_t(x.dim()), 1);
  shape[1] = v.size(0);
  return v.reshape(shape);
}

// Forward: the sums of x and x^2 and the element count are all-reduced (one
// collective, in double: var = E[x^2] - mean^2 cancels in float); backward:
// the sums of dy and dy * (x - mean), each weighted by the rank's share of the
// global batch, so the ranks' input gradients keep the per-rank-mean
// convention that the gradient averaging scales.
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps, const RankSum* rank_sum) {
    const auto dims = reducedDims(x);
    const auto xd = x.to(torch::kDouble);
    const double local_count = double(x.numel() / std::max<int64_t>(1, x.size(1)));
    const int64_t C = x.size(1);
    auto stats = torch::cat({xd.sum(dims), (xd * xd).sum(dims), torch::full({1}, local_count, torch::kDouble)});
    (*rank_sum)(stats);
    const double count = stats[2 * C].item<double>();
    const auto mean = stats.slice(0, 0, C) / count;
    const auto var = (stats.slice(0, C, 2 * C) / count - mean * mean).clamp_min(0.0); // biased, for normalising
    const auto invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      if (running_mean.defined()) {
        const double unbiased = count > 1 ? count / (count - 1) : 1.0;
        running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
        running_var.mul_(1 - momentum).add_((var * unbiased).to(running_var.scalar_type()), momentum);
      }
    }
    auto xhat = (xd - perChannel(mean, x)) * perChannel(invstd, x);
    auto y = xhat;
    if (weight.defined()) y = y * perChannel(weight.to(torch::kDouble), x) + perChannel(bias.to(torch::kDouble), x);
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["weight_defined"] = weight.defined();
    ctx->saved_data["count"] = count;
    ctx->saved_data["share"] = count > 0 ? local_count / count : 0.0;
    ctx->saved_data["rank_sum"] = int64_t(reinterpret_cast<intptr_t>(rank_sum));
    return y.to(x.scalar_type());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1], &mean = saved[2], &invstd = saved[3];
    const bool has_weight = ctx->saved_data["weight_defined"].toBool();
    const double count = ctx->saved_data["count"].toDouble(), share = ctx->saved_data["share"].toDouble();
    const auto* rank_sum = reinterpret_cast<const RankSum*>(intptr_t(ctx->saved_data["rank_sum"].toInt()));
    const auto dims = reducedDims(x);
    const int64_t C = x.size(1);
    const auto dy = grads[0].to(torch::kDouble);
    const auto xmu = x.to(torch::kDouble) - perChannel(mean, x);
    const auto sum_dy = dy.sum(dims), sum_dy_xmu = (dy * xmu).sum(dims);
    // The global batch's sums, each rank's weighted by its share.
    auto sums = torch::cat({sum_dy, sum_dy_xmu}) * share;
    (*rank_sum)(sums);
    const auto mean_dy = sums.slice(0, 0, C) / count, mean_dy_xmu = sums.slice(0, C, 2 * C) / count;
    const auto gamma = has_weight ? weight.to(torch::kDouble) : torch::ones({C}, torch::kDouble);
    torch::Tensor dx;
    if (share > 0) {
      dx = (dy - (perChannel(mean_dy, x) + xmu * perChannel(invstd * invstd * mean_dy_xmu, x)) / share) *
           perChannel(invstd * gamma, x);
    } else {
      dx = torch::zeros_like(dy);
    }
    torch::Tensor dweight, dbias;
    if (has_weight) {
      dweight = (sum_dy_xmu * invstd).to(weight.scalar_type());
      dbias = sum_dy.to(weight.scalar_type());
    }
    return {dx.to(x.scalar_type()), dweight, dbias, torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

} // namespace

BatchNormSyncScope::BatchNormSyncScope(const RankSum* rank_sum) : previous_(t_rank_sum), active_(rank_sum != nullptr) {
  if (active_) t_rank_sum = rank_sum;
}

BatchNormSyncScope::~BatchNormSyncScope() {
  if (active_) t_rank_sum = previous_;
}

const RankSum* BatchNormSyncScope::current() { return t_rank_sum; }

torch::Tensor syncBatchNormTrain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                 torch::Tensor running_mean, torch::Tensor running_var, double momentum, double eps,
                                 const RankSum& rank_sum) {
  return SyncBatchNormFunction::apply(x, weight, bias, running_mean, running_var, momentum, eps, &rank_sum);
}

// As torch::nn::BatchNorm2d registers them: the names stored models hold.
void SyncableBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({c}));
    bias = register_parameter("bias", torch::zeros({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({c}));
    running_var = register_buffer("running_var", torch::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  }
}

void SyncableBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "SyncableBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum().value_or(-1.0) << ")";
}

torch::Tensor SyncableBatchNorm2dImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4, "SyncableBatchNorm2d expects [N, C, H, W], got ", input.sizes());
  const bool tracks = options.track_running_stats();
  double momentum = 0.0;
  if (is_training() && tracks) {
    num_batches_tracked.add_(1);
    // No momentum: a cumulative average over the batches seen, as BatchNorm does.
    momentum = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
  }
  const RankSum* rank_sum = BatchNormSyncScope::current();
  if (!is_training() || !rank_sum) // LibTorch's BatchNorm2d forward
    return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training() || !tracks, momentum,
                             options.eps(), at::globalContext().userEnabledCuDNN());
  return syncBatchNormTrain(input, weight, bias, running_mean, running_var, momentum, options.eps(), *rank_sum);
}

} // namespace distillery
