#pragma once
// Counts the multiply-accumulates of any forward pass, TorchScript included,
// by watching the convolution and matrix-multiply operators it dispatches
// (ATen RecordFunction callbacks on this thread). Nested calls of a counted
// operator (conv2d -> _convolution, linear -> addmm) count once.
// The convention matches MacCounter in model_zoo.h: only convolutions and
// linear/matmul layers count; BatchNorm, activations, pooling and additions don't.
#include <functional>

namespace distillery {

// Runs `forward` and returns the MACs it performed (all samples of its batch).
double countOperatorMacs(const std::function<void()>& forward);

} // namespace distillery
