#pragma once
// PNG (libpng) and JPEG (libjpeg-turbo) decoding to 8-bit grey or RGB pixels.
// Anything unreadable becomes a DataError naming the file; nothing aborts.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;        // 1 or 3, as asked
  std::vector<uint8_t> pixels; // row-major, channels interleaved: [H, W, C]
};

// Picks the decoder by the bytes' signature, not by the file name. Grey images
// asked for as RGB repeat their channel; colour ones asked for as grey are
// converted by luminance; transparency is composited on black.
DecodedImage decodeImage(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file);

bool looksLikePng(const std::vector<uint8_t>& bytes);
bool looksLikeJpeg(const std::vector<uint8_t>& bytes);

} // namespace distillery
