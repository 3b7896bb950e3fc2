#include "core/models/feature_taps.h"

#include <stdexcept>

namespace distillery {

FeatureTaps::FeatureTaps(const std::vector<std::string>& names) {
  for (const auto& n : names) values_[n] = torch::Tensor();
}

void FeatureTaps::offer(const std::string& name, const torch::Tensor& value) {
  auto it = values_.find(name);
  if (it != values_.end()) it->second = value;
}

const torch::Tensor& FeatureTaps::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || !it->second.defined())
    throw std::logic_error("layer \"" + name + "\" was not reached by the forward pass");
  return it->second;
}

torch::Tensor forwardSequentialTapped(torch::nn::Sequential& seq, torch::Tensor x, const std::string& prefix,
                                      FeatureTaps& taps) {
  size_t i = 0;
  for (auto& item : *seq) {
    x = item.forward(x);
    taps.offer(prefix + "." + std::to_string(i++), x);
  }
  taps.offer(prefix, x);
  return x;
}

void appendSequentialNames(const torch::nn::Sequential& seq, const std::string& prefix,
                           std::vector<std::string>& names) {
  names.push_back(prefix);
  if (seq->size() < 2) return;
  for (size_t i = 0; i < seq->size(); ++i) names.push_back(prefix + "." + std::to_string(i));
}

} // namespace distillery
