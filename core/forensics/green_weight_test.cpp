#include "core/forensics/green_weight_test.h"

#include <cmath>

namespace distillery {

double normalSurvivalLog(double z) {
  // erfc keeps its relative precision until it underflows (z near 37.5); past
  // z = 37 the asymptotic series of Mills' ratio, to these terms, is accurate
  // to about 1e-12.
  if (z < 37.0) return std::log(0.5 * std::erfc(z / std::sqrt(2.0)));
  const double z2 = z * z;
  const double series = 1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2) + 105.0 / (z2 * z2 * z2 * z2);
  return -0.5 * z2 - std::log(z) - 0.5 * std::log(2.0 * M_PI) + std::log(series);
}

namespace {

void finish(GreenWeightScore& s) {
  s.z = s.variance > 0.0 ? (s.green - s.expected) / std::sqrt(s.variance) : 0.0;
  const double log_p = s.variance > 0.0 ? normalSurvivalLog(s.z) : 0.0;
  s.p_value = std::exp(log_p);
  s.log10_p = log_p / std::log(10.0);
}

} // namespace

GreenWeightScore GreenWeightScore::since(const GreenWeightScore& before) const {
  GreenWeightScore s;
  s.windows = windows - before.windows;
  s.repeated = repeated - before.repeated;
  s.weight = weight - before.weight;
  s.green = green - before.green;
  s.expected = expected - before.expected;
  s.variance = variance - before.variance;
  s.third = third - before.third;
  finish(s);
  return s;
}

GreenWeightDetector::GreenWeightDetector(const GreenList& greens) : greens_(greens) {}

bool GreenWeightDetector::add(const int64_t* window, const double* weights, double window_weight) {
  const int h = greens_.params().context;
  if (!seen_.insert(std::vector<int64_t>(window, window + h)).second) {
    ++sums_.repeated;
    return false;
  }
  const int64_t V = greens_.vocabSize();
  const double k = double(greens_.greenCount()), n = double(V);
  const auto flags = greens_.greens(window);
  double total = 0.0, green = 0.0;
  for (int64_t i = 0; i < V; ++i) {
    total += weights[i];
    if (flags[size_t(i)]) green += weights[i];
  }
  const double mean = total / n;
  double m2 = 0.0, m3 = 0.0;
  for (int64_t i = 0; i < V; ++i) {
    const double d = weights[i] - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  const double w = window_weight;
  ++sums_.windows;
  sums_.weight += w;
  sums_.green += w * green;
  sums_.expected += w * k * mean;
  sums_.variance += w * w * k * (n - k) / (n * (n - 1.0)) * m2;
  sums_.third += V > 2 ? w * w * w * k * (n - k) * (n - 2.0 * k) / ((n - 1.0) * (n - 2.0)) * (m3 / n) : 0.0;
  return true;
}

GreenWeightScore GreenWeightDetector::score() const {
  GreenWeightScore s = sums_;
  finish(s);
  return s;
}

} // namespace distillery
