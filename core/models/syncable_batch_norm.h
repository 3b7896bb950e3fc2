#pragma once
// BatchNorm2d of the zoo networks, which can normalise over every rank's rows
// of a data-parallel step (distributed.sync_batchnorm, docs/distributed.md),
// as PyTorch's SyncBatchNorm does; LibTorch's C++ API has none. It is
// torch::nn::BatchNorm2d's layer (the same parameters, buffers and names, so
// stored models load as before, and the same forward; not a subclass, whose
// vtable would need a symbol Debian's LibTorch does not export) whose
// training-mode forward, while a BatchNormSyncScope is
// alive on the thread, computes the batch's mean and variance from sums
// all-reduced over the ranks, updates the running statistics as one big batch
// would, and in the backward pass all-reduces the two gradient sums the input's
// gradient needs. Eval mode, and training without a scope, are plain BatchNorm.
#include <torch/torch.h>

#include <functional>

namespace distillery {

// Sums a tensor over the ranks, in place (the group's all-reduce).
using RankSum = std::function<void(torch::Tensor&)>;

// While alive on this thread (a training step's forward and backward), zoo
// BatchNorm layers in training mode synchronise through rank_sum. A null
// rank_sum makes an inactive scope.
class BatchNormSyncScope {
public:
  explicit BatchNormSyncScope(const RankSum* rank_sum);
  ~BatchNormSyncScope();
  BatchNormSyncScope(const BatchNormSyncScope&) = delete;
  BatchNormSyncScope& operator=(const BatchNormSyncScope&) = delete;
  static const RankSum* current();

private:
  const RankSum* previous_;
  bool active_;
};

class SyncableBatchNorm2dImpl : public torch::nn::Cloneable<SyncableBatchNorm2dImpl> {
public:
  explicit SyncableBatchNorm2dImpl(int64_t features) : options(features) { reset(); }
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input);

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(SyncableBatchNorm2d);

// Batch normalisation in training mode over the rows of every rank: x
// [N, C, ...] is this rank's share; the statistics are over all ranks'
// rows. The input's gradient is that of the global batch's loss when each
// rank's loss is the mean over its own rows (the convention of the gradient
// averaging, data_parallel_group.h). Updates running_mean/var (unbiased
// variance) with momentum (the layer passes 1 / batches seen when it has none).
torch::Tensor syncBatchNormTrain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                 torch::Tensor running_mean, torch::Tensor running_var, double momentum,
                                 double eps, const RankSum& rank_sum);

} // namespace distillery
