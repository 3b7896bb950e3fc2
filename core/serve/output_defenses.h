#pragma once
// The defenses against model stealing that the teacher server can apply to
// its answers (issue 17 part 2): transforms of the probability batch that run
// before the output mode (output_modes.h), so any defense composes with any
// mode. Each is a function of the probability rows alone, so each is checked
// against an independent reference (tests/defense_reference.py).
//
//   gaussian_noise          p' = normalise(max(p + scale * z, 0)), z ~ N(0, 1) per class
//   reverse_sigmoid         p' = normalise(clip(p - beta * (sigmoid(gamma * logit(p)) - 1/2), 0, 1))
//                           (Lee et al. 2019, as the Adversarial Robustness Toolbox's post-processor)
//   adaptive_misinformation p' = (1 - a) p + a m,  a = 1 / (1 + exp(nu * (max(p) - tau)))
//                           (Kariyappa & Qureshi, CVPR 2020), m the misinformation distribution
//
// The fourth, mad (mad_defense.h), needs the query and a surrogate's gradients,
// so the engine applies it (served_model.h); buildDefense only checks and
// reports its entry. The formulas, parameters and edge cases are in docs/api.md.
#include "core/serve/prob_batch.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace distillery {

// Standard normal noise, one value per entry of `batch`, derived from `seed`
// and each row's own bits: the same answer gets the same noise, so repeating
// a query and averaging the replies does not remove it. Deterministic, so a
// test can hand the same noise to the reference.
std::vector<double> gaussianNoise(uint64_t seed, const ProbBatch& batch);

ProbBatch gaussianNoiseDefense(ProbBatch batch, double scale, uint64_t seed);
ProbBatch reverseSigmoidDefense(ProbBatch batch, double beta, double gamma);
// `m` is the "reverse" misinformation: m_i proportional to 1 / p_i, i.e.
// softmax(-logits), which puts the least mass where the model puts the most.
ProbBatch adaptiveMisinformationDefense(ProbBatch batch, double tau, double nu);

// One entry of the config's "output.transforms": {"name": ..., params...}.
// Sets `reported` to what the server reports for it (/v1/info and every
// reply's "output"; never the noise seed). Throws ConfigError naming the
// field, e.g. "output.transforms[0].beta".
std::function<ProbBatch(ProbBatch)> buildDefense(const nlohmann::json& spec, const std::string& path,
                                                 nlohmann::json& reported);

} // namespace distillery
