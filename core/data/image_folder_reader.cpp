#include "core/data/image_folder_reader.h"

#include "core/base/file_checks.h"

#include "core/base/content_hash.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"
#include "core/data/image_decoder.h"
#include "core/data/skipped_files.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

namespace distillery {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

std::string lowerExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

bool isImageName(const fs::path& p) {
  const std::string ext = lowerExtension(p);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// A folder's visible entries, sorted by name, so class indices and sample order
// do not depend on the file system. Hidden entries (".DS_Store", ".git") are
// left out without a word; other files and folders each go to one list.
struct FolderEntries {
  std::vector<fs::path> dirs;
  std::vector<fs::path> files;
};

FolderEntries listFolder(const fs::path& dir) {
  FolderEntries out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw DataError(dir.string(), "cannot list the folder: " + ec.message());
  for (const auto& entry : it) {
    const fs::path& p = entry.path();
    if (hidden(p)) continue;
    std::error_code e2;
    if (entry.is_directory(e2)) out.dirs.push_back(p);
    else if (entry.is_regular_file(e2)) out.files.push_back(p);
  }
  std::sort(out.dirs.begin(), out.dirs.end());
  std::sort(out.files.begin(), out.files.end());
  return out;
}

// Every file that is not read is recorded with its reason (skipped_files.h).
class SkipList {
public:
  explicit SkipList(fs::path root) : root_(std::move(root)) {}

  void add(const fs::path& p, SkipReason reason, const std::string& group) {
    skipped_.push_back({relative(p), reason, group});
  }
  // A folder that is not read: each visible file in it, at any depth.
  void addTree(const fs::path& dir, SkipReason reason, const std::string& group) {
    const FolderEntries e = listFolder(dir);
    for (const auto& f : e.files) add(f, reason, group);
    for (const auto& d : e.dirs) addTree(d, reason, group);
  }
  std::string relative(const fs::path& p) const { return p.lexically_relative(root_).generic_string(); }
  std::vector<SkippedFile> take() { return std::move(skipped_); }

private:
  fs::path root_;
  std::vector<SkippedFile> skipped_;
};

// A split folder's name as shown in messages: "train/", or "" for the dataset folder.
std::string splitLabel(const SkipList& skips, const fs::path& dir) {
  const std::string rel = skips.relative(dir);
  return rel == "." ? std::string() : rel + "/";
}

struct ImageList {
  std::vector<fs::path> files;
  std::vector<int64_t> labels;
};

ImageList listSplit(const fs::path& dir, const std::map<std::string, int64_t>& classes, bool require_every_class,
                    SkipList& skips) {
  ImageList list;
  const FolderEntries top = listFolder(dir);
  if (top.dirs.empty())
    throw DataError(dir.string(), "no class subfolders (expected one folder per class holding PNG or JPEG images)");
  for (const fs::path& f : top.files) skips.add(f, SkipReason::NotInClassFolder, splitLabel(skips, dir));
  for (const fs::path& sub : top.dirs) {
    const std::string name = sub.filename().string();
    auto it = classes.find(name);
    if (it == classes.end())
      throw DataError(sub.string(), "class \"" + name + "\" is not one of the training folder's classes");
    const FolderEntries entries = listFolder(sub);
    for (const fs::path& d : entries.dirs) skips.addTree(d, SkipReason::InNestedFolder, "");
    size_t images = 0, others = 0;
    for (const fs::path& f : entries.files) {
      if (!isImageName(f)) {
        skips.add(f, SkipReason::UnsupportedFormat, lowerExtension(f));
        ++others;
        continue;
      }
      list.files.push_back(f);
      list.labels.push_back(it->second);
      ++images;
    }
    if (images == 0 && require_every_class)
      throw DataError(sub.string(), "holds no PNG or JPEG images (.png, .jpg, .jpeg)" +
                                        (others > 0 || !entries.dirs.empty()
                                             ? std::string("; its ") + std::to_string(others) +
                                                   " other file(s) are in formats not read" +
                                                   (entries.dirs.empty() ? "" : ", and subfolders are not read")
                                             : std::string()));
  }
  if (list.files.empty()) throw DataError(dir.string(), "holds no PNG or JPEG images in its class subfolders");
  return list;
}

// Images are read in order (for the hash) and decoded in parallel, a chunk at a time
// so that only one chunk of compressed files is in memory.
RawSplit loadSplit(const ImageList& list, const fs::path& root, int64_t size, int64_t channels, ContentHash& hash) {
  const int64_t n = int64_t(list.files.size());
  RawSplit split;
  split.x = torch::empty({n, channels, size, size}, torch::kUInt8);
  split.y = torch::tensor(list.labels, torch::kInt64);
  constexpr int64_t chunk = 512;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    std::vector<std::vector<uint8_t>> bytes;
    for (int64_t i = begin; i < end; ++i) {
      bytes.push_back(readMaybeGzipped(list.files[size_t(i)].string()));
      hash.addName(list.files[size_t(i)].lexically_relative(root).generic_string());
      hash.add(bytes.back());
    }
    at::parallel_for(begin, end, 1, [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; ++i)
        split.x[i].copy_(loadImageTensor(bytes[size_t(i - begin)], size, channels, list.files[size_t(i)].string()));
    });
  }
  return split;
}

} // namespace

