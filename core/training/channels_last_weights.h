#pragma once
// A model's 4-D weights (convolution kernels) in channels-last layout while
// this object lives, then back (issue 20): on the CPU, oneDNN runs channels-
// last convolutions without reordering their weights on every call, which
// pays in inference over many chunks (predictLogits: the teacher-output cache
// fill, validation and test passes; figures in docs/results/gpu.md).
#include <torch/torch.h>

#include <vector>

namespace distillery {

class ChannelsLastWeights {
public:
  explicit ChannelsLastWeights(torch::nn::Module& module) {
    torch::NoGradGuard no_grad;
    for (auto& t : module.parameters())
      if (t.dim() == 4 && !t.is_contiguous(at::MemoryFormat::ChannelsLast)) {
        t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
        converted_.push_back(t);
      }
  }
  ~ChannelsLastWeights() {
    torch::NoGradGuard no_grad;
    for (auto& t : converted_) t.set_data(t.contiguous());
  }
  ChannelsLastWeights(const ChannelsLastWeights&) = delete;
  ChannelsLastWeights& operator=(const ChannelsLastWeights&) = delete;

private:
  std::vector<torch::Tensor> converted_;
};

} // namespace distillery
