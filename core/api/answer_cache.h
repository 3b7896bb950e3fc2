#pragma once
// Answers bought from a teacher API, kept on disk so that a re-run, a resumed
// run or another run of a sweep never buys the same answer twice. One SQLite
// file (WAL, busy timeout: runs in parallel share it); a row per (server,
// input): `server` is the identity of what answers (the served model and its
// output pipeline, api_server_identity.h), `input` the SHA-256 of the input's
// bytes as sent. Rows hold the answer as a probability vector (float32), so
// every output mode reads back the same way. Each purchase is committed as
// soon as its reply arrives: a killed run loses nothing it paid for.
// One connection per object; use it from one thread.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace distillery {

class ApiAnswerCache {
public:
  // Opens or creates DIR/api-answers.sqlite; throws StoreError naming the file.
  explicit ApiAnswerCache(const std::string& dir);
  ~ApiAnswerCache();
  ApiAnswerCache(const ApiAnswerCache&) = delete;
  ApiAnswerCache& operator=(const ApiAnswerCache&) = delete;

  // For each input hash: whether an answer of `classes` probabilities is
  // stored; found rows are written to probs[i * classes ...] (probs is resized
  // to hashes.size() * classes).
  std::vector<bool> lookup(const std::string& server, const std::vector<std::string>& hashes, int64_t classes,
                           std::vector<float>& probs);
  // Stores rows (probs: hashes.size() x classes) in one transaction.
  void store(const std::string& server, const std::vector<std::string>& hashes, const std::vector<float>& probs,
             int64_t classes);
  int64_t count(const std::string& server);
  const std::string& path() const { return path_; }

  // $DISTILLERY_CACHE_DIR, else $XDG_CACHE_HOME/distillery, else ~/.cache/distillery.
  static std::string defaultDir();

private:
  [[noreturn]] void fail(const std::string& what);
  void exec(const char* sql);

  std::string path_;
  sqlite3* db_ = nullptr;
};

} // namespace distillery
