#pragma once
// Reader for an image folder: one subfolder per class holding PNG/JPEG files,
// every image resized to image_size x image_size. Either
//   ROOT/<class>/*.png|jpg|jpeg                      (one pool, split later), or
//   ROOT/train/<class>/..., optional ROOT/val/<class>/..., ROOT/test/<class>/...
// Classes are the training folder's subfolders in sorted order. Hidden entries
// are ignored; every other file that is not read (another format, not in a
// class folder, in a class folder's subfolder, beside train/) is listed in
// RawDataset::skipped with its reason.
#include "core/data/raw_dataset.h"

#include <string>

namespace distillery {

RawDataset readImageFolder(const std::string& root, int64_t image_size, int64_t channels);

// Decoded, converted and resized (bilinear, antialiased) image: uint8 [C, size, size].
torch::Tensor loadImageTensor(const std::vector<uint8_t>& bytes, int64_t image_size, int64_t channels,
                              const std::string& file);

} // namespace distillery
