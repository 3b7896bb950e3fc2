#pragma once
// CutMix-mixed inputs for SAC-m (Guan et al., NeurIPS 2022): each is one test
// input with a box cut from another pasted in. Mixed inputs sit between the
// classes, where a copy's outputs follow the teacher's idiosyncrasies and an
// independent model's do not, so the correlation matrices tell them apart on
// tens of inputs without training a surrogate.
#include <torch/torch.h>

#include <cstdint>

namespace distillery {

// n inputs from pool ([N, C, H, W] images or [N, F] tables), deterministic in
// seed. Images: a box of area (1 - lambda) H W, lambda ~ U(0, 1), at a uniform
// centre and clipped to the image; tables: a contiguous run of (1 - lambda) F features.
torch::Tensor cutmixInputs(const torch::Tensor& pool, int64_t n, uint64_t seed);

} // namespace distillery
