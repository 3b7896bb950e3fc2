#include "core/lm/text_vocabulary.h"

#include "core/base/errors.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace distillery {

bool decodeUtf8(const std::string& bytes, std::u32string& out) {
  out.clear();
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = 0;
    char32_t cp = 0, min = 0;
    if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F, min = 0x80;
    else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F, min = 0x800;
    else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07, min = 0x10000;
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.push_back(cp);
    i += len;
  }
  return true;
}

std::string encodeUtf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string quoteChar(char32_t cp) {
  switch (cp) {
  case '\n': return "'\\n'";
  case '\t': return "'\\t'";
  case '\r': return "'\\r'";
  default: break;
  }
  if (cp >= 0x20 && cp < 0x7F) return "'" + encodeUtf8(cp) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", unsigned(cp));
  return std::string(buf) + (cp >= 0xA0 ? " '" + encodeUtf8(cp) + "'" : "");
}

TextVocabulary TextVocabulary::bytes() { return TextVocabulary(); }

TextVocabulary TextVocabulary::charsOf(const std::u32string& text) {
  std::vector<bool> ascii(128, false);
  std::set<char32_t> other;
  for (char32_t c : text) {
    if (c < 128) ascii[c] = true;
    else other.insert(c);
  }
  TextVocabulary v;
  v.kind_ = "char";
  for (char32_t c = 0; c < 128; ++c)
    if (ascii[c]) v.symbols_.push_back(c);
  v.symbols_.insert(v.symbols_.end(), other.begin(), other.end());
  for (size_t i = 0; i < v.symbols_.size(); ++i) v.index_[v.symbols_[i]] = int64_t(i);
  return v;
}

TextVocabulary TextVocabulary::fromJson(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object() || !json.contains("kind") || !json["kind"].is_string())
    throw DataError(where, "not a vocabulary: expected {\"kind\": \"byte\" | \"char\", ...}");
  const std::string kind = json["kind"].get<std::string>();
  if (kind == "byte") return bytes();
  if (kind != "char") throw DataError(where, "unknown vocabulary kind \"" + kind + "\"; expected byte or char");
  if (!json.contains("symbols") || !json["symbols"].is_array())
    throw DataError(where, "a char vocabulary needs \"symbols\": the list of code points");
  TextVocabulary v;
  v.kind_ = "char";
  for (const auto& s : json["symbols"]) {
    if (!s.is_number_unsigned() || s.get<uint64_t>() > 0x10FFFF)
      throw DataError(where, "\"symbols\" holds something that is not a code point");
    v.symbols_.push_back(char32_t(s.get<uint64_t>()));
  }
  for (size_t i = 0; i < v.symbols_.size(); ++i) v.index_[v.symbols_[i]] = int64_t(i);
  if (v.index_.size() != v.symbols_.size()) throw DataError(where, "\"symbols\" lists a code point twice");
  return v;
}

nlohmann::json TextVocabulary::toJson() const {
  nlohmann::json j = {{"kind", kind_}, {"size", size()}};
  if (kind_ == "char") {
    nlohmann::json symbols = nlohmann::json::array();
    for (char32_t c : symbols_) symbols.push_back(uint32_t(c));
    j["symbols"] = symbols;
  }
  return j;
}

int64_t TextVocabulary::size() const { return kind_ == "byte" ? 256 : int64_t(symbols_.size()); }

std::string TextVocabulary::describe() const { return kind_ + ", " + std::to_string(size()) + " symbols"; }

std::vector<int64_t> TextVocabulary::encode(const std::string& utf8, const std::string& where) const {
  std::vector<int64_t> ids;
  if (kind_ == "byte") {
    for (unsigned char b : utf8) ids.push_back(b);
    return ids;
  }
  std::u32string text;
  if (!decodeUtf8(utf8, text)) throw DataError(where, "not valid UTF-8");
  for (char32_t c : text) {
    auto it = index_.find(c);
    if (it == index_.end())
      throw DataError(where, "character " + quoteChar(c) + " is not in the vocabulary (" + describe() +
                                 ", built from the run's corpus)");
    ids.push_back(it->second);
  }
  return ids;
}

std::vector<int64_t> TextVocabulary::encodeCodePoints(const std::u32string& text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (char32_t c : text) ids.push_back(index_.at(c));
  return ids;
}

std::string TextVocabulary::tokenText(int64_t id) const {
  if (id < 0 || id >= size()) return "\xEF\xBF\xBD"; // U+FFFD
  if (kind_ == "byte") return std::string(1, char(id));
  return encodeUtf8(symbols_[size_t(id)]);
}

std::string TextVocabulary::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) out += tokenText(id);
  return out;
}

std::string vocabularyMismatch(const TextVocabulary& teacher, const TextVocabulary& run) {
  if (teacher == run) return "";
  const std::string head = "vocabulary mismatch: the teacher's is " + teacher.describe() + ", this run's is " +
                           run.describe();
  if (teacher.kind() != run.kind())
    return head + ": a " + teacher.kind() + "-level teacher cannot score " + run.kind() +
           "-level tokens; use the teacher's tokenizer (corpus.tokenizer = \"" + teacher.kind() + "\")";
  // Both char level: name the characters only one side has.
  std::set<char32_t> t, r;
  for (int64_t i = 0; i < teacher.size(); ++i) {
    std::u32string cp;
    decodeUtf8(teacher.tokenText(i), cp);
    t.insert(cp.empty() ? 0 : cp[0]);
  }
  for (int64_t i = 0; i < run.size(); ++i) {
    std::u32string cp;
    decodeUtf8(run.tokenText(i), cp);
    r.insert(cp.empty() ? 0 : cp[0]);
  }
  auto list = [](const std::set<char32_t>& a, const std::set<char32_t>& b) {
    std::string s;
    int n = 0, shown = 0;
    for (char32_t c : a)
      if (!b.count(c)) {
        ++n;
        if (shown < 8) s += (shown++ ? ", " : "") + quoteChar(c);
      }
    if (n > shown) s += ", ... (" + std::to_string(n) + " in all)";
    return s;
  };
  std::string detail;
  const std::string only_run = list(r, t), only_teacher = list(t, r);
  if (!only_run.empty()) detail += "; only this run's corpus has " + only_run;
  if (!only_teacher.empty()) detail += "; only the teacher's has " + only_teacher;
  return head + detail + ". Train the teacher on the same corpus, or give this run a corpus whose characters match";
}

} // namespace distillery
