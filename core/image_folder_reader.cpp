#include "core/image_folder_reader.h"

#include "core/content_hash.h"
#include "core/errors.h"
#include "core/idx_reader.h"
#include "core/image_decoder.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

namespace distillery {

namespace fs = std::filesystem;

namespace {

bool isDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

bool isImageName(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Sorted by name, so class indices and sample order do not depend on the file system.
std::vector<fs::path> sortedEntries(const fs::path& dir, bool want_dirs) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw DataError(dir.string(), "cannot list the folder: " + ec.message());
  for (const auto& entry : it) {
    const fs::path& p = entry.path();
    if (hidden(p)) continue;
    std::error_code e2;
    if (want_dirs ? entry.is_directory(e2) : (entry.is_regular_file(e2) && isImageName(p))) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct ImageList {
  std::vector<fs::path> files;
  std::vector<int64_t> labels;
};

ImageList listSplit(const fs::path& dir, const std::map<std::string, int64_t>& classes, bool require_every_class) {
  ImageList list;
  const auto subdirs = sortedEntries(dir, true);
  if (subdirs.empty())
    throw DataError(dir.string(), "no class subfolders (expected one folder per class holding PNG or JPEG images)");
  for (const fs::path& sub : subdirs) {
    const std::string name = sub.filename().string();
    auto it = classes.find(name);
    if (it == classes.end())
      throw DataError(sub.string(), "class \"" + name + "\" is not one of the training folder's classes");
    const auto files = sortedEntries(sub, false);
    if (files.empty() && require_every_class)
      throw DataError(sub.string(), "holds no PNG or JPEG images (.png, .jpg, .jpeg)");
    for (const fs::path& f : files) {
      list.files.push_back(f);
      list.labels.push_back(it->second);
    }
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
  if (!isDir(root)) throw DataError(root_text, "expected a folder with one subfolder per class (data.path)");

  const bool has_splits = isDir(root / "train");
  const fs::path train_dir = has_splits ? root / "train" : root;
  RawDataset d;
  std::map<std::string, int64_t> classes;
  for (const fs::path& sub : sortedEntries(train_dir, true)) {
    classes.emplace(sub.filename().string(), int64_t(d.class_names.size()));
    d.class_names.push_back(sub.filename().string());
  }
  if (classes.empty())
    throw DataError(train_dir.string(), "no class subfolders (expected one folder per class holding PNG or JPEG images)");
  d.num_classes = int64_t(classes.size());

  ContentHash hash;
  d.train = loadSplit(listSplit(train_dir, classes, true), root, image_size, channels, hash);
  if (has_splits) {
    if (isDir(root / "val")) d.val = loadSplit(listSplit(root / "val", classes, false), root, image_size, channels, hash);
    if (isDir(root / "test")) d.test = loadSplit(listSplit(root / "test", classes, false), root, image_size, channels, hash);
  }
  d.content_hash = hash.text();
  return d;
}

} // namespace distillery
