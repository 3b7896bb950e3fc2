#include "core/lm/text_corpus.h"

#include "core/base/content_hash.h"
#include "core/base/errors.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace distillery {

namespace fs = std::filesystem;

namespace {

std::string readAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string(), "cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool isText(const std::string& bytes) {
  if (bytes.find('\0') != std::string::npos) return false;
  std::u32string ignored;
  return decodeUtf8(bytes, ignored);
}

// Files of a folder, recursively, in path order; links to a file already listed count once.
std::vector<fs::path> folderFiles(const fs::path& root) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       it != end; it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::set<fs::path> seen;
  std::vector<fs::path> unique;
  for (const auto& f : files)
    if (seen.insert(fs::weakly_canonical(f, ec)).second) unique.push_back(f);
  return unique;
}

// The longest prefix of at most max_bytes bytes that ends on a character boundary.
std::string cutAtCharBoundary(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

} // namespace

TextCorpus loadTextCorpus(const TextCorpusConfig& config) {
  TextCorpus corpus;
  corpus.path = config.path;
  const fs::path root(config.path);
  std::error_code ec;
  if (!fs::exists(root, ec))
    throw DataError(config.path, "does not exist (corpus.path: a UTF-8 text file or a folder of them" +
                                     std::string(config.path == kDefaultCorpusPath
                                                     ? "; the default corpus comes with the Debian package "
                                                       "\"fortunes\", installed by scripts/setup.sh)"
                                                     : ")"));
  std::string text;
  ContentHash hash;
  const bool byte_level = config.tokenizer == "byte";
  if (fs::is_directory(root, ec)) {
    for (const auto& file : folderFiles(root)) {
      if (config.max_bytes > 0 && int64_t(text.size()) >= config.max_bytes) break;
      std::string bytes = readAll(file);
      if (bytes.empty()) continue;
      if (!isText(bytes)) { // e.g. the .dat index files next to fortune files
        ++corpus.skipped_files;
        continue;
      }
      if (bytes.back() != '\n') bytes += '\n';
      const std::string name = fs::relative(file, root, ec).generic_string();
      hash.addName(name);
      corpus.files.push_back(name);
      text += bytes;
    }
    if (corpus.files.empty())
      throw DataError(config.path, "holds no UTF-8 text file" +
                                       (corpus.skipped_files ? " (" + std::to_string(corpus.skipped_files) +
                                                                   " binary or non-UTF-8 files left out)"
                                                             : std::string()));
  } else {
    text = readAll(root);
    if (!byte_level && !isText(text))
      throw DataError(config.path, "is not UTF-8 text; the char tokenizer needs UTF-8 (corpus.tokenizer = \"byte\" reads any bytes)");
    corpus.files.push_back(root.filename().string());
    hash.addName(root.filename().string());
  }
  if (config.max_bytes > 0) text = cutAtCharBoundary(text, size_t(config.max_bytes));
  hash.add(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  corpus.bytes = int64_t(text.size());
  corpus.content_hash = hash.text();

  std::vector<int64_t> ids;
  if (byte_level) {
    corpus.vocab = TextVocabulary::bytes();
    ids.reserve(text.size());
    for (unsigned char b : text) ids.push_back(b);
  } else {
    std::u32string chars;
    decodeUtf8(text, chars);
    corpus.vocab = TextVocabulary::charsOf(chars);
    ids = corpus.vocab.encodeCodePoints(chars);
  }
  const int64_t n = int64_t(ids.size());
  if (n < 64) throw DataError(config.path, "holds " + std::to_string(n) + " tokens; a language model needs at least 64");

  // Blocks of up to 1024 tokens (smaller for small corpora, so there are at least 20);
  // block i is held out when the running count of val_fraction * i steps up, which
  // spreads validation evenly over the text (and over every file of a folder).
  corpus.block_tokens = std::clamp<int64_t>(n / 20, 32, 1024);
  std::vector<int64_t> train, val;
  train.reserve(size_t(n));
  const double f = config.val_fraction;
  for (int64_t start = 0, i = 0; start < n; start += corpus.block_tokens, ++i) {
    const int64_t end = std::min(n, start + corpus.block_tokens);
    const bool held_out = f > 0 && std::floor(double(i + 1) * f) > std::floor(double(i) * f);
    auto& into = held_out ? val : train;
    into.insert(into.end(), ids.begin() + start, ids.begin() + end);
  }
  auto toTensor = [](std::vector<int64_t>& v) {
    return torch::from_blob(v.data(), {int64_t(v.size())}, torch::kLong).clone();
  };
  corpus.train = toTensor(train);
  corpus.val = val.empty() ? torch::empty({0}, torch::kLong) : toTensor(val);
  return corpus;
}

LmWindows makeWindows(const torch::Tensor& tokens, int64_t context, int64_t max_tokens) {
  LmWindows w;
  const int64_t n = tokens.numel();
  int64_t count = n > context ? (n - 1) / context : 0;
  if (max_tokens > 0) count = std::min(count, std::max<int64_t>(1, max_tokens / context));
  if (count == 0) return w;
  auto starts = torch::arange(count, torch::kLong) * context;
  auto offsets = torch::arange(context + 1, torch::kLong);
  auto idx = starts.unsqueeze(1) + offsets.unsqueeze(0);
  auto windows = tokens.index_select(0, idx.flatten()).view({count, context + 1});
  w.inputs = windows.slice(1, 0, context).contiguous();
  w.targets = windows.slice(1, 1, context + 1).contiguous();
  return w;
}

torch::Tensor sampleWindows(const torch::Tensor& tokens, int64_t batch, int64_t context, at::Generator& gen) {
  const int64_t n = tokens.numel();
  auto starts = torch::randint(0, n - context, {batch}, gen, torch::kLong);
  auto idx = starts.unsqueeze(1) + torch::arange(context + 1, torch::kLong).unsqueeze(0);
  return tokens.index_select(0, idx.flatten()).view({batch, context + 1});
}

} // namespace distillery
