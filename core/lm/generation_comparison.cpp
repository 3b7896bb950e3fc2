#include "core/lm/generation_comparison.h"

#include "core/base/errors.h"
#include "core/lm/gpt_model.h"
#include "core/lm/lm_generation.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "core/lm/text_vocabulary.h"

namespace distillery {

std::string GeneratedText::text() const {
  std::string s;
  for (const auto& p : pieces) s += p.text;
  return s;
}

struct LmRunGenerator::Impl {
  TextVocabulary vocab;
  Gpt student{nullptr}, teacher{nullptr};
  std::string student_label, teacher_label;
};

namespace {

struct LoadedModel {
  Gpt model{nullptr};
  std::string label;
  TextVocabulary vocab;
};

LoadedModel loadModel(RunStore& store, int64_t id) {
  const std::string which = "run " + std::to_string(id);
  auto record = store.run(id);
  if (!record) throw ConfigError("run", which + " does not exist in the store");
  if (record->task != "lm") throw ConfigError("run", which + " is not a language-model run (task \"" + record->task + "\")");
  if (record->status != RunStatus::Finished)
    throw ConfigError("run", which + " is " + toString(record->status) + "; only a finished run has a model");
  auto vocab = store.loadArtifact(id, "vocab.json");
  auto bytes = store.loadArtifact(id, "model.pt");
  if (!vocab || !bytes) throw ConfigError("run", which + " has no saved model and vocabulary");
  LoadedModel m;
  m.vocab = TextVocabulary::fromJson(nlohmann::json::parse(*vocab, nullptr, false), which + " vocab.json");
  const RunConfig config = RunConfig::fromJsonText(record->config_json);
  m.model = buildGpt(config.lm.student, m.vocab.size(), 0);
  loadGptBytes(m.model, *bytes);
  m.model->eval();
  m.label = "run #" + std::to_string(id) + " " + describe(config.lm.student);
  return m;
}

// Marks each generated token of sequence by the other model's view of it, and
// merges byte tokens into whole UTF-8 characters for display.
GeneratedText markTokens(const TextVocabulary& vocab, const torch::Tensor& sequence, int64_t prompt_length,
                         Gpt other) {
  GeneratedText out;
  const int64_t L = sequence.size(1);
  torch::Tensor probs, top;
  if (other) {
    auto logits = scoreTokens(other, sequence, torch::kCPU)[0]; // [L, V]
    probs = torch::softmax(logits.to(torch::kDouble), -1);
    top = logits.argmax(-1);
  }
  int64_t agreeing = 0;
  GeneratedPiece pending;
  int pending_bytes = 0, expected_bytes = 0;
  for (int64_t i = prompt_length; i < L; ++i) {
    const int64_t token = sequence[0][i].item<int64_t>();
    bool agrees = false;
    double p = 0.0;
    if (other) {
      agrees = top[i - 1].item<int64_t>() == token;
      p = probs[i - 1][token].item<double>();
      agreeing += agrees;
    }
    const std::string text = vocab.tokenText(token);
    if (vocab.kind() == "byte") {
      const unsigned char b = static_cast<unsigned char>(text[0]);
      if (pending_bytes == 0) {
        expected_bytes = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
        pending = GeneratedPiece{"", true, 1.0};
      }
      pending.text += text;
      pending.agrees = pending.agrees && agrees;
      pending.other_probability = std::min(pending.other_probability, p);
      if (++pending_bytes >= expected_bytes) {
        out.pieces.push_back(pending);
        pending_bytes = 0;
      }
    } else {
      out.pieces.push_back(GeneratedPiece{text, agrees, p});
    }
  }
  if (pending_bytes > 0) out.pieces.push_back(pending);
  if (other && L > prompt_length) out.agreement = double(agreeing) / double(L - prompt_length);
  return out;
}

} // namespace

LmRunGenerator::LmRunGenerator(RunStore& store, int64_t run_id) : impl_(std::make_unique<Impl>()) {
  LoadedModel student = loadModel(store, run_id);
  impl_->vocab = student.vocab;
  impl_->student = student.model;
  impl_->student_label = student.label;
  const auto record = store.run(run_id);
  if (record->teacher_run_id > 0) {
    LoadedModel teacher = loadModel(store, record->teacher_run_id);
    const std::string mismatch = vocabularyMismatch(teacher.vocab, student.vocab);
    if (!mismatch.empty()) throw ConfigError("teacher", "run " + std::to_string(record->teacher_run_id) + ": " + mismatch);
    impl_->teacher = teacher.model;
    impl_->teacher_label = teacher.label;
  }
}

LmRunGenerator::~LmRunGenerator() = default;

bool LmRunGenerator::hasTeacher() const { return bool(impl_->teacher); }
std::string LmRunGenerator::studentLabel() const { return impl_->student_label; }
std::string LmRunGenerator::teacherLabel() const { return impl_->teacher_label; }
std::string LmRunGenerator::vocabularyLabel() const { return impl_->vocab.describe(); }

std::vector<std::string> LmRunGenerator::defaultPrompts() {
  return {"The ", "A man who ", "Love is ", "\"I think"};
}

std::vector<GenerationPair> LmRunGenerator::generate(const GenerationRequest& request) const {
  torch::NoGradGuard no_grad;
  std::vector<GenerationPair> out;
  for (size_t i = 0; i < request.prompts.size(); ++i) {
    const std::string where = "prompt " + std::to_string(i + 1);
    std::string text = request.prompts[i];
    if (text.empty()) text = "\n";
    const std::vector<int64_t> ids = impl_->vocab.encode(text, where);
    auto prompt = torch::tensor(ids, torch::kLong).unsqueeze(0);
    GenerationPair pair;
    pair.prompt = request.prompts[i];
    auto run = [&](Gpt writer, Gpt other) {
      auto gen = seededGenerator(request.seed + i);
      auto sequence = generateTokens(writer, prompt, request.new_tokens, request.temperature, gen, torch::kCPU);
      return markTokens(impl_->vocab, sequence, prompt.size(1), other);
    };
    pair.student = run(impl_->student, impl_->teacher);
    if (impl_->teacher) pair.teacher = run(impl_->teacher, impl_->student);
    out.push_back(std::move(pair));
  }
  return out;
}

} // namespace distillery
