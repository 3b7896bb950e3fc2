#pragma once
// The surrogate model of the MAD defense (mad_defense.h): a zoo network built
// with a fixed seed, untrained (the paper allows a randomly initialised
// surrogate), on the served input shape and class count. It gives the input h
// of its last linear layer and that layer's weights at a batch of queries,
// which is all MAD's Jacobian needs. The header is torch-free so the torch-free
// tests can build the very surrogate the server uses.
#include "core/config/model_spec.h"
#include "core/serve/mad_defense.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace distillery {

class MadSurrogate {
public:
  // `shape` is the served input, [C, H, W] or [F]. Throws ConfigError(field, ...)
  // when the network has no last linear layer whose input can be read.
  MadSurrogate(const ModelSpec& spec, uint64_t seed, const std::vector<int64_t>& shape, int64_t classes,
               const std::string& field);

  // `x` is `rows` normalised inputs of the served shape, row-major float32.
  // Safe to call from several threads (one forward pass at a time).
  MadLastLayer lastLayer(const float* x, int64_t rows) const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace distillery