torch::Tensor loadImageTensor(const std::vector<uint8_t>& bytes, int64_t image_size, int64_t channels,
                              const std::string& file) {
  DecodedImage img = decodeImage(bytes, channels, file);
  auto hwc = torch::from_blob(img.pixels.data(), {img.height, img.width, img.channels}, torch::kUInt8);
  auto chw = hwc.permute({2, 0, 1});
  if (img.height == image_size && img.width == image_size) return chw.clone();
  namespace F = torch::nn::functional;
  auto resized = F::interpolate(chw.unsqueeze(0).to(torch::kFloat32),
                                F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{image_size, image_size})
                                    .mode(torch::kBilinear)
                                    .align_corners(false)
                                    .antialias(true));
  return resized.squeeze(0).round().clamp(0, 255).to(torch::kUInt8);
}

RawDataset readImageFolder(const std::string& root_text, int64_t image_size, int64_t channels) {
  const fs::path root(root_text);
  std::error_code ec;
  if (!fs::exists(root, ec)) throw DataError(root_text, "dataset directory not found (data.path)");
  if (!isFolder(root)) throw DataError(root_text, "expected a folder with one subfolder per class (data.path)");

  const bool has_splits = isFolder(root / "train");
  const fs::path train_dir = has_splits ? root / "train" : root;
  RawDataset d;
  SkipList skips(root);
  std::map<std::string, int64_t> classes;
  for (const fs::path& sub : listFolder(train_dir).dirs) {
    classes.emplace(sub.filename().string(), int64_t(d.class_names.size()));
    d.class_names.push_back(sub.filename().string());
  }
  if (classes.empty())
    throw DataError(train_dir.string(), "no class subfolders (expected one folder per class holding PNG or JPEG images)");
  d.num_classes = int64_t(classes.size());

  ContentHash hash;
  d.train = loadSplit(listSplit(train_dir, classes, true, skips), root, image_size, channels, hash);
  if (has_splits) {
    if (isFolder(root / "val"))
      d.val = loadSplit(listSplit(root / "val", classes, false, skips), root, image_size, channels, hash);
    if (isFolder(root / "test"))
      d.test = loadSplit(listSplit(root / "test", classes, false, skips), root, image_size, channels, hash);
    const FolderEntries top = listFolder(root);
    for (const fs::path& f : top.files) skips.add(f, SkipReason::NotInClassFolder, "");
    for (const fs::path& dir : top.dirs) {
      const std::string name = dir.filename().string();
      if (name != "train" && name != "val" && name != "test")
        skips.addTree(dir, SkipReason::OutsideSplitFolders, name + "/");
    }
  }
  d.content_hash = hash.text();
  d.skipped = skips.take();
  return d;
}

} // namespace distillery
