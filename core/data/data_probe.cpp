#include "core/data/data_probe.h"

#include "core/base/file_checks.h"

#include "core/data/dataset_formats.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

namespace distillery {

namespace fs = std::filesystem;

namespace {

// Why `p` cannot be looked at, "" when it exists. Missing, behind a folder
// this user may not enter, and below a file are different problems to fix.
std::string whyNotThere(const fs::path& p) {
  std::error_code ec;
  (void)fs::status(p, ec); // only the error tells: missing, not allowed, below a file
  if (!ec) return "";
  if (ec == std::errc::permission_denied)
    return "cannot be reached (permission denied on a folder above it; check its permissions)";
  if (ec == std::errc::not_a_directory)
    for (fs::path up = p.parent_path(); !up.empty() && up != up.parent_path(); up = up.parent_path())
      if (isRegularFile(up)) return "not found (" + up.string() + " is a file, not a folder)";
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return "not found";
  return "cannot be read (" + ec.message() + ")";
}

// Why the files of folder `dir` cannot be read, "" when they can: a folder
// without read or search permission must not look empty or its files missing.
std::string unreadableFolder(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec); // needs read permission
  if (!ec && ::access(dir.c_str(), X_OK) != 0) ec = std::error_code(errno, std::generic_category()); // opening files in it
  if (!ec) return "";
  return "cannot read the folder (" + ec.message() + "; it needs read and execute permission for this user: " +
         "chmod u+rx, or run as its owner)";
}

// "" when `file` opens for reading; else why not (permission denied, ...).
std::string unreadableFile(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return "";
  }
  return "cannot be read (" + std::error_code(errno, std::generic_category()).message() + ")";
}

// The IDX file `stem` with or without .gz, as the reader looks for it; "" when neither exists.
std::string idxFile(const std::string& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""})
    if (isRegularFile(dir + "/" + stem + ext)) return dir + "/" + stem + ext;
  return "";
}

// The dimensions in an IDX header; gzread reads gzipped and raw files alike,
// and only the first bytes are inflated. Empty when the header is not IDX.
std::vector<int64_t> idxDims(const std::string& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  if (!f) return {};
  unsigned char head[4 + 4 * 4] = {};
  const int got = gzread(f, head, sizeof head);
  gzclose(f);
  if (got < 4 || head[0] != 0 || head[1] != 0 || head[3] < 1 || head[3] > 4 || got < 4 + 4 * head[3]) return {};
  std::vector<int64_t> dims;
  for (int i = 0; i < head[3]; ++i) {
    const unsigned char* d = head + 4 + 4 * i;
    dims.push_back((int64_t(d[0]) << 24) | (int64_t(d[1]) << 16) | (int64_t(d[2]) << 8) | int64_t(d[3]));
  }
  return dims;
}

// The formats whose data.path is a folder: say so when it is not.
bool requireFolder(const DataConfig& data, DataProbe& p) {
  if (!isFolder(data.path)) {
    p.problem = data.path + ": not a folder (expected the folder holding the " + data.dataset + " files)";
    return false;
  }
  if (const std::string why = unreadableFolder(data.path); !why.empty()) {
    p.problem = data.path + ": " + why;
    return false;
  }
  return true;
}

// CIFAR: the folder of .bin files itself, or the folder the archive was unpacked in.
void probeCifarFiles(const DataConfig& data, DataProbe& p, const std::vector<std::string>& files,
                     const std::string& unpacked_folder) {
  if (!requireFolder(data, p)) return;
  std::string dir = data.path;
  const std::string unpacked = data.path + "/" + unpacked_folder;
  if (!isRegularFile(dir + "/" + files[0]) && isRegularFile(unpacked + "/" + files[0])) dir = unpacked;
  for (const std::string& file : files)
    if (!isRegularFile(dir + "/" + file)) {
      p.problem = dir + "/" + file + ": file not found (expected the binary version of the dataset here)";
      return;
    } else if (const std::string why = unreadableFile(dir + "/" + file); !why.empty()) {
      p.problem = dir + "/" + file + ": " + why;
      return;
    }
}

} // namespace

