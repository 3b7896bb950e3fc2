#include "core/data/cifar_records.h"

#include "core/base/errors.h"

namespace distillery {

int64_t checkCifarRecords(const uint8_t* bytes, size_t size, const CifarLayout& layout, const std::string& file) {
  const int64_t record = layout.recordSize();
  if (layout.label_bytes < 1 || layout.label_index < 0 || layout.label_index >= layout.label_bytes ||
      layout.num_classes < 1 || layout.num_classes > 256)
    throw DataError(file, "internal error: impossible CIFAR record layout");
  if (size == 0) throw DataError(file, "is empty; expected records of " + std::to_string(record) + " bytes");
  if (size % size_t(record) != 0)
    throw DataError(file, "size " + std::to_string(size) + " bytes is not a whole number of " +
                              std::to_string(record) + "-byte records (truncated, or not this CIFAR variant)");
  const int64_t n = int64_t(size / size_t(record));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = bytes[i * record + layout.label_index];
    if (label >= layout.num_classes)
      throw DataError(file, "record " + std::to_string(i) + " has label " + std::to_string(label) +
                                ", outside the " + std::to_string(layout.num_classes) + " classes 0.." +
                                std::to_string(layout.num_classes - 1));
  }
  return n;
}

} // namespace distillery
