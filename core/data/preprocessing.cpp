#include "core/data/preprocessing.h"

#include "core/base/errors.h"

namespace distillery {

namespace {

std::vector<double> perChannel(const std::vector<double>& values, int64_t channels, const std::string& field) {
  if (values.size() == 1) return std::vector<double>(size_t(channels), values[0]);
  if (int64_t(values.size()) == channels) return values;
  throw ConfigError(field, "has " + std::to_string(values.size()) + " values; the data has " +
                               std::to_string(channels) + " channel" + (channels == 1 ? "" : "s") + " (give 1 value or " +
                               std::to_string(channels) + ")");
}

// [1, C] or [1, C, 1, 1]: broadcasts along dimension 1 of a tensor with `dims` dimensions.
torch::Tensor channelView(const std::vector<double>& values, int64_t dims) {
  std::vector<int64_t> shape(size_t(dims), 1);
  shape[1] = int64_t(values.size());
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32).view(shape);
}

} // namespace

Normalisation resolveNormalisation(const DataConfig& config, const torch::Tensor& train_raw, int64_t channels) {
  Normalisation n;
  n.divide_by = config.divide_by;
  if (!config.stats_from_train) {
    n.mean = perChannel(config.mean, channels, "data.mean");
    n.std = perChannel(config.std, channels, "data.std");
    return n;
  }
  // Statistics over every sample and position of each channel, in double for accuracy.
  torch::Tensor x = train_raw.to(torch::kFloat64) / config.divide_by;
  std::vector<int64_t> reduce{0};
  for (int64_t d = 2; d < x.dim(); ++d) reduce.push_back(d);
  torch::Tensor mean = x.mean(reduce);
  torch::Tensor std = x.std(reduce, /*unbiased=*/false);
  for (int64_t c = 0; c < channels; ++c) {
    n.mean.push_back(mean[c].item<double>());
    const double s = std[c].item<double>();
    n.std.push_back(s > 1e-12 ? s : 1.0); // a constant channel stays centred but unscaled
  }
  return n;
}

torch::Tensor normalise(const torch::Tensor& raw, const Normalisation& n) {
  const int64_t dims = raw.dim();
  return ((raw.to(torch::kFloat32) / n.divide_by) - channelView(n.mean, dims)) / channelView(n.std, dims);
}

} // namespace distillery
