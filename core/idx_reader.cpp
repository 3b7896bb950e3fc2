#include "core/idx_reader.h"

#include "core/errors.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace distillery {

std::vector<uint8_t> readMaybeGzipped(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw DataError(path, "file not found");
  if (fs::is_directory(path, ec)) throw DataError(path, "is a directory, expected a file");

  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  probe.read(reinterpret_cast<char*>(magic), 2);
  const bool gzipped = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  probe.seekg(0);

  std::vector<uint8_t> out;
  if (!gzipped) {
    probe.clear();
    probe.seekg(0, std::ios::end);
    out.resize(size_t(probe.tellg()));
    probe.seekg(0);
    probe.read(reinterpret_cast<char*>(out.data()), std::streamsize(out.size()));
    if (!probe) throw DataError(path, "read failed");
    return out;
  }

  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    int n = gzread(gz, chunk.data(), unsigned(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string why = gzerror(gz, &code);
      gzclose(gz);
      throw DataError(path, "corrupt gzip data (" + why + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // gzread returns 0 both at a clean end and when the stream stops early.
  int code = 0;
  std::string why = gzerror(gz, &code);
  gzclose(gz);
  if (code != Z_OK && code != Z_STREAM_END) throw DataError(path, "corrupt gzip data (" + why + ")");
  return out;
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
    count *= d;
    if (count > (uint64_t(1) << 40)) throw DataError(file, "IDX dimensions are implausibly large");
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
