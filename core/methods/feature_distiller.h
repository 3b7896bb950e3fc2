#pragma once
// The learnable parts and state a feature method adds to training: FitNets'
// adapter, CRD's embedding heads and memory banks. Built from one batch of
// each model's tapped activation (only the shapes matter), trained with the
// student (its parameters join the optimiser) and checkpointed with it; the
// model artifact stays the student alone.
#include "core/methods/distill_losses.h"
#include "core/methods/method_losses.h" // FeatureTerm
#include "core/models/model_zoo.h"

#include <torch/torch.h>

#include <map>
#include <string>

namespace distillery {

// The layer a config names (`requested`, empty: the model's default feature
// layer), checked against model.layerNames(). Throws ConfigError(field,
// "no layer \"foo\"; layers: a, b, ...") naming the candidates.
std::string resolveFeatureLayer(const ClassifierImpl& model, const std::string& requested, const std::string& field);

struct FeatureLayers {
  std::string teacher, student; // resolved names, for messages
};

class FeatureDistillerImpl : public torch::nn::Module {
public:
  // method: a method whose loss entry (method_losses.h) has a FeatureTerm;
  // params: resolved schema values.
  // train_size: rows of the memory banks (crd). Throws ConfigError naming
  // method.student_layer or method.teacher_layer when the activations cannot
  // be compared (e.g. attention transfer on a vector).
  FeatureDistillerImpl(std::string method, std::map<std::string, double> params, const torch::Tensor& student_feature,
                       const torch::Tensor& teacher_feature, const FeatureLayers& layers, int64_t train_size,
                       uint64_t seed);

  // ce_weight * CE + kd_weight * T^2 KL + beta * feature term. `indices` are the
  // batch's rows in the training set (crd's memory banks; updated here).
  LossParts loss(const torch::Tensor& student_logits, const torch::Tensor& student_feature,
                 const torch::Tensor& teacher_logits, const torch::Tensor& teacher_feature,
                 const torch::Tensor& labels, const torch::Tensor& indices);

  // Forward FLOPs per sample of the adapter / heads (2 per multiply-add).
  double flopsPerSample() const { return flops_; }

private:
  double param(const char* key) const;
  torch::Tensor adapt(const torch::Tensor& student, const torch::Tensor& teacher);
  torch::Tensor crdTerm(const torch::Tensor& student_feature, const torch::Tensor& teacher_feature,
                        const torch::Tensor& indices);

  std::string method_;
  FeatureTerm term_ = FeatureTerm::None;
  std::map<std::string, double> params_;
  torch::nn::Conv2d conv_adapter_{nullptr};
  torch::nn::Linear linear_adapter_{nullptr};
  torch::nn::Linear embed_student_{nullptr}, embed_teacher_{nullptr};
  torch::Tensor memory_student_, memory_teacher_;
  at::Generator negatives_generator_;
  double flops_ = 0.0;
};
TORCH_MODULE(FeatureDistiller);

} // namespace distillery
