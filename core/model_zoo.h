#pragma once
#include "core/dataset.h"
#include "core/model_info.h"
#include "core/run_config.h"

#include <torch/torch.h>

namespace distillery {

// Every zoo model is a classifier from images [N, C, H, W] to logits [N, classes].
class ClassifierImpl : public torch::nn::Module {
public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};
using Classifier = std::shared_ptr<ClassifierImpl>;

class MlpImpl : public ClassifierImpl {
public:
  MlpImpl(const std::vector<int>& hidden, int64_t inputs, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;

private:
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(Mlp);

// Conv 3x3 + ReLU + 2x2 max-pool per channel entry, then fc + ReLU + linear.
class CnnImpl : public ClassifierImpl {
public:
  CnnImpl(const std::vector<int>& channels, int fc, const InputShape& shape, int64_t classes);
  torch::Tensor forward(torch::Tensor x) override;

private:
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(Cnn);

Classifier buildModel(const ModelSpec& spec, const InputShape& shape, int64_t classes);

int64_t countParameters(torch::nn::Module& module);

// Serialises parameters and buffers into bytes (torch::save format) and back.
std::string saveModelBytes(const Classifier& model);
void loadModelBytes(const Classifier& model, const std::string& bytes);

} // namespace distillery
