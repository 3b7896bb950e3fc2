#pragma once
// Adam and SGD whose step updates all parameters of a group together instead
// of running torch::optim's chain of small ops once per parameter (issue 20):
// on the CPU one fused pass over each float tensor (reads parameter, gradient
// and moments once, no temporaries); elsewhere (CUDA) the _foreach ops, which
// launch one multi-tensor kernel per op for the whole group.
//
// They are torch::optim::Adam and SGD: same options, same per-parameter state
// under the same keys, so checkpoints, learning-rate setters and anything
// holding a torch::optim::Optimizer see no difference. The update is the same
// arithmetic in the same order, equal to torch::optim's within float rounding
// (tst_optimizer checks it against torch::optim over several steps).
#include <torch/torch.h>

namespace distillery {

class MultiTensorAdam : public torch::optim::Adam {
public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  // The _foreach path on any device (tests: it runs on the CPU too).
  void useForeachOps(bool on) { foreach_only_ = on; }

private:
  bool foreach_only_ = false;
};

class MultiTensorSgd : public torch::optim::SGD {
public:
  using torch::optim::SGD::SGD;
  torch::Tensor step(LossClosure closure = nullptr) override;
  void useForeachOps(bool on) { foreach_only_ = on; }

private:
  bool foreach_only_ = false;
};

} // namespace distillery
