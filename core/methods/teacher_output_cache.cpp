#include "core/methods/teacher_output_cache.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace distillery {

namespace {

constexpr char kMagic[8] = {'D', 'T', 'O', 'C', '1', 0, 0, 0};
constexpr size_t kAlign = 64;

size_t alignUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

std::string errnoText() { return std::strerror(errno); }

// 64-bit FNV-1a: a name for the file, not a security boundary; the full key is
// stored in the header and compared on open.
uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Layout {
  size_t header_bytes = 0; // magic + length + text, aligned
  size_t values_offset = 0, values_bytes = 0;
  size_t indices_offset = 0, indices_bytes = 0;
  size_t total = 0;
};

Layout layoutFor(size_t header_text_len, int64_t rows, int64_t width, bool fp16, bool topk) {
  Layout l;
  l.header_bytes = alignUp(sizeof kMagic + sizeof(uint32_t) + header_text_len, kAlign);
  l.values_offset = l.header_bytes;
  l.values_bytes = size_t(rows) * size_t(width) * (fp16 ? 2 : 4);
  l.indices_offset = alignUp(l.values_offset + l.values_bytes, kAlign);
  l.indices_bytes = topk ? size_t(rows) * size_t(width) * 4 : 0;
  l.total = topk ? l.indices_offset + l.indices_bytes : l.values_offset + l.values_bytes;
  return l;
}

std::string headerText(const TeacherCacheKey& key, int64_t rows, int64_t classes) {
  return key.text() + "\nrows=" + std::to_string(rows) + "\nclasses=" + std::to_string(classes) + "\n";
}

// Holds an exclusive flock for its lifetime.
class FileLock {
public:
  explicit FileLock(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot create the cache lock file (" + errnoText() + ")");
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const std::string why = errnoText();
      ::close(fd_);
      throw std::runtime_error(path + ": cannot lock the cache entry (" + why + ")");
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  std::string path_;
  int fd_ = -1;
};

void writeAll(int fd, const void* data, size_t bytes, size_t offset, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd, p, bytes, off_t(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(path + ": cannot write the teacher-output cache (" + errnoText() + ")");
    }
    p += n;
    offset += size_t(n);
    bytes -= size_t(n);
  }
}

// The side file: "teacher_seconds=<s>\nrows=<n>\n". Negative when absent,
// unreadable or for another number of rows.
double readTeacherSeconds(const std::string& entry_path, int64_t rows) {
  FILE* f = std::fopen(TeacherOutputCache::costPath(entry_path).c_str(), "r");
  if (!f) return -1.0;
  double secs = -1.0;
  long long n = -1;
  const int got = std::fscanf(f, "teacher_seconds=%lf\nrows=%lld", &secs, &n);
  std::fclose(f);
  return got == 2 && n == rows && std::isfinite(secs) && secs >= 0 ? secs : -1.0;
}

// Written before the entry is renamed into place, so whoever finds the entry
// finds its cost too; best effort: without it a hit is estimated instead.
void writeTeacherSeconds(const std::string& entry_path, int64_t rows, double secs, const std::string& tmp_suffix) {
  const std::string path = TeacherOutputCache::costPath(entry_path);
  const std::string tmp = path + tmp_suffix;
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return;
  const bool ok = std::fprintf(f, "teacher_seconds=%.17g\nrows=%lld\n", secs, static_cast<long long>(rows)) > 0;
  if (std::fclose(f) == 0 && ok && std::rename(tmp.c_str(), path.c_str()) == 0) return;
  std::remove(tmp.c_str());
}

} // namespace

std::string TeacherCacheFormat::describe() const {
  std::string s = topk > 0 ? "topk" + std::to_string(topk) : std::string("logits");
  return s + (fp16 ? "-fp16" : "-fp32");
}

std::string TeacherCacheKey::text() const {
  return "teacher=" + teacher + "\ndata=" + data + "\npreprocessing=" + preprocessing + "\nsamples=" + samples +
         "\nformat=" + format.describe();
}

std::string TeacherCacheKey::digest() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(text())));
  return std::string(hex) + "-" + format.describe();
}

