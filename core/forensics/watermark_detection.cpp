#include "core/forensics/watermark_detection.h"

#include "core/base/errors.h"
#include "core/base/splitmix64.h"
#include "core/config/run_config.h"
#include "core/lm/gpt_model.h"
#include "core/lm/lm_generation.h"
#include "core/lm/text_corpus.h"
#include "core/lm/text_vocabulary.h"
#include "core/store/run_store.h"

#include <algorithm>
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

Suspect loadSuspect(RunStore& store, int64_t id, bool with_model, const std::string& option = "--suspect") {
  const std::string which = "run " + std::to_string(id);
  auto record = store.run(id);
  if (!record) throw ConfigError(option, which + " does not exist in " + store.path());
  if (record->task != "lm")
    throw ConfigError(option, which + " is not a language-model run (task \"" + record->task + "\")");
  if (record->status != RunStatus::Finished)
    throw ConfigError(option, which + " is " + toString(record->status) + "; only a finished run has a model");
  auto vocab = store.loadArtifact(id, "vocab.json");
  if (!vocab) throw ConfigError(option, which + " has no saved vocabulary");
  Suspect s;
  s.vocab = TextVocabulary::fromJson(nlohmann::json::parse(*vocab, nullptr, false), which + " vocab.json");
  s.config = RunConfig::fromJsonText(record->config_json);
  s.label = "run #" + std::to_string(id) + " " + describe(s.config.lm.student);
  if (!with_model) return s;
  auto bytes = store.loadArtifact(id, "model.pt");
  if (!bytes) throw ConfigError(option, which + " has no saved model");
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
  if (r.statistic != "top1" && r.statistic != "mass")
    throw ConfigError("--statistic", "is \"" + r.statistic + "\"; expected top1 or mass");
  if (r.reference_run != 0 && r.statistic != "mass")
    throw ConfigError("--reference", "needs --statistic mass (a top-1 count has no reference)");
  if (r.reading != "corpus" && r.reading != "heldout" && r.reading != "samples")
    throw ConfigError("--reading", "is \"" + r.reading + "\"; expected corpus, heldout or samples");
  GreenList check(r.params, vocab_size, "--gamma/--context"); // names the option when gamma leaves no red token
}

// The p-value of the pairs one sample added to all: samples then score
// disjoint pairs, so their p-values are independent (a pair such as
// ("the", " ") in every sample would otherwise push them all the same way).
// It is randomized within the observed count, P(X > x) + u P(X = x) with u
// uniform from `noise`, which is exactly U(0, 1) without the watermark: a
// sample that adds only a few new pairs would otherwise give a very discrete
// P(X >= x), often 1, and fail the KS check of calibration in the conservative
// direction. These p-values only serve that check; the pooled test of all
// pairs stays the exact P(X >= x).
double newPairsPValue(const WatermarkScore& before, const WatermarkScore& after, uint64_t& noise) {
  const int64_t green = after.green - before.green, scored = after.scored - before.scored;
  const double at_least = std::exp(binomialSurvivalLog(green, scored, after.gamma));
  const double above = green >= scored ? 0.0 : std::exp(binomialSurvivalLog(green + 1, scored, after.gamma));
  const double u = (double(nextSplitMix64(noise) >> 11) + 0.5) * 0x1.0p-53;
  return std::min(1.0, above + u * std::max(0.0, at_least - above));
}

// Scores all samples together, and each by the pairs it adds.
void scoreSamples(const GreenList& greens, const std::vector<std::vector<int64_t>>& samples, uint64_t seed,
                  WatermarkTestResult& out) {
  uint64_t noise = splitMix64(seed);
  WatermarkDetector all(greens);
  for (const auto& s : samples) {
    const WatermarkScore before = all.score();
    all.addText(s);
    const WatermarkScore after = all.score();
    if (after.scored > before.scored) out.sample_p_values.push_back(newPairsPValue(before, after, noise));
    out.tokens += int64_t(s.size());
  }
  out.score = all.score();
  if (!out.sample_p_values.empty()) out.sample_ks = ksTestUniform(out.sample_p_values);
}

