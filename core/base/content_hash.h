#pragma once
// The content hash recorded with a run: FNV-1a (64 bit) over the dataset's raw
// bytes, in a fixed order, so two runs on identical files record the same hash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

class ContentHash {
public:
  void add(const uint8_t* data, size_t size);
  void add(const std::vector<uint8_t>& bytes) { add(bytes.data(), bytes.size()); }
  // Names (e.g. a file's path relative to the dataset) count too, so moving an
  // image to another class folder changes the hash. Terminated by a zero byte.
  void addName(const std::string& name);
  // "fnv1a64:" and 16 hex digits.
  std::string text() const;

private:
  uint64_t state_ = 1469598103934665603ull;
};

} // namespace distillery
