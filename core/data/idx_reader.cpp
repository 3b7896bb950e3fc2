#include "core/data/idx_reader.h"

#include "core/base/errors.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace distillery {

std::vector<uint8_t> readMaybeGzipped(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  // Only "does not exist" is a missing file; EACCES on a folder above is not.
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw DataError(path, "cannot access: " + ec.message() + " (check the folder's permissions)");
  if (!fs::exists(status)) throw DataError(path, "file not found");
  if (fs::is_directory(status)) throw DataError(path, "is a directory, expected a file");

  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw DataError(path, "cannot read: not a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!in) throw DataError(path, std::string("read failed: ") + std::strerror(errno));
  return inflateIfGzipped(std::move(bytes), path);
}

std::vector<uint8_t> inflateIfGzipped(std::vector<uint8_t> bytes, const std::string& file) {
  const bool gzipped = bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  if (!gzipped) return bytes;
  z_stream z{};
  // 16 + MAX_WBITS: a gzip header and trailer (with its CRC) around the deflate data.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw DataError(file, "cannot start gzip decompression");
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 16);
  z.next_in = bytes.data();
  z.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  for (;;) {
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), chunk.begin(), chunk.begin() + std::ptrdiff_t(chunk.size() - z.avail_out));
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      // Another gzip member follows.
      if (inflateReset(&z) != Z_OK) break;
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break; // input ended inside the stream
    if (rc != Z_OK) break;
  }
  const std::string why = z.msg ? z.msg : "";
  inflateEnd(&z);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_BUF_ERROR || rc == Z_OK)
    throw DataError(file, "corrupt gzip data (truncated: the compressed stream ends early)");
  throw DataError(file, "corrupt gzip data (" + (why.empty() ? "zlib error " + std::to_string(rc) : why) + ")");
}

IdxArray parseIdx(const std::vector<uint8_t>& bytes, const std::string& file) {
  if (bytes.size() < 4) throw DataError(file, "too short for an IDX header (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw DataError(file, "not an IDX file: magic number must start with two zero bytes");
  IdxArray array;
  array.type = bytes[2];
  if (array.type != 0x08)
    throw DataError(file, "unsupported IDX element type 0x" + std::to_string(array.type) +
                              "; expected 0x08 (unsigned byte)");
  const int ndims = bytes[3];
  if (ndims < 1 || ndims > 4)
    throw DataError(file, "IDX header declares " + std::to_string(ndims) + " dimensions; expected 1 to 4");
  const size_t header = 4 + 4 * size_t(ndims);
  if (bytes.size() < header) throw DataError(file, "truncated inside the IDX header");
  uint64_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* p = bytes.data() + 4 + 4 * i;
    uint32_t d = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
    array.dims.push_back(int64_t(d));
    // Checked before multiplying: four 32-bit dimensions could overflow 64 bits.
    constexpr uint64_t kMaxElements = uint64_t(1) << 40;
    if (d != 0 && count > kMaxElements / d) throw DataError(file, "IDX dimensions are implausibly large");
    count *= d;
  }
  const uint64_t have = bytes.size() - header;
  if (have < count)
    throw DataError(file, "truncated: header promises " + std::to_string(count) + " bytes of data, file has " +
                              std::to_string(have));
  if (have > count)
    throw DataError(file, "has " + std::to_string(have - count) + " unexpected bytes after the data");
  array.data.assign(bytes.begin() + std::ptrdiff_t(header), bytes.end());
  return array;
}

IdxArray readIdx(const std::string& path) { return parseIdx(readMaybeGzipped(path), path); }

} // namespace distillery
