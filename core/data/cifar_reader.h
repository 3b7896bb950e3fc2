#pragma once
// Reader for the binary distribution of CIFAR-10 (cifar-10-batches-bin:
// data_batch_1..5.bin, test_batch.bin; records of 1 label byte + 3072 pixel
// bytes) and CIFAR-100 (cifar-100-binary: train.bin, test.bin; records of a
// coarse and a fine label byte + 3072 pixel bytes). Pixels are stored as three
// 32x32 planes, red, green, blue, so a record is already [3, 32, 32].
#include "core/data/cifar_records.h"
#include "core/base/content_hash.h"
#include "core/data/raw_dataset.h"

#include <string>

namespace distillery {

// One batch file: x uint8 [N, 3, 32, 32], y int64 [N]. Checks that the size is
// a whole number of records and every label is in range; errors name the file.
RawSplit readCifarBatch(const std::string& file, const CifarLayout& layout, ContentHash& hash);

// dir: the folder holding the .bin files, or its parent holding
// cifar-10-batches-bin / cifar-100-binary.
RawDataset readCifar10(const std::string& dir);
RawDataset readCifar100(const std::string& dir, bool coarse_labels);

} // namespace distillery
