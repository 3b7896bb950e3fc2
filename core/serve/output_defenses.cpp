#include "core/serve/output_defenses.h"

#include "core/base/splitmix64.h"
#include "core/base/errors.h"
#include "core/config/config_reader.h"
#include "core/serve/mad_defense.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace distillery {

namespace {

// A counter-based generator, so noise needs no shared state between the HTTP threads.
uint64_t splitmix64(uint64_t& state) { return nextSplitMix64(state); }

// FNV-1a over the row's bytes: the noise stream of this exact answer.
uint64_t rowHash(const double* p, int64_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(p);
  for (size_t i = 0; i < size_t(n) * sizeof(double); ++i) h = (h ^ bytes[i]) * 0x100000001B3ull;
  return h;
}

// A uniform in (0, 1): 53 random bits, offset by half a step so log() never sees 0.
double uniformOpen(uint64_t& state) { return (double(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53; }

// Divides a row by its sum; a row with nothing left becomes uniform, so it
// says nothing rather than leaking the undefended answer.
void normaliseRow(double* p, int64_t n) {
  double sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += p[c];
  for (int64_t c = 0; c < n; ++c) p[c] = sum > 0 ? p[c] / sum : 1.0 / double(n);
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

} // namespace

std::vector<double> gaussianNoise(uint64_t seed, const ProbBatch& batch) {
  std::vector<double> z(batch.p.size());
  for (int64_t r = 0; r < batch.rows; ++r) {
    uint64_t state = seed ^ rowHash(batch.row(r), batch.classes);
    splitmix64(state); // decorrelate nearby seeds
    for (int64_t c = 0; c < batch.classes; ++c) {
      // Box-Muller, one normal per pair of uniforms.
      const double u1 = uniformOpen(state), u2 = uniformOpen(state);
      z[size_t(r * batch.classes + c)] = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
  }
  return z;
}

ProbBatch gaussianNoiseDefense(ProbBatch batch, double scale, uint64_t seed) {
  const std::vector<double> z = gaussianNoise(seed, batch);
  for (size_t i = 0; i < batch.p.size(); ++i) batch.p[i] = std::max(0.0, batch.p[i] + scale * z[i]);
  for (int64_t r = 0; r < batch.rows; ++r) normaliseRow(batch.row(r), batch.classes);
  return batch;
}

ProbBatch reverseSigmoidDefense(ProbBatch batch, double beta, double gamma) {
  // The clip keeps logit() finite; ART clips at the same 1e-9.
  constexpr double lo = 1e-9, hi = 1.0 - 1e-9;
  for (int64_t r = 0; r < batch.rows; ++r) {
    double* p = batch.row(r);
    for (int64_t c = 0; c < batch.classes; ++c) {
      const double q = std::clamp(p[c], lo, hi);
      const double perturbation = beta * (sigmoid(gamma * std::log(q / (1.0 - q))) - 0.5);
      p[c] = std::clamp(p[c] - perturbation, 0.0, 1.0);
    }
    normaliseRow(p, batch.classes);
  }
  return batch;
}

ProbBatch adaptiveMisinformationDefense(ProbBatch batch, double tau, double nu) {
  std::vector<double> m(size_t(batch.classes));
  for (int64_t r = 0; r < batch.rows; ++r) {
    double* p = batch.row(r);
    const int64_t n = batch.classes;
    const double top = *std::max_element(p, p + n);
    const double low = *std::min_element(p, p + n);
    // m_i = (1/p_i) / sum_j (1/p_j), scaled by the smallest p so nothing overflows;
    // classes at exactly 0 (softmax underflow) are the limit and share all the mass.
    for (int64_t c = 0; c < n; ++c) m[size_t(c)] = low > 0 ? low / p[c] : (p[c] == 0 ? 1.0 : 0.0);
    normaliseRow(m.data(), n);
    // exp() overflows to inf far above tau, which gives a = 0 as the limit does.
    const double a = 1.0 / (1.0 + std::exp(nu * (top - tau)));
    for (int64_t c = 0; c < n; ++c) p[c] = (1.0 - a) * p[c] + a * m[size_t(c)];
  }
  return batch;
}

std::function<ProbBatch(ProbBatch)> buildDefense(const nlohmann::json& spec, const std::string& path,
                                                 nlohmann::json& reported) {
  if (!spec.is_object()) throw ConfigError(path, "expected {\"name\": ..., parameters...}, got " + jsonTypeName(spec));
  ConfigReader r(spec, path);
  if (!r.has("name"))
    throw ConfigError(r.field("name"), "missing: gaussian_noise, reverse_sigmoid, adaptive_misinformation or mad");
  const std::string name = r.oneOf("name", "", {"gaussian_noise", "reverse_sigmoid", "adaptive_misinformation", "mad"});
  if (name == "mad") {
    // Needs the query and a surrogate's gradients, so the engine applies it
    // (served_model.h); here it is checked and reported, and passes answers through.
    madSpecFromJson(spec, path, reported);
    return [](ProbBatch b) { return b; };
  }
  auto required = [&](const std::string& key, double min, double max) {
    if (!r.has(key)) throw ConfigError(r.field(key), "missing: " + name + " needs it");
    return r.number(key, 0, min, max);
  };
  reported = {{"name", name}};
  std::function<ProbBatch(ProbBatch)> fn;
  if (name == "gaussian_noise") {
    const double scale = required("scale", 1e-12, 100);
    // Without a seed, a fresh one per server start: the noise stays unpredictable to callers.
    const uint64_t seed = r.has("seed") ? uint64_t(r.integer("seed", 0, 0, int64_t(1) << 62))
                                        : (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    reported["scale"] = scale;
    fn = [scale, seed](ProbBatch b) { return gaussianNoiseDefense(std::move(b), scale, seed); };
  } else if (name == "reverse_sigmoid") {
    const double beta = required("beta", 1e-12, 1e6), gamma = required("gamma", 1e-12, 1e6);
    reported["beta"] = beta;
    reported["gamma"] = gamma;
    fn = [beta, gamma](ProbBatch b) { return reverseSigmoidDefense(std::move(b), beta, gamma); };
  } else {
    const double tau = required("tau", 0, 1);
    const double nu = r.number("nu", 1000, 1e-12, 1e9);
    const std::string misinformation = r.oneOf("misinformation", "reverse", {"reverse"});
    reported["tau"] = tau;
    reported["nu"] = nu;
    reported["misinformation"] = misinformation;
    fn = [tau, nu](ProbBatch b) { return adaptiveMisinformationDefense(std::move(b), tau, nu); };
  }
  r.finish();
  return fn;
}

} // namespace distillery
