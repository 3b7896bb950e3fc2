#include "core/data/idx_dataset_reader.h"

#include "core/base/content_hash.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"

#include <filesystem>

namespace distillery {

namespace {

// Fashion-MNIST and MNIST ship the same four file names, gzipped or raw.
std::string findSplitFile(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const char* ext : {".gz", ""}) {
    std::string candidate = dir + "/" + stem + ext;
    std::error_code ec;
    const fs::file_status status = fs::status(candidate, ec);
    if (!ec && fs::exists(status)) return candidate;
    // Only "does not exist" means missing; EACCES on the folder is another story.
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw DataError(dir, "cannot look inside: " + ec.message() + " (check the folder's permissions)");
  }
  throw DataError(dir + "/" + stem + "[.gz]", "file not found (expected the IDX files of the dataset here)");
}

RawSplit readIdxSplit(const std::string& dir, const std::string& prefix, ContentHash& hash) {
  const std::string image_file = findSplitFile(dir, prefix + "-images-idx3-ubyte");
  const std::string label_file = findSplitFile(dir, prefix + "-labels-idx1-ubyte");
  auto image_bytes = readMaybeGzipped(image_file);
  auto label_bytes = readMaybeGzipped(label_file);
  hash.add(image_bytes);
  hash.add(label_bytes);
  IdxArray images = parseIdx(image_bytes, image_file);
  IdxArray labels = parseIdx(label_bytes, label_file);
  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw DataError(image_file, "expected images of shape [N, H, W] or [N, C, H, W], got " +
                                    std::to_string(images.dims.size()) + " dimensions");
  if (labels.dims.size() != 1)
    throw DataError(label_file, "expected labels of shape [N], got " + std::to_string(labels.dims.size()) +
                                    " dimensions");
  if (images.dims[0] != labels.dims[0])
    throw DataError(label_file, "holds " + std::to_string(labels.dims[0]) + " labels but " + image_file +
                                    " holds " + std::to_string(images.dims[0]) + " images");
  for (uint8_t label : labels.data)
    if (label > 9)
      throw DataError(label_file, "label " + std::to_string(label) + " is outside the 10 classes 0..9");
  std::vector<int64_t> shape = images.dims;
  if (shape.size() == 3) shape.insert(shape.begin() + 1, 1);
  RawSplit split;
  split.x = torch::from_blob(images.data.data(), shape, torch::kUInt8).clone();
  split.y = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
  return split;
}

} // namespace

RawDataset readIdxDataset(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw DataError(dir, "dataset directory not found (data.path)");
  if (!fs::is_directory(dir, ec)) throw DataError(dir, "expected a directory holding the IDX files (data.path)");
  RawDataset d;
  ContentHash hash;
  d.train = readIdxSplit(dir, "train", hash);
  d.test = readIdxSplit(dir, "t10k", hash);
  if (d.train.x.sizes().slice(1) != d.test.x.sizes().slice(1))
    throw DataError(dir, "train and test images have different shapes");
  d.num_classes = 10;
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  d.content_hash = hash.text();
  return d;
}

} // namespace distillery
