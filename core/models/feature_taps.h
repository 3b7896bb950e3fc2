#pragma once
// Intermediate activations of a classifier by layer name, captured during one
// ordinary forward pass. Each model lists the names it can tap
// (ClassifierImpl::layerNames, in forward order) and fills the taps asked for
// (ClassifierImpl::forwardTapped); the feature methods read them.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace distillery {

class FeatureTaps {
public:
  explicit FeatureTaps(const std::vector<std::string>& names);
  bool wants(const std::string& name) const { return values_.count(name) > 0; }
  // Keeps value when `name` is asked for (the last offer wins).
  void offer(const std::string& name, const torch::Tensor& value);
  // The captured activation; throws std::logic_error when the forward pass never offered it.
  const torch::Tensor& get(const std::string& name) const;

private:
  std::map<std::string, torch::Tensor> values_;
};

// Runs a Sequential item by item, offering each item's output as
// "<prefix>.<index>" and the whole output as "<prefix>".
torch::Tensor forwardSequentialTapped(torch::nn::Sequential& seq, torch::Tensor x, const std::string& prefix,
                                      FeatureTaps& taps);
// "<prefix>" then "<prefix>.<index>" for each item (items only when there are several).
void appendSequentialNames(const torch::nn::Sequential& seq, const std::string& prefix,
                           std::vector<std::string>& names);

} // namespace distillery
