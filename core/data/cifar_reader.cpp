#include "core/data/cifar_reader.h"

#include "core/base/file_checks.h"

#include "core/base/errors.h"
#include "core/data/idx_reader.h"

#include <filesystem>
#include <fstream>

namespace distillery {

namespace fs = std::filesystem;

namespace {

// Accepts the folder of .bin files itself or the folder the archive was unpacked in.
std::string resolveDir(const std::string& dir, const std::string& probe, const std::string& archive_dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw DataError(dir, "dataset directory not found (data.path)");
  if (!fs::is_directory(dir, ec)) throw DataError(dir, "expected a directory holding the CIFAR .bin files (data.path)");
  if (isRegularFile(dir + "/" + probe)) return dir;
  if (isRegularFile(dir + "/" + archive_dir + "/" + probe)) return dir + "/" + archive_dir;
  throw DataError(dir + "/" + probe, "file not found (expected the binary version of the dataset here, or in " +
                                         archive_dir + "/ below it)");
}

// Class names from the distribution's text file, one per line; numbers when it is absent.
std::vector<std::string> classNames(const std::string& file, int64_t count) {
  std::vector<std::string> names;
  std::ifstream in(file);
  if (in) {
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
    if (int64_t(names.size()) != count)
      throw DataError(file, "holds " + std::to_string(names.size()) + " class names, expected " + std::to_string(count));
    return names;
  }
  for (int64_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

RawSplit concat(const std::vector<RawSplit>& parts) {
  std::vector<torch::Tensor> xs, ys;
  for (const auto& p : parts) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  return {torch::cat(xs), torch::cat(ys)};
}

} // namespace

RawSplit readCifarBatch(const std::string& file, const CifarLayout& layout, ContentHash& hash) {
  std::vector<uint8_t> bytes = readMaybeGzipped(file);
  const int64_t record = layout.recordSize();
  const int64_t n = checkCifarRecords(bytes.data(), bytes.size(), layout, file);
  hash.addName(fs::path(file).filename().string());
  hash.add(bytes);
  auto all = torch::from_blob(bytes.data(), {n, record}, torch::kUInt8);
  auto y = all.select(1, layout.label_index).to(torch::kInt64);
  auto x = all.narrow(1, layout.label_bytes, 3 * 32 * 32).reshape({n, 3, 32, 32}).clone();
  return {x, y};
}

RawDataset readCifar10(const std::string& path) {
  const std::string dir = resolveDir(path, "data_batch_1.bin", "cifar-10-batches-bin");
  CifarLayout layout;
  RawDataset d;
  ContentHash hash;
  std::vector<RawSplit> train;
  for (int i = 1; i <= 5; ++i)
    train.push_back(readCifarBatch(dir + "/data_batch_" + std::to_string(i) + ".bin", layout, hash));
  d.train = concat(train);
  d.test = readCifarBatch(dir + "/test_batch.bin", layout, hash);
  d.num_classes = 10;
  d.class_names = classNames(dir + "/batches.meta.txt", 10);
  d.content_hash = hash.text();
  return d;
}

RawDataset readCifar100(const std::string& path, bool coarse_labels) {
  const std::string dir = resolveDir(path, "train.bin", "cifar-100-binary");
  CifarLayout layout;
  layout.label_bytes = 2;
  layout.label_index = coarse_labels ? 0 : 1;
  layout.num_classes = coarse_labels ? 20 : 100;
  RawDataset d;
  ContentHash hash;
  d.train = readCifarBatch(dir + "/train.bin", layout, hash);
  d.test = readCifarBatch(dir + "/test.bin", layout, hash);
  d.num_classes = layout.num_classes;
  d.class_names = classNames(dir + (coarse_labels ? "/coarse_label_names.txt" : "/fine_label_names.txt"), d.num_classes);
  d.content_hash = hash.text();
  return d;
}

} // namespace distillery
