#pragma once
// Loss functions of the distillation methods. All take logits [N, C].
#include <torch/torch.h>

#include <map>
#include <string>

namespace distillery {

struct LossParts {
  torch::Tensor total;
  torch::Tensor soft; // the teacher term (undefined when the method has none)
  torch::Tensor hard; // cross-entropy on labels (undefined when unused)
};

// Hinton KD: alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y),
// KL averaged over the batch ("batchmean"). T^2 keeps the soft gradients' scale
// independent of T, as in Hinton et al. (TextBrewer drops it; we keep it).
LossParts kdLoss(const torch::Tensor& student, const torch::Tensor& teacher,
                 const torch::Tensor& labels, double temperature, double alpha);

// Dispatches on the method name with its resolved parameters. teacher may be
// undefined for methods that do not need one.
LossParts methodLoss(const std::string& method, const std::map<std::string, double>& params,
                     const torch::Tensor& student, const torch::Tensor& teacher,
                     const torch::Tensor& labels);

} // namespace distillery