std::vector<int64_t> row(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// The suspect's samples: prompts of h tokens from text, then the suspect
// writes length tokens; each row holds its prompt (it seeds the first window only).
std::vector<std::vector<int64_t>> suspectSamples(Gpt model, const torch::Tensor& text, const WatermarkTestRequest& request,
                                                 at::Generator& gen) {
  const int64_t prompt = request.params.context;
  auto starts = torch::randint(text.numel() - prompt, {request.samples}, gen, torch::kLong);
  std::vector<std::vector<int64_t>> samples;
  // Batches of rows: each row samples on its own, the batch only saves passes.
  constexpr int64_t kRows = 64;
  for (int64_t first = 0; first < request.samples; first += kRows) {
    const int64_t rows = std::min(kRows, request.samples - first);
    auto prompts = torch::empty({rows, prompt}, torch::kLong);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t at = starts[first + i].item<int64_t>();
      prompts[i] = text.slice(0, at, at + prompt);
    }
    auto written = generateTokens(model, prompts, request.length, request.temperature, gen, torch::kCPU);
    for (int64_t i = 0; i < rows; ++i) samples.push_back(row(written[i]));
  }
  return samples;
}

// The whole held-out split once, in consecutive windows of length tokens (a
// shorter tail is left out): a reading whose size the corpus fixes, not the
// analyst, with no position read twice.
std::vector<std::vector<int64_t>> heldoutWindows(const torch::Tensor& text, const WatermarkTestRequest& request) {
  std::vector<std::vector<int64_t>> windows;
  for (int64_t at = 0; at + request.length <= text.numel(); at += request.length)
    windows.push_back(row(text.slice(0, at, at + request.length)));
  return windows;
}

// Held-out windows of length tokens from text, at seeded random starts.
std::vector<std::vector<int64_t>> corpusWindows(const torch::Tensor& text, const WatermarkTestRequest& request,
                                                at::Generator& gen) {
  auto starts = torch::randint(text.numel() - request.length, {request.samples}, gen, torch::kLong);
  std::vector<std::vector<int64_t>> windows;
  for (int64_t i = 0; i < request.samples; ++i) {
    const int64_t at = starts[i].item<int64_t>();
    windows.push_back(row(text.slice(0, at, at + request.length)));
  }
  return windows;
}

// The model's next-token distributions along every row of sequences (all of
// one length): [rows, L, V] doubles, position t's for token t + 1.
torch::Tensor nextTokenProbabilities(Gpt model, const std::vector<std::vector<int64_t>>& sequences, size_t first,
                                     size_t rows) {
  const int64_t L = int64_t(sequences[first].size());
  auto batch = torch::empty({int64_t(rows), L}, torch::kLong);
  for (size_t i = 0; i < rows; ++i) batch[int64_t(i)] = torch::tensor(sequences[first + i], torch::kLong);
  return torch::softmax(scoreTokens(model, batch, torch::kCPU).to(torch::kDouble), -1).contiguous();
}

// Open weights, top1: the suspect reads each sequence; its most likely token
// after position t is scored under the green list of tokens t - h + 1 .. t as
// a (window, token) pair, binomial.
void scoreTopOne(Gpt model, const GreenList& greens, const std::vector<std::vector<int64_t>>& sequences, uint64_t seed,
                 WatermarkTestResult& out) {
  uint64_t noise = splitMix64(seed);
  const int64_t h = greens.params().context;
  WatermarkDetector pairs(greens);
  constexpr size_t kRows = 64;
  for (size_t first = 0; first < sequences.size(); first += kRows) {
    const size_t rows = std::min(kRows, sequences.size() - first);
    const auto top = nextTokenProbabilities(model, sequences, first, rows).argmax(-1);
    for (size_t i = 0; i < rows; ++i) {
      const auto& tokens = sequences[first + i];
      const auto predicted = row(top[int64_t(i)]);
      const WatermarkScore before = pairs.score();
      for (int64_t t = h - 1; t < int64_t(tokens.size()); ++t)
        pairs.addPrediction(tokens.data() + (t - h + 1), predicted[size_t(t)]);
      const WatermarkScore after = pairs.score();
      if (after.scored > before.scored) out.sample_p_values.push_back(newPairsPValue(before, after, noise));
      out.tokens += int64_t(tokens.size());
    }
  }
  out.score = pairs.score();
}

