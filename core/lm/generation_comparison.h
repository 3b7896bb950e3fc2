#pragma once
// Side-by-side generations of a finished language-model run and its teacher,
// for the same prompts, temperature and seed, with each generated token marked
// by whether the other model's most likely next token is the same. No LibTorch
// in this header: the GUI view and the CLI use it as is.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace distillery {

class RunStore;

// One shown character (char level) or one whole UTF-8 character of byte tokens.
struct GeneratedPiece {
  std::string text;
  bool agrees = false;             // the other model's top-1 on the same prefix is this token
  double other_probability = 0.0;  // the other model's probability of this token
};

struct GeneratedText {
  std::vector<GeneratedPiece> pieces; // the generated part only
  double agreement = -1.0;            // share of generated tokens that agree (-1: no other model)
  std::string text() const;
};

struct GenerationPair {
  std::string prompt;
  GeneratedText teacher; // empty when the run has no teacher
  GeneratedText student;
};

struct GenerationRequest {
  std::vector<std::string> prompts;
  int64_t new_tokens = 120;
  double temperature = 0.8; // 0: the most likely token each time
  uint64_t seed = 0;        // prompt i samples from seed + i, the same for both models
};

class LmRunGenerator {
public:
  // Loads the run's model and vocabulary and, when it has one, its teacher's
  // model. Throws ConfigError / DataError naming the run when it is not a
  // finished language-model run or its artifacts are missing.
  LmRunGenerator(RunStore& store, int64_t run_id);
  ~LmRunGenerator();
  LmRunGenerator(const LmRunGenerator&) = delete;
  LmRunGenerator& operator=(const LmRunGenerator&) = delete;

  bool hasTeacher() const;
  std::string studentLabel() const; // "run #12 gpt L2 H2 d64 ctx64"
  std::string teacherLabel() const;
  std::string vocabularyLabel() const;
  // Plain English prompts for a view's first use.
  static std::vector<std::string> defaultPrompts();

  // Throws DataError naming the prompt when it holds a character the vocabulary lacks.
  std::vector<GenerationPair> generate(const GenerationRequest& request) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace distillery
