#include "core/methods/transfer_set.h"

#include "core/base/errors.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace distillery {

namespace {

std::string shapeText(const InputShape& s) {
  return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

} // namespace

Dataset makeTransferSet(const Dataset& data, const TransferConfig& transfer, uint64_t seed) {
  Dataset out = data;
  if (transfer.data) {
    DataConfig other = *transfer.data;
    // The teacher must see inputs scaled as in its own training.
    other.divide_by = data.normalisation.divide_by;
    other.mean = data.normalisation.mean;
    other.std = data.normalisation.std;
    other.stats_from_train = false;
    other.val_fraction.reset();
    other.val_size = 0;
    Dataset images;
    try {
      images = loadDataset(other, seed);
    } catch (const ConfigError& e) { // the run's per-channel mean/std do not fit its channels
      throw DataError(other.path, std::string("cannot be preprocessed like the run's data (") + e.what() +
                                      "); its images must have the run's shape " + shapeText(data.shape));
    }
    if (!(images.shape.channels == data.shape.channels && images.shape.height == data.shape.height &&
          images.shape.width == data.shape.width))
      throw DataError(other.path, "holds " + shapeText(images.shape) + " inputs; the run's data (" + data.path +
                                      ") has " + shapeText(data.shape) + ", and the teacher takes those");
    out.train.x = images.train.x;
    out.train.y = torch::full({images.train.size()}, kHiddenLabel, torch::kLong);
  } else if (transfer.hide_labels) {
    out.train.y = torch::full({data.train.size()}, kHiddenLabel, torch::kLong);
  }
  if (transfer.fraction < 1.0) {
    const int64_t n = out.train.size();
    const int64_t keep = std::clamp<int64_t>(std::llround(transfer.fraction * double(n)), 1, n);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x7a5f3e7ull);
    auto idx = torch::randperm(n, gen, torch::kLong).slice(0, 0, keep);
    out.train.x = out.train.x.index_select(0, idx).contiguous();
    out.train.y = out.train.y.index_select(0, idx).contiguous();
  }
  return out;
}

nlohmann::json transferSummary(const Dataset& transfer_set, const TransferConfig& transfer) {
  nlohmann::json j = {{"samples", transfer_set.train.size()},
                      {"fraction", transfer.fraction},
                      {"labels_hidden", transfer.labelsHidden()}};
  j["source"] = transfer.data ? transfer.data->dataset + " images from " + transfer.data->path
                              : std::string("the run's training split");
  return j;
}

} // namespace distillery