// Open weights, mass: for each distinct window, the suspect's next-token
// distribution averaged over the window's n occurrences (minus the reference
// model's, when there is one), scored on the window's green list with weight
// sqrt(n). Neither the average, the reference nor n depends on the key, so the
// null of green_weight_test.h holds; a window the suspect saw often in
// training is where it learned a green preference, and occurs often in text
// like its training text. Samples own the windows they hold first: disjoint,
// so their p-values are independent.
void scoreMass(Gpt model, Gpt reference, const GreenList& greens, const std::vector<std::vector<int64_t>>& sequences,
               WatermarkTestResult& out) {
  const int64_t h = greens.params().context, V = greens.vocabSize();
  struct Window {
    std::vector<double> sum;
    int64_t count = 0;
    size_t sample = 0; // the first sample that holds it
  };
  std::map<std::vector<int64_t>, Window> windows;
  std::vector<std::vector<std::vector<int64_t>>> owned(sequences.size()); // each sample's new windows, in order
  constexpr size_t kRows = 64;
  for (size_t first = 0; first < sequences.size(); first += kRows) {
    const size_t rows = std::min(kRows, sequences.size() - first);
    auto probs = nextTokenProbabilities(model, sequences, first, rows);
    if (reference) probs = (probs - nextTokenProbabilities(reference, sequences, first, rows)).contiguous();
    for (size_t i = 0; i < rows; ++i) {
      const auto& tokens = sequences[first + i];
      const double* p = probs[int64_t(i)].data_ptr<double>();
      for (int64_t t = h - 1; t < int64_t(tokens.size()); ++t) {
        std::vector<int64_t> key(tokens.begin() + (t - h + 1), tokens.begin() + (t + 1));
        auto [it, fresh] = windows.try_emplace(key);
        Window& w = it->second;
        if (fresh) {
          w.sum.assign(size_t(V), 0.0);
          w.sample = first + i;
          owned[first + i].push_back(std::move(key));
        }
        for (int64_t v = 0; v < V; ++v) w.sum[size_t(v)] += p[t * V + v];
        ++w.count;
      }
      out.tokens += int64_t(tokens.size());
    }
  }
  GreenWeightDetector detector(greens);
  std::vector<double> mean(static_cast<size_t>(V), 0.0);
  for (const auto& sample : owned) {
    if (sample.empty()) continue;
    const GreenWeightScore before = detector.score();
    for (const auto& key : sample) {
      const Window& w = windows.at(key);
      for (int64_t v = 0; v < V; ++v) mean[size_t(v)] = w.sum[size_t(v)] / double(w.count);
      detector.add(key.data(), mean.data(), std::sqrt(double(w.count)));
    }
    out.sample_p_values.push_back(detector.score().since(before).p_value);
  }
  out.weight_score = detector.score();
  out.weight_score.repeated = out.tokens - int64_t(sequences.size()) * (h - 1) - out.weight_score.windows;
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
  if (!request.open_weights) {
    // Text mode: the suspect's samples, (window, token) pairs, binomial.
    out.mode = "text";
    out.statistic = "tokens";
    scoreSamples(greens, suspectSamples(s.model, text, request, gen), request.seed, out);
    out.tokens -= request.samples * request.params.context;
    return out;
  }
  out.mode = "open-weights";
  out.statistic = request.statistic;
  if (request.reading == "heldout" && corpus.val.numel() < request.length)
    throw ConfigError("--reading", "heldout needs a held-out split of at least --length (" + std::to_string(request.length) +
                                       ") tokens; " + corpus.path + " holds " + std::to_string(corpus.val.numel()));
  const auto sequences = request.reading == "samples" ? suspectSamples(s.model, text, request, gen)
                         : request.reading == "heldout" ? heldoutWindows(corpus.val, request)
                                                        : corpusWindows(text, request, gen);
  if (request.statistic == "mass") {
    Gpt reference{nullptr};
    if (request.reference_run != 0) {
      Suspect r = loadSuspect(store, request.reference_run, true, "--reference");
      if (r.vocab != s.vocab)
        throw ConfigError("--reference", "run " + std::to_string(request.reference_run) +
                                             " has another vocabulary than the suspect's");
      reference = r.model;
      out.reference = r.label;
    }
    scoreMass(s.model, reference, greens, sequences, out);
  } else {
    scoreTopOne(s.model, greens, sequences, request.seed, out);
  }
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
  out.statistic = "tokens";
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
  scoreSamples(greens, samples, request.seed, out);
  return out;
}

} // namespace distillery
