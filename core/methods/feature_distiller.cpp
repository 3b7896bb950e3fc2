#include "core/methods/feature_distiller.h"

#include "core/base/errors.h"
#include "core/methods/feature_losses.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace distillery {

namespace F = torch::nn::functional;

namespace {

std::string shapeText(const torch::Tensor& t) {
  std::string s = "[N";
  for (int64_t d = 1; d < t.dim(); ++d) s += ", " + std::to_string(t.size(d));
  return s + "]";
}

int64_t vectorSize(const torch::Tensor& feature) { return featureVector(feature).size(1); }

} // namespace

std::string resolveFeatureLayer(const ClassifierImpl& model, const std::string& requested, const std::string& field) {
  const std::vector<std::string> names = model.layerNames();
  const std::string layer = requested.empty() ? model.defaultFeatureLayer() : requested;
  if (!layer.empty() && std::find(names.begin(), names.end(), layer) != names.end()) return layer;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  if (list.empty()) list = "(none: the model exposes no layers; a TorchScript model exposes the submodules its forward calls)";
  if (requested.empty()) throw ConfigError(field, "the model has no default feature layer; layers: " + list);
  throw ConfigError(field, "no layer \"" + requested + "\"; layers: " + list);
}

FeatureDistillerImpl::FeatureDistillerImpl(std::string method, std::map<std::string, double> params,
                                           const torch::Tensor& s, const torch::Tensor& t,
                                           const FeatureLayers& layers, int64_t train_size, uint64_t seed)
    : method_(std::move(method)), params_(std::move(params)),
      negatives_generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  const MethodLoss* entry = findMethodLoss(method_);
  term_ = entry ? entry->features : FeatureTerm::None;
  const std::string s_what = "student layer \"" + layers.student + "\" gives " + shapeText(s);
  const std::string t_what = "teacher layer \"" + layers.teacher + "\" gives " + shapeText(t);
  if (term_ == FeatureTerm::HintRegression) {
    if (s.dim() == 4 && t.dim() == 4) {
      const int64_t h = std::min(s.size(2), t.size(2)), w = std::min(s.size(3), t.size(3));
      if (s.size(1) != t.size(1)) {
        conv_adapter_ = register_module(
            "adapter", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.size(1), t.size(1), 1).bias(true)));
        flops_ = 2.0 * double(s.size(1) * t.size(1) * h * w);
      }
    } else if (vectorSize(s) != vectorSize(t)) {
      linear_adapter_ = register_module("adapter", torch::nn::Linear(vectorSize(s), vectorSize(t)));
      flops_ = 2.0 * double(vectorSize(s) * vectorSize(t));
    }
  } else if (term_ == FeatureTerm::AttentionMaps) {
    if (s.dim() != 4)
      throw ConfigError("method.student_layer", "attention transfer compares spatial maps [N, C, H, W]; " + s_what +
                                                    "; pick a convolutional layer");
    if (t.dim() != 4)
      throw ConfigError("method.teacher_layer", "attention transfer compares spatial maps [N, C, H, W]; " + t_what +
                                                    "; pick a convolutional layer");
  } else if (term_ == FeatureTerm::Contrastive) {
    const int64_t dim = int64_t(param("feat_dim"));
    embed_student_ = register_module("embed_student", torch::nn::Linear(vectorSize(s), dim));
    embed_teacher_ = register_module("embed_teacher", torch::nn::Linear(vectorSize(t), dim));
    // CRD's initialisation: uniform in +-1/sqrt(dim/3), rows not normalised.
    const double stdv = 1.0 / std::sqrt(double(dim) / 3.0);
    auto init = [&] {
      return torch::rand({std::max<int64_t>(1, train_size), dim}, negatives_generator_, torch::kFloat) * (2 * stdv) -
             stdv;
    };
    memory_student_ = register_buffer("memory_student", init());
    memory_teacher_ = register_buffer("memory_teacher", init());
    const double k = std::clamp<double>(param("k"), 1.0, double(std::max<int64_t>(1, train_size)));
    flops_ = 2.0 * double(dim) * double(vectorSize(s) + vectorSize(t)) + 2.0 * 2.0 * double(dim) * (k + 1.0);
  } else if (term_ != FeatureTerm::Relations) {
    throw ConfigError("method.name", "\"" + method_ + "\" is not a feature method");
  }
}

