#pragma once
// SAC-m (Guan et al., NeurIPS 2022, "Are you stealing my model? Sample
// correlation for fingerprinting deep neural networks"): a model's outputs on
// N CutMix-mixed inputs give an N x N matrix of pairwise cosine similarities
// between its output rows; a copy of the teacher reproduces the teacher's
// matrix more closely than an independent model does. The distance is the
// mean absolute difference of the two matrices (smaller: more similar).
#include <cstdint>
#include <vector>

namespace distillery {

// outputs: n rows of c probabilities, row-major. Returns n x n, row-major;
// a zero row has similarity 0 with every row (itself included).
std::vector<double> sacCorrelationMatrix(const std::vector<float>& outputs, int64_t n, int64_t c);

// Mean over all n x n entries of |a - b|. Throws ConfigError("sac", ...) when the sizes differ.
double sacDistance(const std::vector<double>& a, const std::vector<double>& b);

} // namespace distillery