void probeIdxFiles(const DataConfig& data, DataProbe& p) {
  if (!requireFolder(data, p)) return;
  for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"}) {
    const std::string file = idxFile(data.path, stem);
    if (file.empty()) {
      p.problem = data.path + "/" + stem + "[.gz]: file not found (expected the IDX files of the dataset here)";
      return;
    }
    const std::string why = unreadableFile(file);
    if (!why.empty()) {
      p.problem = file + ": " + why;
      return;
    }
  }
  const std::vector<int64_t> dims = idxDims(idxFile(data.path, "train-images-idx3-ubyte"));
  if (dims.size() == 3 || dims.size() == 4) {
    p.train_samples = dims[0];
    p.channels = dims.size() == 4 ? dims[1] : 1;
    p.height = dims[dims.size() - 2];
    p.width = dims.back();
  }
}

void probeCifar10Files(const DataConfig& data, DataProbe& p) {
  probeCifarFiles(data, p,
                  {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
                   "test_batch.bin"},
                  "cifar-10-batches-bin");
}

void probeCifar100Files(const DataConfig& data, DataProbe& p) {
  probeCifarFiles(data, p, {"train.bin", "test.bin"}, "cifar-100-binary");
}

void probeImageFolderFiles(const DataConfig& data, DataProbe& p) {
  if (!requireFolder(data, p)) return;
  const fs::path root(data.path);
  const bool splits = isFolder(root / "train");
  const fs::path train = splits ? root / "train" : root;
  p.has_val_split = splits && isFolder(root / "val");
  std::error_code ec;
  for (fs::directory_iterator it(train, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_directory(e2) && it->path().filename().string().rfind('.', 0) != 0) ++p.classes;
  }
  if (ec) p.problem = train.string() + ": cannot list the folder (" + ec.message() + ")";
  else if (p.classes == 0)
    p.problem = train.string() + ": no class subfolders (expected one folder per class holding images)";
}

void probeCsvFiles(const DataConfig& data, DataProbe& p) {
  if (isFolder(data.path)) {
    if (const std::string why = unreadableFolder(data.path); !why.empty())
      p.problem = data.path + ": " + why;
    else if (!isRegularFile(data.path + "/train.csv"))
      p.problem = data.path + "/train.csv: file not found (a CSV folder needs train.csv; val.csv and test.csv are optional)";
    else if (const std::string why = unreadableFile(data.path + "/train.csv"); !why.empty())
      p.problem = data.path + "/train.csv: " + why;
    p.has_val_split = isRegularFile(data.path + "/val.csv");
  } else if (!isRegularFile(data.path)) {
    p.problem = data.path + ": not a file (expected a CSV file, or a folder holding train.csv)";
  } else if (const std::string why = unreadableFile(data.path); !why.empty()) {
    p.problem = data.path + ": " + why;
  }
}

std::string DataProbe::describe() const {
  std::string s;
  if (shapeKnown()) s = std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  if (classes > 0) s += (s.empty() ? "" : ", ") + std::to_string(classes) + " classes";
  return s;
}

DataProbe probeData(const DataConfig& data) {
  DataProbe p = shapeFromConfig(data);
  const DatasetFormat* format = findDatasetFormat(data.dataset);
  if (!format) {
    p.problem = "unknown dataset format \"" + data.dataset + "\"";
    return p;
  }
  if (data.path.empty()) {
    p.problem = "no path given";
    return p;
  }
  if (const std::string why = whyNotThere(data.path); !why.empty()) {
    p.problem = data.path + ": " + why;
    return p;
  }
  if (format->probe_files) format->probe_files(data, p);
  return p;
}

} // namespace distillery
