#include "core/forensics/distribution_shift.h"

#include "core/base/errors.h"
#include "core/data/idx_reader.h"
#include "core/forensics/prada.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

namespace distillery {

namespace {

std::string idxFile(const std::string& folder, const std::string& stem) {
  const auto dir = std::filesystem::path(folder);
  for (const std::string name : {stem, stem + ".gz"})
    if (std::filesystem::exists(dir / name)) return (dir / name).string();
  throw DataError((dir / (stem + ".gz")).string(), "missing (--data needs the IDX files " + stem + "[.gz])");
}

std::vector<InputSketch> sketchImages(const std::string& path, int64_t count) {
  const IdxArray a = readIdx(path);
  if (a.dims.size() != 3 || a.dims[0] < 1) throw DataError(path, "expected IDX images [N, H, W]");
  const int64_t n = a.dims[0], h = a.dims[1], w = a.dims[2];
  count = std::min(count, n);
  std::vector<InputSketch> out;
  std::vector<float> image(size_t(h * w));
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = k * n / count; // evenly spaced: deterministic, no class block missed
    const uint8_t* p = a.data.data() + i * h * w;
    std::copy(p, p + h * w, image.begin());
    out.push_back(sketchInput(image.data(), {h, w}));
  }
  return out;
}

} // namespace

std::vector<double> nearestDistances(const std::vector<InputSketch>& queries, const std::vector<InputSketch>& sample) {
  std::vector<double> out;
  out.reserve(queries.size());
  for (const auto& q : queries) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& s : sample) best = std::min(best, sketchDistance(q, s));
    out.push_back(best);
  }
  return out;
}

double meanNearestDistance(const std::vector<InputSketch>& queries, const std::vector<InputSketch>& sample) {
  double sum = 0;
  int64_t counted = 0;
  for (double d : nearestDistances(queries, sample))
    if (std::isfinite(d)) {
      sum += d;
      ++counted;
    }
  return counted ? sum / double(counted) : -1;
}

ShiftReference shiftReferenceFromIdx(const std::string& folder, const std::string& dataset, int64_t train_sample,
                                     int64_t test_sample) {
  if (dataset != "fashion-mnist" && dataset != "mnist")
    throw ConfigError("--dataset", "expected fashion-mnist or mnist (IDX images), not \"" + dataset + "\"");
  ShiftReference r;
  r.train = sketchImages(idxFile(folder, "train-images-idx3-ubyte"), train_sample);
  const auto test = sketchImages(idxFile(folder, "t10k-images-idx3-ubyte"), test_sample);
  r.test_images = int64_t(test.size());
  r.test_mean_nn = meanNearestDistance(test, r.train);
  return r;
}

double ShiftStream::add(const InputSketch& query) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ++seen_;
  if (reference_->test_mean_nn <= 0) return nan;
  double best = std::numeric_limits<double>::infinity();
  for (const auto& s : reference_->train) best = std::min(best, sketchDistance(query, s));
  if (std::isfinite(best)) {
    sum_ += best;
    ++counted_;
    trace_.score = sum_ / double(counted_) / reference_->test_mean_nn;
    if (trace_.flagged_after == 0 && counted_ >= min_queries_ && trace_.score > threshold_) trace_.flagged_after = seen_;
  }
  return trace_.score < 0 ? nan : trace_.score;
}

ShiftTrace shiftTrace(const std::vector<InputSketch>& queries, const ShiftReference& reference, double threshold,
                      int64_t min_queries) {
  ShiftStream stream(reference, threshold, min_queries);
  for (const auto& q : queries) stream.add(q);
  return stream.trace();
}

} // namespace distillery
