#pragma once
// SHA-256 (FIPS 180-4) of bytes and files, for recording exactly which model
// file taught a run. Small and self-contained: no LibTorch, no Qt.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace distillery {

class Sha256 {
public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& bytes) { update(bytes.data(), bytes.size()); }
  // Lower-case hex of the 32-byte digest; the object must not be updated afterwards.
  std::string hexDigest();

private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256Hex(const std::string& bytes);
// Throws DataError(path, ...) when the file cannot be read.
std::string sha256OfFile(const std::string& path);

} // namespace distillery