double FeatureDistillerImpl::param(const char* key) const {
  auto it = params_.find(key);
  if (it == params_.end()) throw ConfigError(std::string("method.") + key, "missing parameter");
  return it->second;
}

// FitNets: the student's activation mapped to the teacher's shape.
torch::Tensor FeatureDistillerImpl::adapt(const torch::Tensor& s, const torch::Tensor& t) {
  if (s.dim() == 4 && t.dim() == 4) {
    torch::Tensor x = s;
    const int64_t h = std::min(s.size(2), t.size(2)), w = std::min(s.size(3), t.size(3));
    // Average pooling commutes with a 1x1 conv, so pool first: fewer FLOPs.
    if (s.size(2) != h || s.size(3) != w) x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({h, w}));
    return conv_adapter_ ? conv_adapter_->forward(x) : x;
  }
  torch::Tensor x = featureVector(s);
  return linear_adapter_ ? linear_adapter_->forward(x) : x;
}

torch::Tensor FeatureDistillerImpl::crdTerm(const torch::Tensor& s, const torch::Tensor& t,
                                            const torch::Tensor& indices) {
  const double T = param("nce_t"), m = param("momentum");
  const int64_t n = memory_student_.size(0);
  const int64_t k = std::clamp<int64_t>(std::llround(param("k")), 1, n);
  const auto device = memory_student_.device();
  const auto idx = indices.to(device, torch::kLong);
  const auto negatives = torch::randint(n, {k}, negatives_generator_, torch::kLong).to(device);
  auto normalise = [](const torch::Tensor& x) {
    return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
  };
  const auto zs = normalise(embed_student_->forward(featureVector(s)));
  const auto zt = normalise(embed_teacher_->forward(featureVector(t)));
  const auto loss = contrastiveLoss(zs, memory_teacher_.index_select(0, idx), memory_teacher_.index_select(0, negatives), T) +
                    contrastiveLoss(zt, memory_student_.index_select(0, idx), memory_student_.index_select(0, negatives), T);
  {
    torch::NoGradGuard no_grad;
    auto update = [&](torch::Tensor& memory, const torch::Tensor& z) {
      auto rows = memory.index_select(0, idx) * m + z.detach().to(memory.dtype()) * (1.0 - m);
      memory.index_copy_(0, idx, normalise(rows));
    };
    update(memory_student_, zs);
    update(memory_teacher_, zt);
  }
  return loss;
}

LossParts FeatureDistillerImpl::loss(const torch::Tensor& student_logits, const torch::Tensor& student_feature,
                                     const torch::Tensor& teacher_logits, const torch::Tensor& teacher_feature,
                                     const torch::Tensor& labels, const torch::Tensor& indices) {
  const torch::Tensor t = teacher_feature.detach();
  torch::Tensor term;
  switch (term_) {
  case FeatureTerm::HintRegression: {
    torch::Tensor target = t;
    if (t.dim() == 4 && student_feature.dim() == 4) {
      const int64_t h = std::min(student_feature.size(2), t.size(2)), w = std::min(student_feature.size(3), t.size(3));
      if (t.size(2) != h || t.size(3) != w) target = F::adaptive_avg_pool2d(t, F::AdaptiveAvgPool2dFuncOptions({h, w}));
    } else {
      target = featureVector(t);
    }
    term = fitnetsLoss(adapt(student_feature, t), target);
    break;
  }
  case FeatureTerm::AttentionMaps:
    term = attentionLoss(student_feature, t, param("p"));
    break;
  case FeatureTerm::Relations: {
    const auto s = featureVector(student_feature), tv = featureVector(t);
    term = param("distance_weight") * rkdDistanceLoss(s, tv) + param("angle_weight") * rkdAngleLoss(s, tv);
    break;
  }
  case FeatureTerm::Contrastive:
    term = crdTerm(student_feature, t, indices);
    break;
  case FeatureTerm::None: // refused by the constructor
    break;
  }
  LossParts parts;
  parts.hard = F::cross_entropy(student_logits, labels);
  parts.soft = param("beta") * term;
  const double kd_weight = param("kd_weight");
  if (kd_weight > 0)
    parts.soft = parts.soft + kd_weight * kdLoss(student_logits, teacher_logits.detach(), labels, param("temperature"), 1.0).soft;
  parts.total = param("ce_weight") * parts.hard + parts.soft;
  return parts;
}

} // namespace distillery
