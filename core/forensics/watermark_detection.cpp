#include "core/forensics/watermark_detection.h"

#include "core/base/errors.h"
#include "core/config/run_config.h"
#include "core/lm/gpt_model.h"
#include "core/lm/lm_generation.h"
#include "core/lm/text_corpus.h"
#include "core/lm/text_vocabulary.h"
#include "core/store/run_store.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace distillery {

namespace {

struct Suspect {
  RunConfig config;
  TextVocabulary vocab;
  Gpt model{nullptr};
  std::string label;
};

Suspect loadSuspect(RunStore& store, int64_t id, bool with_model) {
  const std::string which = "run " + std::to_string(id);
  auto record = store.run(id);
  if (!record) throw ConfigError("--suspect", which + " does not exist in " + store.path());
  if (record->task != "lm")
    throw ConfigError("--suspect", which + " is not a language-model run (task \"" + record->task + "\")");
  if (record->status != RunStatus::Finished)
    throw ConfigError("--suspect", which + " is " + toString(record->status) + "; only a finished run has a model");
  auto vocab = store.loadArtifact(id, "vocab.json");
  if (!vocab) throw ConfigError("--suspect", which + " has no saved vocabulary");
  Suspect s;
  s.vocab = TextVocabulary::fromJson(nlohmann::json::parse(*vocab, nullptr, false), which + " vocab.json");
  s.config = RunConfig::fromJsonText(record->config_json);
  s.label = "run #" + std::to_string(id) + " " + describe(s.config.lm.student);
  if (!with_model) return s;
  auto bytes = store.loadArtifact(id, "model.pt");
  if (!bytes) throw ConfigError("--suspect", which + " has no saved model");
  s.model = buildGpt(s.config.lm.student, s.vocab.size(), 0);
  loadGptBytes(s.model, *bytes);
  s.model->eval();
  return s;
}

void checkRequest(const WatermarkTestRequest& r, int64_t vocab_size) {
  if (r.samples < 1) throw ConfigError("--samples", "expected at least 1");
  if (r.length <= r.params.context)
    throw ConfigError("--length", "is " + std::to_string(r.length) + "; it must exceed --context (" +
                                      std::to_string(r.params.context) + ") to leave tokens to score");
  if (!(r.temperature > 0.0)) throw ConfigError("--temperature", "expected a positive temperature");
  GreenList check(r.params, vocab_size, "--gamma/--context"); // names the option when gamma leaves no red token
}

// The p-value of the pairs one sample added to all: samples then score
// disjoint pairs, so their p-values are independent (a pair such as
// ("the", " ") in every sample would otherwise push them all the same way).
double newPairsPValue(const WatermarkScore& before, const WatermarkScore& after) {
  return std::exp(binomialSurvivalLog(after.green - before.green, after.scored - before.scored, after.gamma));
}

// Scores all samples together, and each by the pairs it adds.
void scoreSamples(const GreenList& greens, const std::vector<std::vector<int64_t>>& samples, WatermarkTestResult& out) {
  WatermarkDetector all(greens);
  for (const auto& s : samples) {
    const WatermarkScore before = all.score();
    all.addText(s);
    const WatermarkScore after = all.score();
    if (after.scored > before.scored) out.sample_p_values.push_back(newPairsPValue(before, after));
    out.tokens += int64_t(s.size());
  }
  out.score = all.score();
  if (!out.sample_p_values.empty()) out.sample_ks = ksTestUniform(out.sample_p_values);
}

std::vector<int64_t> row(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

} // namespace

WatermarkTestResult watermarkTestRun(RunStore& store, int64_t run_id, const WatermarkTestRequest& request) {
  Suspect s = loadSuspect(store, run_id, true);
  checkRequest(request, s.vocab.size());
  const GreenList greens(request.params, s.vocab.size(), "--gamma/--context");
  const TextCorpus corpus = loadTextCorpus(s.config.lm.corpus);
  if (corpus.vocab != s.vocab)
    throw DataError(corpus.path, "its vocabulary is no longer the one run " + std::to_string(run_id) + " was trained with");
  WatermarkTestResult out;
  out.suspect = s.label;
  const torch::Tensor& text = corpus.val.numel() > request.length + 1 ? corpus.val : corpus.train;
  auto gen = seededGenerator(request.seed);
  std::vector<std::vector<int64_t>> samples;
  if (!request.open_weights) {
    // Text mode: prompts of h tokens from the validation split, then the suspect writes.
    out.mode = "text";
    const int64_t prompt = request.params.context;
    auto starts = torch::randint(text.numel() - prompt, {request.samples}, gen, torch::kLong);
    // Batches of rows: each row samples on its own, the batch only saves passes.
    constexpr int64_t kRows = 64;
    for (int64_t first = 0; first < request.samples; first += kRows) {
      const int64_t rows = std::min(kRows, request.samples - first);
      auto prompts = torch::empty({rows, prompt}, torch::kLong);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t at = starts[first + i].item<int64_t>();
        prompts[i] = text.slice(0, at, at + prompt);
      }
      auto written = generateTokens(s.model, prompts, request.length, request.temperature, gen, torch::kCPU);
      for (int64_t i = 0; i < rows; ++i) samples.push_back(row(written[i])); // the prompt seeds the first window only
    }
    scoreSamples(greens, samples, out);
    out.tokens -= request.samples * prompt;
    return out;
  }
  // Open weights: the suspect's top-1 prediction after each position of fixed
  // text windows, scored under the green list of the text's last h tokens.
  out.mode = "open-weights";
  const int64_t h = request.params.context;
  auto starts = torch::randint(text.numel() - request.length, {request.samples}, gen, torch::kLong);
  WatermarkDetector all(greens);
  constexpr int64_t kRows = 64;
  for (int64_t first = 0; first < request.samples; first += kRows) {
    const int64_t rows = std::min(kRows, request.samples - first);
    auto windows = torch::empty({rows, request.length}, torch::kLong);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t at = starts[first + i].item<int64_t>();
      windows[i] = text.slice(0, at, at + request.length);
    }
    auto top = scoreTokens(s.model, windows, torch::kCPU).argmax(-1); // [rows, L]: the prediction for t + 1
    for (int64_t i = 0; i < rows; ++i) {
      const auto tokens = row(windows[i]);
      const auto predicted = row(top[i]);
      const WatermarkScore before = all.score();
      for (int64_t t = h - 1; t < request.length; ++t)
        all.addPrediction(tokens.data() + (t - h + 1), predicted[size_t(t)]);
      const WatermarkScore after = all.score();
      if (after.scored > before.scored) out.sample_p_values.push_back(newPairsPValue(before, after));
      out.tokens += request.length;
    }
  }
  out.score = all.score();
  if (!out.sample_p_values.empty()) out.sample_ks = ksTestUniform(out.sample_p_values);
  return out;
}

