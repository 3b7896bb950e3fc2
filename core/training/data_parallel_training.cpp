#include "core/training/data_parallel_training.h"

namespace distillery {

torch::Tensor DataParallelTraining::shard(const torch::Tensor& global_rows) const {
  if (!group_) return global_rows;
  return global_rows.slice(0, group_->rank(), global_rows.size(0), group_->worldSize());
}

const TrainingCheckpoint* DataParallelTraining::resumeFrom(const TrainingCheckpoint* own) {
  if (!group_) return own;
  const std::string bytes = group_->shareFromRoot("resume", own ? encodeCheckpoint(*own) : "");
  if (bytes.empty()) return nullptr;
  if (group_->isRoot()) return own;
  shared_resume_ = decodeCheckpoint(bytes, "rank 0's checkpoint");
  return &*shared_resume_;
}

void DataParallelTraining::startFromRoot(const std::vector<torch::Tensor>& state) {
  if (group_) group_->broadcastFromRoot(state);
}

void DataParallelTraining::reduceGradients(const std::vector<torch::Tensor>& params, double local_weight) {
  if (group_) stop_agreed_ = group_->averageGradients(params, local_weight, stop_.stopRequested());
}

DataParallelTraining::WindowMeans DataParallelTraining::reduceWindow(const LossWindow& window) {
  WindowMeans m;
  const LossWindow::Means means = window.means(); // one read from the device per log line
  m.total = means.total;
  m.soft = means.soft;
  m.hard = means.hard;
  m.samples = window.samples();
  if (!group_) return m;
  // The ranks' means weighted by their samples: the global batch's loss.
  auto sums = torch::tensor({m.total * m.samples, m.soft * m.samples, m.hard * m.samples, m.samples}, torch::kDouble);
  group_->allReduceSum(sums);
  m.samples = sums[3].item<double>();
  const double w = m.samples > 0 ? 1.0 / m.samples : 0.0;
  m.total = sums[0].item<double>() * w;
  m.soft = sums[1].item<double>() * w;
  m.hard = sums[2].item<double>() * w;
  return m;
}

double DataParallelTraining::sum(double value) {
  if (!group_) return value;
  auto t = torch::tensor({value}, torch::kDouble);
  group_->allReduceSum(t);
  return t[0].item<double>();
}

void DataParallelTraining::finish(const std::vector<torch::Tensor>& state, RunRecorder& recorder,
                                  const std::string& unit) {
  if (!group_) return;
  group_->broadcastFromRoot(state);
  auto shares = torch::zeros({group_->worldSize()}, torch::kDouble);
  shares[group_->rank()] = local_samples_;
  group_->allReduceSum(shares);
  std::string text;
  for (int64_t r = 0; r < shares.size(0); ++r)
    text += (r ? ", " : "") + std::to_string(int64_t(shares[r].item<double>()));
  recorder.log("info", "data-parallel: " + unit + " trained per rank: " + text + " (of " +
                           std::to_string(int64_t(shares.sum().item<double>())) + ")");
}

} // namespace distillery
