#pragma once
// Shared by the suites: tiny generated datasets, so tests never need the
// real Fashion-MNIST files and stay fast.
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace testsupport {

inline void putBigEndian(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

inline std::vector<uint8_t> idxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out{0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims) putBigEndian(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline void writeFile(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

// Images whose class decides where a bright bar sits, plus noise: easy to
// learn, impossible to guess. Written as Fashion-MNIST file names.
inline void writeSyntheticSplit(const std::string& dir, const std::string& split, int n,
                                uint32_t seed, bool gzip = true) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> label(0, 9), noise(0, 60);
  std::vector<uint8_t> images(size_t(n) * 28 * 28);
  std::vector<uint8_t> labels(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int c = label(rng);
    labels[size_t(i)] = uint8_t(c);
    uint8_t* img = images.data() + size_t(i) * 784;
    for (int p = 0; p < 784; ++p) img[p] = uint8_t(noise(rng));
    int row = 2 + (c % 5) * 5, col = (c < 5) ? 3 : 15;
    for (int r = row; r < row + 3; ++r)
      for (int k = col; k < col + 10; ++k) img[r * 28 + k] = 255;
  }
  const std::string ext = gzip ? ".gz" : "";
  writeFile(dir + "/" + split + "-images-idx3-ubyte" + ext, idxBytes({uint32_t(n), 28, 28}, images), gzip);
  writeFile(dir + "/" + split + "-labels-idx1-ubyte" + ext, idxBytes({uint32_t(n)}, labels), gzip);
}

inline void writeSyntheticDataset(const std::string& dir, int train = 3000, int test = 500,
                                  bool gzip = true) {
  writeSyntheticSplit(dir, "train", train, 1, gzip);
  writeSyntheticSplit(dir, "t10k", test, 2, gzip);
}

} // namespace testsupport
