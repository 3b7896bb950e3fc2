#pragma once
// PNG (libpng) and JPEG (libjpeg-turbo) decoding to 8-bit grey or RGB pixels,
// with the values a PyTorch user gets from PIL (Image.open(f).convert("L"/"RGB"))
// and torchvision.io. Anything unreadable becomes a DataError naming the file;
// nothing aborts.
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

// Picks the decoder by the bytes' signature, not by the file name. As PIL does:
// - grey images asked for as RGB repeat their channel; colour ones asked for as
//   grey get the ITU-R 601-2 luma L = 0.299 R + 0.587 G + 0.114 B (rounded);
// - an alpha channel (or PNG tRNS transparency) is dropped, not composited:
//   a transparent pixel keeps the colour stored under it;
// - 16-bit PNG samples keep their high byte (v >> 8), as PIL does for 16-bit
//   colour PNGs and torchvision's to_dtype(uint8, scale=True) for all;
// - PNG gAMA, cHRM, sRGB and iCCP chunks are ignored: samples are taken as stored;
// - CMYK JPEGs (Adobe ones are stored inverted) become R = (255-C)(255-K)/255, ...
DecodedImage decodeImage(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file);

bool looksLikePng(const std::vector<uint8_t>& bytes);
bool looksLikeJpeg(const std::vector<uint8_t>& bytes);

} // namespace distillery
