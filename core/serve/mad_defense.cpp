#include "core/serve/mad_defense.h"

#include "core/base/errors.h"
#include "core/config/config_reader.h"

#include <algorithm>
#include <cmath>

namespace distillery {

namespace {

// v / ||v||, or 0 where v is 0 (no direction: every target then deviates equally).
void normalise(std::vector<double>& v) {
  double n = 0;
  for (double x : v) n += x * x;
  n = std::sqrt(n);
  for (double& x : v) x = n > 0 ? x / n : 0.0;
}

} // namespace

ProbBatch madDefense(ProbBatch y, const MadLastLayer& layer, double epsilon, std::vector<int64_t>* chosen) {
  const int64_t K = y.classes, H = layer.features;
  if (layer.rows != y.rows || layer.classes != K)
    throw std::logic_error("madDefense: the surrogate's layer does not match the answers");
  if (chosen) chosen->assign(size_t(y.rows), 0);
  std::vector<double> p(static_cast<size_t>(K)), u(p), uk(p);
  for (int64_t r = 0; r < y.rows; ++r) {
    // The surrogate's softmax p at this query, from the last layer in float64.
    const double* h = layer.h.data() + r * H;
    for (int64_t k = 0; k < K; ++k) {
      double z = layer.bias[size_t(k)];
      for (int64_t j = 0; j < H; ++j) z += layer.weight[size_t(k * H + j)] * h[j];
      p[size_t(k)] = z;
    }
    const double top = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (double& v : p) sum += v = std::exp(v - top);
    for (double& v : p) v /= sum;
    // d log p_c / d(W, b) = (e_c - p) (x) [h, 1], so G^T v = (v - p sum(v)) (x) [h, 1]. The
    // norm of a Kronecker product is the product of the norms, so after normalising, the
    // [h, 1] factor is one shared unit vector and the deviation is that of the class parts.
    double* row = y.row(r);
    double mass = 0;
    for (int64_t c = 0; c < K; ++c) mass += row[c];
    for (int64_t c = 0; c < K; ++c) u[size_t(c)] = row[c] - p[size_t(c)] * mass;
    normalise(u);
    int64_t best = 0;
    double best_deviation = -1;
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t c = 0; c < K; ++c) uk[size_t(c)] = (c == k ? 1.0 : 0.0) - p[size_t(c)];
      normalise(uk);
      double deviation = 0;
      for (int64_t c = 0; c < K; ++c) deviation += (uk[size_t(c)] - u[size_t(c)]) * (uk[size_t(c)] - u[size_t(c)]);
      if (deviation > best_deviation) { // strict: ties go to the lower class, as torch.argmax
        best_deviation = deviation;
        best = k;
      }
    }
    double distance = 0; // ||y_k - y||_1
    for (int64_t c = 0; c < K; ++c) distance += std::abs((c == best ? 1.0 : 0.0) - row[c]);
    const double a = distance > 0 ? std::min(1.0, epsilon / distance) : 0.0;
    for (int64_t c = 0; c < K; ++c) row[c] = (1.0 - a) * row[c] + a * (c == best ? 1.0 : 0.0);
    if (chosen) (*chosen)[size_t(r)] = best;
  }
  return y;
}

MadSpec madSpecFromJson(const nlohmann::json& spec, const std::string& path, nlohmann::json& reported) {
  ConfigReader r(spec, path);
  r.accept("name");
  MadSpec m;
  if (!r.has("epsilon")) throw ConfigError(r.field("epsilon"), "missing: mad needs its L1 budget (0 < epsilon <= 2)");
  // Two probability vectors are at most 2 apart in L1.
  m.epsilon = r.number("epsilon", 0, 1e-12, 2);
  if (!r.has("surrogate"))
    throw ConfigError(r.field("surrogate"), "missing: mad needs a surrogate zoo model, e.g. {\"zoo\": \"mlp\", \"hidden\": [64]}");
  r.accept("surrogate");
  if (!spec["surrogate"].is_object())
    throw ConfigError(r.field("surrogate"), "expected a zoo model, e.g. {\"zoo\": \"mlp\", \"hidden\": [64]}, got " +
                                                jsonTypeName(spec["surrogate"]));
  m.surrogate = modelSpecFromJson(spec["surrogate"], r.field("surrogate"));
  if (m.surrogate.isTorchScript())
    throw ConfigError(r.field("surrogate") + ".torchscript", "mad's surrogate is a zoo model built at start (\"zoo\": ...)");
  m.seed = uint64_t(r.integer("seed", 0, 0, int64_t(1) << 62));
  r.finish();
  reported = {{"name", "mad"}, {"epsilon", m.epsilon}, {"surrogate", toJson(m.surrogate)}};
  return m;
}

} // namespace distillery