// ---------------------------------------------------------------------------

TeacherCacheEntry::~TeacherCacheEntry() {
  values_ = torch::Tensor();
  indices_ = torch::Tensor();
  if (map_) ::munmap(map_, map_size_);
}

std::shared_ptr<TeacherCacheEntry> TeacherCacheEntry::open(const std::string& path, const TeacherCacheKey& key) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || size_t(st.st_size) < sizeof kMagic + sizeof(uint32_t)) {
    ::close(fd);
    return nullptr;
  }
  const size_t size = size_t(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;

  std::shared_ptr<TeacherCacheEntry> entry(new TeacherCacheEntry());
  entry->path_ = path;
  entry->map_ = map;
  entry->map_size_ = size;
  const char* bytes = static_cast<const char*>(map);
  if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0) return nullptr;
  uint32_t text_len = 0;
  std::memcpy(&text_len, bytes + sizeof kMagic, sizeof text_len);
  if (sizeof kMagic + sizeof text_len + size_t(text_len) > size) return nullptr;
  const std::string header(bytes + sizeof kMagic + sizeof text_len, text_len);

  // The header is the key followed by the shape; anything else is not ours.
  const std::string expected_prefix = key.text() + "\nrows=";
  if (header.compare(0, expected_prefix.size(), expected_prefix) != 0) return nullptr;
  long long rows = -1, classes = -1;
  if (std::sscanf(header.c_str() + key.text().size(), "\nrows=%lld\nclasses=%lld\n", &rows, &classes) != 2 ||
      rows < 0 || classes <= 0)
    return nullptr;
  if (header != headerText(key, rows, classes)) return nullptr;

  const bool topk = key.format.topk > 0 && key.format.topk < classes;
  const int64_t width = topk ? key.format.topk : classes;
  const Layout l = layoutFor(text_len, rows, width, key.format.fp16, topk);
  if (l.total != size) return nullptr; // truncated or padded: never trust a partial file

  entry->rows_ = rows;
  entry->classes_ = classes;
  entry->format_ = key.format;
  void* values = const_cast<char*>(bytes + l.values_offset);
  entry->values_ = torch::from_blob(values, {rows, width}, key.format.fp16 ? torch::kHalf : torch::kFloat);
  if (topk) {
    void* idx = const_cast<char*>(bytes + l.indices_offset);
    entry->indices_ = torch::from_blob(idx, {rows, width}, torch::kInt);
  }
  return entry;
}

torch::Tensor TeacherCacheEntry::logits(const torch::Tensor& indices) const {
  const torch::Tensor idx = indices.to(torch::kCPU, torch::kLong);
  torch::Tensor values = values_.index_select(0, idx).to(torch::kFloat);
  if (!indices_.defined()) return values;
  // Top-k log-probabilities; the remaining mass is spread over the other classes.
  const int64_t k = values.size(1);
  const torch::Tensor classes = indices_.index_select(0, idx).to(torch::kLong);
  const torch::Tensor kept = values.exp().sum(1, /*keepdim=*/true);
  const torch::Tensor tail = (1.0 - kept).clamp_min(1e-12) / double(classes_ - k);
  torch::Tensor out = tail.log().expand({values.size(0), classes_}).contiguous();
  out.scatter_(1, classes, values);
  return out;
}

// ---------------------------------------------------------------------------

TeacherOutputCache::TeacherOutputCache(std::string dir) : dir_(std::move(dir)) {}

