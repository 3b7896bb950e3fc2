#pragma once
// The byte layout of CIFAR binary batch files, checked without LibTorch so the
// check can be fuzzed on its own: a file is a whole number of records, each
// label bytes followed by 3x32x32 pixel bytes, every label inside the classes.
#include <cstddef>
#include <cstdint>
#include <string>

namespace distillery {

struct CifarLayout {
  int64_t label_bytes = 1;  // bytes before the pixels: 1 (CIFAR-10), 2 (CIFAR-100)
  int64_t label_index = 0;  // which of them is the label: CIFAR-100 coarse 0, fine 1
  int64_t num_classes = 10;
  int64_t recordSize() const { return label_bytes + 3 * 32 * 32; }
};

// The number of records in bytes; throws DataError naming file when the size
// is not a whole, non-zero number of records or a label is out of range.
int64_t checkCifarRecords(const uint8_t* bytes, size_t size, const CifarLayout& layout, const std::string& file);

} // namespace distillery
