#pragma once
// Exponential moving average with debiasing, as researchers know it from
// TensorBoard's smoothing slider: without debiasing the first values would be
// pulled towards zero.
#include <vector>

namespace distillery {

// weight in [0, 1): 0 returns the input, values near 1 smooth heavily.
// Non-finite values are passed through and do not enter the average, so one
// NaN neither poisons the rest of the curve nor disappears from view.
std::vector<double> smoothEma(const std::vector<double>& values, double weight);

} // namespace distillery
