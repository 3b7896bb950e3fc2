#include "core/training/loss_window.h"

namespace distillery {

void LossWindow::add(const torch::Tensor& total, const torch::Tensor& soft, const torch::Tensor& hard,
                     double samples) {
  totals_.push_back(total.detach());
  if (soft.defined()) softs_.push_back(soft.detach());
  if (hard.defined()) hards_.push_back(hard.detach());
  samples_ += samples;
}

std::optional<LossWindow::NonFinite> LossWindow::firstNonFinite(int64_t last_step) const {
  if (totals_.empty()) return std::nullopt;
  auto losses = torch::stack(totals_).to(torch::kCPU, torch::kDouble);
  const auto finite = torch::isfinite(losses);
  if (finite.all().item<bool>()) return std::nullopt;
  const int64_t bad = torch::argmin(finite.to(torch::kInt)).item<int64_t>();
  return NonFinite{last_step - int64_t(totals_.size()) + 1 + bad, losses[bad].item<double>()};
}

namespace {
double mean(const std::vector<torch::Tensor>& v) {
  return v.empty() ? 0.0 : torch::stack(v).mean().item<double>();
}
} // namespace

LossWindow::Means LossWindow::means() const {
  if (totals_.empty()) return {};
  auto onDevice = [&](const std::vector<torch::Tensor>& v) {
    return v.empty() ? torch::zeros({}, totals_.front().options()) : torch::stack(v).mean();
  };
  const auto host = torch::stack({onDevice(totals_), onDevice(softs_), onDevice(hards_)}).to(torch::kCPU, torch::kDouble);
  const double* m = host.data_ptr<double>();
  return {m[0], m[1], m[2]};
}

double LossWindow::meanTotal() const { return mean(totals_); }
double LossWindow::meanSoft() const { return mean(softs_); }
double LossWindow::meanHard() const { return mean(hards_); }

void LossWindow::clear() {
  totals_.clear();
  softs_.clear();
  hards_.clear();
  samples_ = 0.0;
}

} // namespace distillery
