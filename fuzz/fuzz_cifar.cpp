// libFuzzer target: CIFAR binary batches. The first byte picks the layout
// (CIFAR-10, CIFAR-100 coarse or fine labels), the rest is the file. Valid
// input gives the record count; anything invalid must be a DataError.
#include "core/data/cifar_records.h"
#include "core/base/errors.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  distillery::CifarLayout layout;
  switch (data[0] % 3) {
    case 0: break; // CIFAR-10
    case 1: layout.label_bytes = 2; layout.label_index = 0; layout.num_classes = 20; break;
    default: layout.label_bytes = 2; layout.label_index = 1; layout.num_classes = 100; break;
  }
  try {
    const int64_t n = distillery::checkCifarRecords(data + 1, size - 1, layout, "fuzz.bin");
    if (n < 1 || size_t(n) * size_t(layout.recordSize()) != size - 1) std::abort();
    for (int64_t i = 0; i < n; ++i)
      if (data[1 + i * layout.recordSize() + layout.label_index] >= layout.num_classes) std::abort();
  } catch (const distillery::DataError&) {
  }
  return 0;
}
