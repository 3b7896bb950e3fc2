#pragma once
// A model's outputs over many inputs, in eval mode, without autograd, a chunk
// of inputs at a time, gathered on the CPU: how both training loops validate
// and how teacher logits are computed once per split.
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace distillery {

// Model: a module holder (a shared pointer, cheap to copy) with forward(Tensor)
// (Classifier, Gpt). Its training mode is restored afterwards. An empty input
// gives an empty tensor of `empty_shape`.
template <typename Model>
torch::Tensor inferInChunks(Model model, const torch::Tensor& inputs, torch::Device device, int64_t chunk,
                            at::IntArrayRef empty_shape) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < inputs.size(0); i += chunk)
    parts.push_back(model->forward(inputs.slice(0, i, std::min(i + chunk, inputs.size(0))).to(device)).to(torch::kCPU));
  model->train(was_training);
  if (parts.empty()) return torch::empty(empty_shape);
  return torch::cat(parts);
}

} // namespace distillery
