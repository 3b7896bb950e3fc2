#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, gzipped or raw.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct IdxArray {
  uint8_t type = 0x08;          // only unsigned bytes are used by these datasets
  std::vector<int64_t> dims;    // e.g. {60000, 28, 28} or {60000}
  std::vector<uint8_t> data;    // row-major
};

// Reads a whole file, inflating it when it starts with the gzip magic.
std::vector<uint8_t> readMaybeGzipped(const std::string& path);
// The bytes themselves, or what they inflate to when they start with the gzip
// magic (several gzip members are concatenated, as gunzip does). Throws
// DataError naming file for damaged or truncated gzip data.
std::vector<uint8_t> inflateIfGzipped(std::vector<uint8_t> bytes, const std::string& file);
// Parses IDX bytes; file is only used in error messages.
IdxArray parseIdx(const std::vector<uint8_t>& bytes, const std::string& file);
IdxArray readIdx(const std::string& path);

} // namespace distillery
