// libFuzzer target: IDX files as read from disk, gzipped or raw. Any input
// must end in an IdxArray whose size matches its dimensions, or a DataError;
// anything else (a crash, another exception, a sanitizer report) is a finding.
#include "core/base/errors.h"
#include "core/data/idx_reader.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    std::vector<uint8_t> bytes(data, data + size);
    const distillery::IdxArray a = distillery::parseIdx(distillery::inflateIfGzipped(std::move(bytes), "fuzz.idx"), "fuzz.idx");
    size_t count = 1;
    for (int64_t d : a.dims) count *= size_t(d);
    if (a.dims.empty() || count != a.data.size()) std::abort();
  } catch (const distillery::DataError&) {
  }
  return 0;
}
