#include "core/forensics/forensic_tests.h"

#include "core/base/errors.h"
#include "core/base/stop_token.h"
#include "core/forensics/cutmix_inputs.h"
#include "core/forensics/sac_correlation.h"
#include "core/training/trainer.h"

#include <algorithm>
#include <random>

namespace distillery {

const char* toString(ForensicTest t) {
  switch (t) {
  case ForensicTest::Agreement: return "agreement";
  case ForensicTest::Sac: return "sac";
  case ForensicTest::Fingerprint: return "fingerprint";
  }
  return "?";
}

std::optional<ForensicTest> forensicTestFromString(const std::string& word) {
  for (ForensicTest t : {ForensicTest::Agreement, ForensicTest::Sac, ForensicTest::Fingerprint})
    if (word == toString(t)) return t;
  return std::nullopt;
}

void reportForensicStep(const ForensicProgress& progress, const std::string& step, int64_t done, int64_t total) {
  if (progress && !progress(step, done, total)) throw RunCancelled{};
}

nlohmann::json ForensicOptions::toJson() const {
  nlohmann::json names = nlohmann::json::array();
  for (ForensicTest t : tests) names.push_back(toString(t));
  return {{"tests", names},
          {"inputs", inputs},
          {"seed", seed},
          {"fingerprint",
           {{"eps", fingerprint.eps},
            {"steps", fingerprint.steps},
            {"crafting", toString(fingerprint.crafting)},
            {"followers", fingerprint_followers.size()},
            {"refusers", fingerprint_refusers.size()},
            {"refuser_share", fingerprint.refuser_share}}}};
}

namespace {

// n test inputs drawn without replacement, deterministic in seed.
torch::Tensor sampleTest(const Dataset& data, int64_t n, uint64_t seed) {
  std::vector<int64_t> order(size_t(data.test.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  order.resize(std::min<size_t>(order.size(), size_t(n)));
  return torch::tensor(order, torch::kLong);
}

std::vector<float> rows(const torch::Tensor& probabilities) {
  const torch::Tensor p = probabilities.to(torch::kFloat).contiguous();
  return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

std::vector<double> correlationOf(const torch::Tensor& probabilities) {
  return sacCorrelationMatrix(rows(probabilities), probabilities.size(0), probabilities.size(1));
}

// Per channel: how many input units one raw-range unit is (1/std), and the
// bounds of a valid input ((0 - mean)/std, (1 - mean)/std). Tables have no bounds.
void inputUnits(const Dataset& data, torch::Tensor& scale, torch::Tensor& lo, torch::Tensor& hi) {
  const auto& n = data.normalisation;
  const size_t channels = std::max<size_t>(1, n.std.size());
  std::vector<float> s(channels, 1.0f), l(channels), h(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double sd = c < n.std.size() && n.std[c] > 0 ? n.std[c] : 1.0;
    const double mean = c < n.mean.size() ? n.mean[c] : 0.0;
    s[c] = float(1.0 / sd);
    l[c] = float((0.0 - mean) / sd);
    h[c] = float((1.0 - mean) / sd);
  }
  scale = torch::tensor(s);
  if (data.test.x.dim() == 4) {
    lo = torch::tensor(l);
    hi = torch::tensor(h);
  }
  if (data.test.x.dim() == 2) scale = scale.mean(); // one scale for every feature
}

} // namespace

ForensicProbe makeProbe(ForensicTest test, const Classifier& teacher, const Dataset& data,
                        const ForensicOptions& options) {
  const std::string field = toString(test);
  if (data.test.size() < 2) throw ConfigError(field, "the teacher's data has no test inputs to probe with");
  if (options.inputs < 2) throw ConfigError("--inputs", "expected at least 2 inputs per test");
  teacher->eval();
  ForensicProbe probe;
  probe.test = test;
  switch (test) {
  case ForensicTest::Agreement: {
    probe.inputs = data.test.x.index_select(0, sampleTest(data, options.inputs, options.seed));
    probe.labels = predictLogits(teacher, probe.inputs, torch::kCPU).argmax(1);
    probe.closeness = Closeness::HigherIsCloser;
    break;
  }
  case ForensicTest::Sac: {
    probe.inputs = cutmixInputs(data.test.x, options.inputs, options.seed);
    probe.teacher_matrix =
        correlationOf(torch::softmax(predictLogits(teacher, probe.inputs, torch::kCPU).to(torch::kFloat), 1));
    probe.closeness = Closeness::LowerIsCloser;
    probe.needs_probabilities = true;
    break;
  }
  case ForensicTest::Fingerprint: {
    torch::Tensor scale, lo, hi;
    inputUnits(data, scale, lo, hi);
    FingerprintSettings s = options.fingerprint;
    s.count = options.inputs;
    s.seed = options.seed;
    const Fingerprints f = craftFingerprints(teacher, data.test.x, data.test.y, scale, lo, hi, s,
                                             options.fingerprint_followers, options.fingerprint_refusers);
    if (f.targets.numel() == 0 && f.dropped_by_filter > 0)
      throw ConfigError(field, "the conferrability filter dropped all " + std::to_string(f.dropped_by_filter) +
                                   " fingerprints the teacher follows (of " + std::to_string(f.crafted) +
                                   " crafted): fewer followers keep more");
    if (f.targets.numel() == 0)
      throw ConfigError(field, "the teacher follows none of the " + std::to_string(f.crafted) +
                                   " targeted adversarial examples crafted (" + toString(s.crafting) + " crafting, eps " +
                                   std::to_string(s.eps) + ")");
    probe.inputs = f.inputs;
    probe.labels = f.targets;
    probe.closeness = Closeness::HigherIsCloser;
    probe.notes = {{"crafting", toString(s.crafting)}, {"crafted", f.crafted}, {"teacher_follows", f.teacher_follows},
                   {"kept", f.targets.numel()}, {"dropped_by_filter", f.dropped_by_filter}};
    if (!f.conferrability.empty()) {
      double mean = 0;
      for (double c : f.conferrability) mean += c / double(f.conferrability.size());
      probe.notes["mean_conferrability"] = mean;
    }
    break;
  }
  }
  return probe;
}

ForensicProbe prefixProbe(const ForensicProbe& probe, int64_t k) {
  const int64_t n = probe.inputs.size(0);
  if (k < 2 || k > n) throw ConfigError(toString(probe.test), "a prefix of " + std::to_string(k) + " of " +
                                                                  std::to_string(n) + " inputs");
  ForensicProbe p = probe;
  p.inputs = probe.inputs.slice(0, 0, k);
  if (probe.labels.defined()) p.labels = probe.labels.slice(0, 0, k);
  if (!probe.teacher_matrix.empty()) {
    p.teacher_matrix.assign(size_t(k * k), 0.0);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) p.teacher_matrix[size_t(i * k + j)] = probe.teacher_matrix[size_t(i * n + j)];
  }
  return p;
}

double probeStatistic(const ForensicProbe& probe, const torch::Tensor& probabilities) {
  if (probabilities.dim() != 2 || probabilities.size(0) != probe.inputs.size(0))
    throw ConfigError(toString(probe.test), "expected one answer per probe input");
  if (probe.test == ForensicTest::Sac) return sacDistance(probe.teacher_matrix, correlationOf(probabilities));
  return (probabilities.argmax(1) == probe.labels).to(torch::kDouble).mean().item<double>();
}

nlohmann::json ForensicOutcome::toJson() const {
  nlohmann::json j = {{"test", toString(test)}, {"inputs", inputs}, {"suspect_queries", suspect_queries},
                      {"closer", toString(closeness)}, {"notes", notes}};
  if (!skipped.empty()) {
    j["skipped"] = skipped;
    return j;
  }
  j["statistic"] = statistic;
  j["p_value"] = p.p_value;
  j["null_size"] = p.null_size;
  j["null_at_least_as_close"] = p.at_least_as_close;
  j["smallest_possible_p"] = 1.0 / double(p.null_size + 1);
  j["null_statistics"] = null_statistics;
  return j;
}

std::vector<ForensicOutcome> runForensicTests(const Classifier& teacher, const Dataset& data,
                                              ForensicModel& suspect, std::vector<ForensicModel>& null,
                                              const ForensicOptions& options, const ForensicProgress& progress) {
  if (null.empty()) throw ConfigError("--null", "no independent models: a p-value needs a null");
  std::vector<ForensicOutcome> out;
  const int64_t per_test = 2 + int64_t(null.size());
  const int64_t total = per_test * int64_t(options.tests.size());
  int64_t done = 0;
  for (ForensicTest test : options.tests) {
    const std::string name = toString(test);
    reportForensicStep(progress, name + ": building the probe", done, total);
    const ForensicProbe probe = makeProbe(test, teacher, data, options);
    ForensicOutcome o;
    o.test = test;
    o.inputs = probe.inputs.size(0);
    o.closeness = probe.closeness;
    o.notes = probe.notes;
    if (probe.needs_probabilities && suspect.labels_only) {
      o.skipped = std::string(toString(test)) + " needs probabilities; " + suspect.description +
                  " answers with labels only";
      out.push_back(std::move(o));
      done += per_test;
      continue;
    }
    reportForensicStep(progress, name + ": asking the suspect", ++done, total);
    const int64_t before = suspect.queries;
    o.statistic = probeStatistic(probe, suspect.ask(probe.inputs));
    o.suspect_queries = suspect.queries - before;
    for (ForensicModel& m : null) {
      reportForensicStep(progress, name + ": asking the null", ++done, total);
      o.null_statistics.push_back(probeStatistic(probe, m.ask(probe.inputs)));
    }
    ++done;
    o.p = rankPValue(o.statistic, o.null_statistics, probe.closeness);
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace distillery
