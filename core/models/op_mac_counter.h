#pragma once
// Counts the multiply-accumulates of any forward pass, TorchScript included,
// by watching the convolution and matrix-multiply operators it dispatches
// (ATen RecordFunction callbacks on this thread). Nested calls of a counted
// operator (conv2d -> _convolution, linear -> addmm) count once.
// The convention matches MacCounter in model_zoo.h: only convolutions and
// linear/matmul layers count; BatchNorm, activations, pooling and additions don't.
#include <functional>
#include <map>
#include <string>

namespace distillery {

// Runs `forward` and returns the MACs it performed (all samples of its batch).
double countOperatorMacs(const std::function<void()>& forward);

// The same MACs, each attributed to the TorchScript submodule whose code ran
// the operator, by the interpreter's module hierarchy ("model.layer1.0.conv1",
// instance names as in named_modules()). Operators outside any submodule, or
// not run by the TorchScript interpreter (zoo models), count under "".
struct ModuleMacs {
  double total = 0.0;
  std::map<std::string, double> by_module;
};
ModuleMacs countOperatorMacsByModule(const std::function<void()>& forward);

} // namespace distillery