std::string TeacherOutputCache::defaultDir() {
  if (const char* d = std::getenv("DISTILLERY_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/distillery/teacher-outputs";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/distillery/teacher-outputs";
}

std::string TeacherOutputCache::entryPath(const TeacherCacheKey& key) const {
  return dir_ + "/" + key.digest() + ".dtoc";
}

TeacherCacheOutcome TeacherOutputCache::getOrCompute(const TeacherCacheKey& key, int64_t rows, int64_t classes,
                                                     const TeacherBatchFn& compute, int64_t chunk_rows) {
  TeacherCacheOutcome outcome;
  const std::string path = entryPath(key);
  if ((outcome.entry = TeacherCacheEntry::open(path, key)) && outcome.entry->rows() == rows &&
      outcome.entry->classes() == classes) {
    outcome.hit = true;
    outcome.teacher_seconds = readTeacherSeconds(path, rows);
    return outcome;
  }

  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error(dir_ + ": cannot create the teacher-output cache directory (" + ec.message() + ")");

  FileLock lock(path + ".lock");
  // Someone may have finished it while we waited for the lock.
  if ((outcome.entry = TeacherCacheEntry::open(path, key)) && outcome.entry->rows() == rows &&
      outcome.entry->classes() == classes) {
    outcome.hit = true;
    outcome.waited = true;
    outcome.teacher_seconds = readTeacherSeconds(path, rows);
    return outcome;
  }

  const bool topk = key.format.topk > 0 && key.format.topk < classes;
  const int64_t width = topk ? key.format.topk : classes;
  const std::string header = headerText(key, rows, classes);
  const Layout l = layoutFor(header.size(), rows, width, key.format.fp16, topk);
  const std::string tmp_suffix =
      ".tmp." + std::to_string(::getpid()) + "." + std::to_string(reinterpret_cast<uintptr_t>(&outcome));
  const std::string tmp = path + tmp_suffix;
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(tmp + ": cannot create a teacher-output cache file (" + errnoText() + ")");
  double teacher_seconds = 0.0;
  try {
    std::string head(l.header_bytes, '\0');
    std::memcpy(head.data(), kMagic, sizeof kMagic);
    const uint32_t len = uint32_t(header.size());
    std::memcpy(head.data() + sizeof kMagic, &len, sizeof len);
    std::memcpy(head.data() + sizeof kMagic + sizeof len, header.data(), header.size());
    writeAll(fd, head.data(), head.size(), 0, tmp);
    if (::ftruncate(fd, off_t(l.total)) != 0)
      throw std::runtime_error(tmp + ": cannot size the teacher-output cache file (" + errnoText() + ")");

    const size_t value_size = key.format.fp16 ? 2 : 4;
    for (int64_t begin = 0; begin < rows; begin += chunk_rows) {
      const int64_t end = std::min(rows, begin + chunk_rows);
      // Only the teacher's inference is timed, not the writing.
      const auto started = std::chrono::steady_clock::now();
      torch::Tensor logits = compute(begin, end).to(torch::kCPU, torch::kFloat);
      teacher_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (logits.dim() != 2 || logits.size(0) != end - begin || logits.size(1) != classes)
        throw std::runtime_error(tmp + ": the teacher returned " + std::to_string(logits.dim()) +
                                 "-d outputs, expected [" + std::to_string(end - begin) + ", " +
                                 std::to_string(classes) + "]");
      torch::Tensor values = logits;
      torch::Tensor idx;
      if (topk) {
        auto [v, i] = torch::log_softmax(logits, 1).topk(width, 1);
        values = v;
        idx = i.to(torch::kInt).contiguous();
      }
      values = (key.format.fp16 ? values.to(torch::kHalf) : values).contiguous();
      writeAll(fd, values.data_ptr(), size_t(values.numel()) * value_size,
               l.values_offset + size_t(begin) * size_t(width) * value_size, tmp);
      outcome.rows_computed += end - begin;
      if (topk)
        writeAll(fd, idx.data_ptr(), size_t(idx.numel()) * 4, l.indices_offset + size_t(begin) * size_t(width) * 4,
                 tmp);
    }
    if (::fsync(fd) != 0)
      throw std::runtime_error(tmp + ": cannot flush the teacher-output cache file (" + errnoText() + ")");
    ::close(fd);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  outcome.teacher_seconds = teacher_seconds;
  writeTeacherSeconds(path, rows, teacher_seconds, tmp_suffix);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errnoText();
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": cannot move the teacher-output cache entry into place (" + why + ")");
  }
  if (const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd); // the rename itself survives a crash
    ::close(dfd);
  }
  outcome.entry = TeacherCacheEntry::open(path, key);
  if (!outcome.entry) throw std::runtime_error(path + ": the teacher-output cache entry just written cannot be read");
  return outcome;
}

} // namespace distillery
