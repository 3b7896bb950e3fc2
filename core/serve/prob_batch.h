#pragma once
// The teacher's answer to one request before it is shaped for the caller: a
// probability distribution per input, row-major [rows, classes]. Torch-free,
// so the output post-processors (output_modes.h) and the service work on it
// without LibTorch.
#include <cstdint>
#include <vector>

namespace distillery {

struct ProbBatch {
  int64_t rows = 0;
  int64_t classes = 0;
  std::vector<double> p; // rows * classes, each row sums to 1

  const double* row(int64_t r) const { return p.data() + r * classes; }
  double* row(int64_t r) { return p.data() + r * classes; }
};

} // namespace distillery
