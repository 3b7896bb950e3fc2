#include "core/serve/output_modes.h"

#include "core/base/errors.h"
#include "core/config/config_reader.h"
#include "core/serve/output_defenses.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace distillery {

const std::vector<OutputProcessorInfo>& outputProcessors() {
  using K = OutputProcessorInfo::Kind;
  static const std::vector<OutputProcessorInfo> list = {
      {"probs", K::Mode, "the full distribution over the classes, and the argmax", {}},
      {"topk", K::Mode, "the k most probable classes with their probabilities, most probable first",
       {{"k", "integer", 1, 1e6, 5, "how many classes (at most the number of classes)"}}},
      {"rounded", K::Mode, "the full distribution rounded to a number of decimals, and the argmax",
       {{"decimals", "integer", 0, 9, 2, "decimal places kept"}}},
      {"label", K::Mode, "only the argmax class", {}},
      {"gaussian_noise", K::Transform, "adds seeded Gaussian noise to each probability, clips at 0, renormalises",
       {{"scale", "number", 1e-12, 100, 0, "standard deviation of the noise (required)"},
        {"seed", "integer", 0, 4.6e18, 0, "noise seed (default: drawn at start; never reported)"}}},
      {"reverse_sigmoid", K::Transform, "subtracts beta * (sigmoid(gamma * logit(p)) - 1/2), clips to [0, 1], renormalises",
       {{"beta", "number", 1e-12, 1e6, 0, "magnitude of the perturbation (required)"},
        {"gamma", "number", 1e-12, 1e6, 0, "convergence (steepness) of the sigmoid (required)"}}},
      {"adaptive_misinformation", K::Transform,
       "blends in a misinformation distribution when the top probability is under tau",
       {{"tau", "number", 0, 1, 0, "threshold on the top probability (required)"},
        {"nu", "number", 1e-12, 1e9, 1000, "steepness of the switch around tau"}}},
      {"mad", K::Transform,
       "moves each answer, within an L1 budget, toward the class whose surrogate gradient deviates most (on the model's side, first)",
       {{"epsilon", "number", 1e-12, 2, 0, "L1 budget of the perturbation (required)"},
        {"seed", "integer", 0, 4.6e18, 0, "seed of the surrogate's initial weights (\"surrogate\": a zoo model, required)"}}},
  };
  return list;
}

namespace {

// The first index of the largest value: ties go to the lower class, as torch.argmax does on CPU.
int64_t argmax(const double* p, int64_t n) { return int64_t(std::max_element(p, p + n) - p); }

double roundTo(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

} // namespace

nlohmann::json OutputPipeline::apply(ProbBatch batch) const {
  for (const auto& t : transforms) batch = t(std::move(batch));
  nlohmann::json out = nlohmann::json::array();
  for (int64_t r = 0; r < batch.rows; ++r) out.push_back(render(batch, r));
  return out;
}

OutputPipeline buildOutputPipeline(const nlohmann::json& output, int64_t classes, const std::string& path) {
  const nlohmann::json empty = nlohmann::json::object();
  ConfigReader reader(output.is_null() ? empty : output, path);
  const std::string mode = reader.oneOf("mode", "probs", {"probs", "topk", "rounded", "label"});
  OutputPipeline pipe;
  pipe.mode = mode;
  pipe.parameters = {{"mode", mode}};
  if (reader.has("transforms")) {
    reader.accept("transforms");
    const auto& list = output["transforms"];
    if (!list.is_array())
      throw ConfigError(reader.field("transforms"), "expected a list of defenses: [{\"name\": ..., parameters...}]");
    nlohmann::json reported = nlohmann::json::array();
    bool probability_defense_seen = false;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = reader.field("transforms") + "[" + std::to_string(i) + "]";
      nlohmann::json one;
      ProbTransform t = buildDefense(list[i], at, one);
      // mad runs in the engine, right after the model and before every transform here.
      if (one["name"] == "mad") {
        if (probability_defense_seen)
          throw ConfigError(at + ".name", "mad runs on the model's side, before the probability defenses: list it first");
      } else {
        probability_defense_seen = true;
        pipe.transforms.push_back(std::move(t));
      }
      reported.push_back(std::move(one));
    }
    // Reported only when there are any, so an undefended server's "output" is the mode alone.
    if (!reported.empty()) pipe.parameters["transforms"] = reported;
  }
  if (mode == "probs") {
    pipe.render = [](const ProbBatch& b, int64_t r) {
      const double* p = b.row(r);
      return nlohmann::json{{"label", argmax(p, b.classes)}, {"probs", std::vector<double>(p, p + b.classes)}};
    };
  } else if (mode == "topk") {
    const int64_t k = reader.integer("k", std::min<int64_t>(5, classes), 1, classes);
    pipe.parameters["k"] = k;
    pipe.render = [k](const ProbBatch& b, int64_t r) {
      const double* p = b.row(r);
      std::vector<int64_t> order(size_t(b.classes));
      std::iota(order.begin(), order.end(), 0);
      // Stable: equal probabilities keep class order, as torch.topk's reference does with sorted ties.
      std::stable_sort(order.begin(), order.end(), [p](int64_t a, int64_t c) { return p[a] > p[c]; });
      order.resize(size_t(k));
      std::vector<double> probs;
      for (int64_t c : order) probs.push_back(p[c]);
      return nlohmann::json{{"label", order.front()}, {"classes", order}, {"probs", probs}};
    };
  } else if (mode == "rounded") {
    const int decimals = int(reader.integer("decimals", 2, 0, 9));
    pipe.parameters["decimals"] = decimals;
    pipe.render = [decimals](const ProbBatch& b, int64_t r) {
      const double* p = b.row(r);
      std::vector<double> probs;
      for (int64_t c = 0; c < b.classes; ++c) probs.push_back(roundTo(p[c], decimals));
      return nlohmann::json{{"label", argmax(p, b.classes)}, {"probs", probs}};
    };
  } else {
    pipe.render = [](const ProbBatch& b, int64_t r) { return nlohmann::json{{"label", argmax(b.row(r), b.classes)}}; };
  }
  reader.finish();
  return pipe;
}

} // namespace distillery
