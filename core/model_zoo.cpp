#include "core/model_zoo.h"

#include "core/errors.h"

#include <sstream>

namespace distillery {

MlpImpl::MlpImpl(const std::vector<int>& hidden, int64_t inputs, int64_t classes) {
  torch::nn::Sequential seq;
  int64_t in = inputs;
  for (int h : hidden) {
    seq->push_back(torch::nn::Linear(in, h));
    seq->push_back(torch::nn::ReLU());
    in = h;
  }
  seq->push_back(torch::nn::Linear(in, classes));
  layers_ = register_module("layers", seq);
}

torch::Tensor MlpImpl::forward(torch::Tensor x) { return layers_->forward(x.flatten(1)); }

CnnImpl::CnnImpl(const std::vector<int>& channels, int fc, const InputShape& shape, int64_t classes) {
  torch::nn::Sequential features;
  int64_t c = shape.channels, h = shape.height, w = shape.width;
  for (int out : channels) {
    features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, 3).padding(1)));
    features->push_back(torch::nn::ReLU());
    features->push_back(torch::nn::MaxPool2d(2));
    c = out;
    h /= 2;
    w /= 2;
  }
  torch::nn::Sequential head;
  head->push_back(torch::nn::Flatten());
  head->push_back(torch::nn::Linear(c * h * w, fc));
  head->push_back(torch::nn::ReLU());
  head->push_back(torch::nn::Linear(fc, classes));
  features_ = register_module("features", features);
  head_ = register_module("head", head);
}

torch::Tensor CnnImpl::forward(torch::Tensor x) { return head_->forward(features_->forward(x)); }

Classifier buildModel(const ModelSpec& spec, const InputShape& shape, int64_t classes) {
  // Validates the spec against the input shape with the same rules the model card uses.
  describeModel(spec, shape.channels, shape.height, shape.width, classes);
  if (spec.zoo == "mlp") return Mlp(spec.hidden, shape.numel(), classes).ptr();
  return Cnn(spec.channels, spec.fc, shape, classes).ptr();
}

int64_t countParameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

std::string saveModelBytes(const Classifier& model) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void loadModelBytes(const Classifier& model, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in);
  model->load(archive);
}

} // namespace distillery
