#include "core/serve/mad_surrogate.h"

#include "core/base/errors.h"
#include "core/models/feature_taps.h"
#include "core/models/model_zoo.h"

#include <torch/torch.h>

#include <mutex>

namespace distillery {

struct MadSurrogate::Impl {
  Classifier model;
  std::vector<int64_t> shape;
  std::string feature_layer; // the tap feeding the last linear layer; "" for the flattened input
  torch::Tensor weight, bias; // float64
  std::mutex mutex;

  torch::Tensor features(const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    if (feature_layer.empty()) {
      model->forward(x);
      return x.flatten(1);
    }
    FeatureTaps taps({feature_layer});
    model->forwardTapped(x, taps);
    return taps.get(feature_layer).flatten(1);
  }
};

MadSurrogate::MadSurrogate(const ModelSpec& spec, uint64_t seed, const std::vector<int64_t>& shape, int64_t classes,
                           const std::string& field)
    : impl_(std::make_shared<Impl>()) {
  InputShape in;
  if (shape.size() == 3) in = {shape[0], shape[1], shape[2]};
  else in = {1, 1, shape.empty() ? 1 : shape.back()}; // tables: {1, 1, F}, rows [N, F]
  {
    std::lock_guard<std::mutex> lock(modelInitMutex());
    torch::manual_seed(seed);
    impl_->model = buildModel(spec, in, classes);
  }
  impl_->model->eval();
  impl_->shape = shape;
  // The last two parameters, in registration order, are the classifier head: W [K, F] and b [K].
  const auto params = impl_->model->named_parameters();
  const bool head = params.size() >= 2 && params[params.size() - 2].value().dim() == 2 &&
                    params[params.size() - 2].value().size(0) == classes &&
                    params[params.size() - 1].value().dim() == 1 && params[params.size() - 1].value().size(0) == classes;
  if (!head) throw ConfigError(field, describe(spec) + " does not end in a linear layer over the classes");
  impl_->weight = params[params.size() - 2].value().detach().to(torch::kFloat64).contiguous();
  impl_->bias = params[params.size() - 1].value().detach().to(torch::kFloat64).contiguous();
  // The layer before the last in forward order feeds the head; a single layer reads the input.
  const auto names = impl_->model->layerNames();
  if (names.size() >= 2) impl_->feature_layer = names[names.size() - 2];
  std::vector<int64_t> probe{2};
  probe.insert(probe.end(), shape.begin(), shape.end());
  const torch::Tensor h = impl_->features(torch::zeros(probe));
  if (h.size(1) != impl_->weight.size(1))
    throw ConfigError(field, describe(spec) + ": the input of its last linear layer cannot be read (layer \"" +
                                 impl_->feature_layer + "\" has " + std::to_string(h.size(1)) + " values, the layer takes " +
                                 std::to_string(impl_->weight.size(1)) + ")");
}

MadLastLayer MadSurrogate::lastLayer(const float* x, int64_t rows) const {
  std::vector<int64_t> sizes{rows};
  sizes.insert(sizes.end(), impl_->shape.begin(), impl_->shape.end());
  const torch::Tensor input = torch::from_blob(const_cast<float*>(x), sizes, torch::kFloat32);
  torch::Tensor h;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    h = impl_->features(input).to(torch::kFloat64).contiguous();
  }
  MadLastLayer out;
  out.rows = rows;
  out.features = impl_->weight.size(1);
  out.classes = impl_->weight.size(0);
  out.h.assign(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
  out.weight.assign(impl_->weight.data_ptr<double>(), impl_->weight.data_ptr<double>() + impl_->weight.numel());
  out.bias.assign(impl_->bias.data_ptr<double>(), impl_->bias.data_ptr<double>() + impl_->bias.numel());
  return out;
}

} // namespace distillery
