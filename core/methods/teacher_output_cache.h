#pragma once
// Teacher outputs computed once and kept on disk, memory-mapped.
//
// A distillation run otherwise pays for a teacher forward pass on every batch
// of every epoch, and every student of a sweep pays it again. When the
// teacher sees deterministic inputs (no augmentation on its side), its outputs
// over the training set are a pure function of (teacher weights, data,
// preprocessing, which samples, what is stored), and that tuple is the key.
//
// Safe with runs in parallel, threads or processes: the entry is computed
// under an exclusive lock on "<digest>.lock", written to a temporary file,
// fsync'ed and renamed into place, so nobody ever reads a half-written entry
// and two runs never compute the same entry twice.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace distillery {

// How the outputs are stored. Top-k keeps the k largest log-probabilities and
// their classes; the rest of the distribution is spread evenly over the other
// classes when read back, which is exact for methods that only see the top k.
struct TeacherCacheFormat {
  bool fp16 = false;
  int topk = 0; // 0: every logit
  std::string describe() const; // "logits-fp32", "logits-fp16", "topk8-fp16", ...
};

struct TeacherCacheKey {
  std::string teacher;       // hash of the teacher's weights (or file)
  std::string data;          // dataset content hash
  std::string preprocessing; // scaling and normalisation, as text
  std::string samples;       // which samples, in which order (split seed, limits)
  TeacherCacheFormat format;
  std::string text() const;   // the full key, stored in the entry's header
  std::string digest() const; // file name stem
};

// An entry, mapped read-only. Rows follow the order of the samples the key
// names (e.g. the training split's order).
class TeacherCacheEntry {
public:
  ~TeacherCacheEntry();
  TeacherCacheEntry(const TeacherCacheEntry&) = delete;
  TeacherCacheEntry& operator=(const TeacherCacheEntry&) = delete;

  int64_t rows() const { return rows_; }
  int64_t classes() const { return classes_; }
  const std::string& path() const { return path_; }
  int64_t bytes() const { return int64_t(map_size_); }
  // Teacher logits (float32, [indices.size(0), classes]) for the given rows.
  // Top-k entries come back as log-probabilities with the tail spread evenly,
  // so softmax of the result is the stored distribution.
  torch::Tensor logits(const torch::Tensor& indices) const;

  // Opens an existing entry; nullptr when absent or its header does not
  // match key (a stale or foreign file is then recomputed by the caller).
  static std::shared_ptr<TeacherCacheEntry> open(const std::string& path, const TeacherCacheKey& key);

private:
  TeacherCacheEntry() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  int64_t rows_ = 0, classes_ = 0;
  TeacherCacheFormat format_;
  torch::Tensor values_;  // view over the mapping: [rows, classes or k], float or half
  torch::Tensor indices_; // top-k only: [rows, k] int32, view over the mapping
};

struct TeacherCacheOutcome {
  std::shared_ptr<TeacherCacheEntry> entry;
  bool hit = false;          // found ready, no teacher pass was needed
  bool waited = false;       // another run was computing it; we waited and reused it
  int64_t rows_computed = 0; // teacher forward passes this call paid for
  // Seconds the teacher spent computing every row of the entry: measured when
  // this call computed it, else read from the entry's side file
  // ("<entry>.cost"). Negative when unknown (an entry from an older build).
  double teacher_seconds = -1.0;
};

// Computes rows [begin, end) of teacher logits as a float CPU tensor [end-begin, classes].
using TeacherBatchFn = std::function<torch::Tensor(int64_t begin, int64_t end)>;

class TeacherOutputCache {
public:
  explicit TeacherOutputCache(std::string dir);
  const std::string& dir() const { return dir_; }

  // Returns the entry for key, computing it with `compute` (in chunks of
  // chunk_rows) when it is missing. Throws std::runtime_error naming the
  // file when the directory or file cannot be written.
  TeacherCacheOutcome getOrCompute(const TeacherCacheKey& key, int64_t rows, int64_t classes,
                                   const TeacherBatchFn& compute, int64_t chunk_rows = 1024);

  std::string entryPath(const TeacherCacheKey& key) const;
  // Where the entry's compute time is kept: a run that reuses the entry is
  // charged what computing it cost.
  static std::string costPath(const std::string& entry_path) { return entry_path + ".cost"; }

  // $DISTILLERY_CACHE_DIR, else $XDG_CACHE_HOME/distillery/teacher-outputs,
  // else ~/.cache/distillery/teacher-outputs.
  static std::string defaultDir();

private:
  std::string dir_;
};

} // namespace distillery
