#pragma once
// Prediction Poisoning's MAD defense (Orekondy, Schiele & Fritz, "Prediction
// Poisoning: Towards Defenses Against DNN Model Stealing Attacks", ICLR 2020;
// issue 17 part 2, the fourth defense). Each answer y moves, within an L1
// budget epsilon, toward the vertex of the simplex whose gradient direction on a
// surrogate model deviates most from that of y, so a thief who trains on the
// answers follows the wrong gradient.
//
// G is the Jacobian of the surrogate's log-softmax w.r.t. its last linear
// layer's parameters (W, b) at the query x. The target is the one-hot y_k that
// maximises || G^T y_k / ||G^T y_k|| - G^T y / ||G^T y|| ||^2 (the paper's MAD
// heuristic: search the simplex's extreme points), and the answer is
//   y' = (1 - a) y + a y_k,  a = min(1, epsilon / ||y_k - y||_1),
// so ||y' - y||_1 = min(epsilon, ||y_k - y||_1) exactly (the paper's line
// search toward y_k, solved in closed form for the L1 distance).
//
// Torch-free: the engine (mad_surrogate.h) hands over the last layer's input h
// and its weights; here only the arithmetic, checked against a PyTorch
// autograd reference (tests/mad_reference.py).
#include "core/config/model_spec.h"
#include "core/serve/prob_batch.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

// The surrogate's last linear layer at a batch of queries: logits = h W^T + b.
struct MadLastLayer {
  int64_t rows = 0, features = 0, classes = 0;
  std::vector<double> h;      // rows x features: the layer's input
  std::vector<double> weight; // classes x features
  std::vector<double> bias;   // classes
};

// y' for every row; `chosen`, when given, receives each row's target class k.
ProbBatch madDefense(ProbBatch y, const MadLastLayer& layer, double epsilon, std::vector<int64_t>* chosen = nullptr);

// {"name": "mad", "epsilon": E, "surrogate": {"zoo": ...}, "seed": S}.
struct MadSpec {
  double epsilon = 0;
  ModelSpec surrogate;
  uint64_t seed = 0;
};

// Reads and checks one "mad" entry of output.transforms; `reported` gets what
// the server shows (epsilon and the surrogate's architecture, not its seed).
// Throws ConfigError naming the field, e.g. "output.transforms[0].epsilon".
MadSpec madSpecFromJson(const nlohmann::json& spec, const std::string& path, nlohmann::json& reported);

} // namespace distillery
