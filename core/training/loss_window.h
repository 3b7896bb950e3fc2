#pragma once
// The losses of the steps since the last log line, kept on the device: reading
// a loss back every step would make the loop wait for the device each step
// (a sync per step on CUDA). They are read once per window, when the loop logs
// or checks that training has not diverged.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace distillery {

class LossWindow {
public:
  // One step's losses (soft and hard may be undefined) over `samples` samples.
  void add(const torch::Tensor& total, const torch::Tensor& soft, const torch::Tensor& hard, double samples);

  double samples() const { return samples_; }
  bool hasSoft() const { return !softs_.empty(); }
  bool hasHard() const { return !hards_.empty(); }

  struct NonFinite {
    int64_t step;  // the optimiser step (counted from 1) whose loss it was
    double value;
  };
  // The first step of the window whose total loss is NaN or infinite, given
  // the step count after the window's last step; one read from the device.
  std::optional<NonFinite> firstNonFinite(int64_t last_step) const;

  // Means over the window's steps (soft and hard over the steps that had them).
  double meanTotal() const;
  double meanSoft() const;
  double meanHard() const;

  // The three means in one read from the device (0 where the window has none).
  struct Means {
    double total = 0.0, soft = 0.0, hard = 0.0;
  };
  Means means() const;

  void clear();

private:
  std::vector<torch::Tensor> totals_, softs_, hards_;
  double samples_ = 0.0;
};

} // namespace distillery
