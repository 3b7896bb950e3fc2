#pragma once
// The tokeniser of a language-model run: byte level (256 tokens, any text) or
// char level (one token per Unicode code point seen in the corpus, in code
// point order). Stored with the run as the artifact "vocab.json", so a teacher
// and a student can be checked to speak the same language.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace distillery {

class TextVocabulary {
public:
  TextVocabulary() = default;
  static TextVocabulary bytes();
  // Every code point in text, sorted. text must be valid UTF-8.
  static TextVocabulary charsOf(const std::u32string& text);
  // Reads vocab.json; where names the source (e.g. "run 12 vocab.json") in errors.
  static TextVocabulary fromJson(const nlohmann::json& json, const std::string& where);
  nlohmann::json toJson() const;

  const std::string& kind() const { return kind_; } // "byte" | "char"
  int64_t size() const;
  // "char, 97 symbols" / "byte, 256 symbols"
  std::string describe() const;

  // Throws DataError(where, ...) naming a character the vocabulary lacks.
  std::vector<int64_t> encode(const std::string& utf8, const std::string& where) const;
  std::vector<int64_t> encodeCodePoints(const std::u32string& text) const; // char level; every code point known
  // Concatenated token texts; byte tokens can split a character, and an incomplete
  // UTF-8 sequence decodes to U+FFFD where the text is shown.
  std::string decode(const std::vector<int64_t>& ids) const;
  std::string tokenText(int64_t id) const;

  bool operator==(const TextVocabulary& other) const { return kind_ == other.kind_ && symbols_ == other.symbols_; }
  bool operator!=(const TextVocabulary& other) const { return !(*this == other); }

private:
  std::string kind_ = "byte";
  std::vector<char32_t> symbols_; // char level only
  std::unordered_map<char32_t, int64_t> index_;
};

// "" when the teacher's vocabulary equals this run's; else a sentence naming the
// difference (kind, size, characters only one side has), for the run's error.
std::string vocabularyMismatch(const TextVocabulary& teacher, const TextVocabulary& run);

// UTF-8 <-> code points. decodeUtf8 returns false for invalid input (overlong
// forms, surrogates, truncated sequences).
bool decodeUtf8(const std::string& bytes, std::u32string& out);
std::string encodeUtf8(char32_t code_point);
// A readable form of one character for messages: 'a', '\n', U+00E9 'é'.
std::string quoteChar(char32_t code_point);

} // namespace distillery