WatermarkTestResult watermarkTestFile(RunStore& store, int64_t vocab_run, const std::string& path,
                                      const WatermarkTestRequest& request) {
  Suspect s = loadSuspect(store, vocab_run, false);
  checkRequest(request, s.vocab.size());
  const GreenList greens(request.params, s.vocab.size(), "--gamma/--context");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  WatermarkTestResult out;
  out.mode = "file";
  out.suspect = path;
  std::vector<int64_t> ids;
  if (s.vocab.kind() == "byte") {
    ids = s.vocab.encode(bytes, path);
  } else {
    std::u32string points;
    if (!decodeUtf8(bytes, points)) throw DataError(path, "is not valid UTF-8 text");
    std::map<std::string, int64_t> known;
    for (int64_t id = 0; id < s.vocab.size(); ++id) known[s.vocab.tokenText(id)] = id;
    for (char32_t cp : points) {
      auto it = known.find(encodeUtf8(cp));
      if (it == known.end()) ++out.dropped_characters;
      else ids.push_back(it->second);
    }
  }
  if (int64_t(ids.size()) <= request.params.context)
    throw DataError(path, "holds " + std::to_string(ids.size()) + " known tokens; more than --context are needed");
  std::vector<std::vector<int64_t>> samples;
  for (size_t at = 0; at < ids.size(); at += size_t(request.length)) {
    const size_t end = std::min(ids.size(), at + size_t(request.length));
    if (end - at <= size_t(request.params.context)) break;
    samples.emplace_back(ids.begin() + long(at), ids.begin() + long(end));
  }
  scoreSamples(greens, samples, out);
  return out;
}

} // namespace distillery
