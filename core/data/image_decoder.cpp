#include "core/data/image_decoder.h"

#include "core/base/errors.h"

#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csetjmp>
#include <jpeglib.h>
#include <jerror.h>

namespace distillery {

namespace {

// Larger images are refused rather than risking memory on a hostile file.
constexpr uint64_t kMaxPixels = uint64_t(1) << 28;

// What a decoder hands over before conversion to the asked-for channels.
enum class Layout { Grey, GreyAlpha, Rgb, Rgba, Cmyk };

struct RawPixels {
  unsigned char* pixels = nullptr; // malloc'ed, rows packed
  int width = 0, height = 0;
  Layout layout = Layout::Rgb;
  bool inverted = false; // Cmyk: stored as 255 - value (Adobe's convention)
};

// Error messages are copied here, as C strings, before jumping back.
struct CErrors {
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

// ---- PNG -------------------------------------------------------------------------------

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t pos;
};

// libpng's error callback must not return: it jumps back into decodePngC.
void pngError(png_structp png, png_const_charp text) {
  auto* errors = static_cast<CErrors*>(png_get_error_ptr(png));
  std::snprintf(errors->message, sizeof errors->message, "%s", text);
  std::longjmp(errors->jump, 1);
}

void pngWarning(png_structp, png_const_charp) {} // e.g. a bad ancillary chunk: PIL reads on, so do we

void pngRead(png_structp png, png_bytep out, size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->pos) png_error(png, "the data ends early (truncated file)");
  std::memcpy(out, source->data + source->pos, n);
  source->pos += n;
}

// 0 on success; 1 with errors->message set; 2 when the image is too large. Only
// plain C data lives across the jump. No gamma or colour transform is asked of
// libpng, so gAMA/sRGB/iCCP chunks leave the samples as stored, as in PIL.
int decodePngC(const unsigned char* data, size_t size, CErrors* errors, RawPixels* result) {
  PngSource source{data, size, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, errors, pngError, pngWarning);
  if (!png) {
    std::snprintf(errors->message, sizeof errors->message, "out of memory");
    return 1;
  }
  png_infop volatile info = nullptr;
  unsigned char* volatile pixels = nullptr;
  png_bytep* volatile rows = nullptr;
  if (setjmp(errors->jump)) {
    png_infop i = info;
    png_destroy_read_struct(&png, i ? &i : nullptr, nullptr);
    std::free(pixels);
    std::free(rows);
    return 1;
  }
  info = png_create_info_struct(png);
  if (!info) png_error(png, "out of memory");
  png_set_read_fn(png, &source, pngRead);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (uint64_t(width) * uint64_t(height) > kMaxPixels) {
    result->width = int(width);
    result->height = int(height);
    png_infop i = info;
    png_destroy_read_struct(&png, &i, nullptr);
    return 2;
  }
  const int colour_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (colour_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png); // may add alpha from tRNS: dropped below
  if (colour_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_strip_16(png); // the high byte, as PIL for 16-bit colour
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int components = png_get_channels(png, info);
  const size_t stride = png_get_rowbytes(png, info);
  if (stride != size_t(width) * size_t(components)) png_error(png, "unexpected row layout after expansion to 8 bits");
  pixels = static_cast<unsigned char*>(std::malloc(stride * height));
  rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * height));
  if (!pixels || !rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = pixels + size_t(y) * stride;
  png_read_image(png, rows);
  std::free(rows);
  png_infop i = info;
  png_destroy_read_struct(&png, &i, nullptr);
  static const Layout layouts[] = {Layout::Grey, Layout::Grey, Layout::GreyAlpha, Layout::Rgb, Layout::Rgba};
  result->pixels = pixels;
  result->width = int(width);
  result->height = int(height);
  result->layout = layouts[components >= 1 && components <= 4 ? components : 0];
  return 0;
}

// ---- JPEG ------------------------------------------------------------------------------

// libjpeg reports errors through a callback that must not return: it jumps
// back into decodeJpegC.
struct JpegErrors {
  jpeg_error_mgr base;
  CErrors* errors;
};

void jpegErrorExit(j_common_ptr info) {
  auto* err = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, err->errors->message);
  std::longjmp(err->errors->jump, 1);
}

// A file cut short is only a warning to libjpeg, which fills the missing part
// with grey and carries on; here it is an error. Milder warnings (extraneous
// bytes between markers, common in real files) are tolerated.
void jpegMessage(j_common_ptr info, int level) {
  const int code = info->err->msg_code;
  if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)) jpegErrorExit(info);
}

// 0 on success; 1 with errors->message set; 2 when the image is too large.
// Colour JPEGs are decoded to RGB (a grey result is computed from it, as PIL
// does, rather than taken from the Y channel); CMYK and YCCK ones to CMYK.
int decodeJpegC(const unsigned char* data, unsigned long size, CErrors* errors, RawPixels* result) {
  jpeg_decompress_struct info;
  std::memset(&info, 0, sizeof info);
  JpegErrors err;
  std::memset(&err, 0, sizeof err);
  err.errors = errors;
  unsigned char* volatile pixels = nullptr;
  info.err = jpeg_std_error(&err.base);
  err.base.error_exit = jpegErrorExit;
  err.base.emit_message = jpegMessage;
  if (setjmp(errors->jump)) {
    jpeg_destroy_decompress(&info);
    std::free(pixels);
    return 1;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, size);
  jpeg_read_header(&info, TRUE);
  Layout layout = Layout::Rgb;
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
    info.out_color_space = JCS_CMYK;
    layout = Layout::Cmyk;
  } else if (info.jpeg_color_space == JCS_GRAYSCALE) {
    info.out_color_space = JCS_GRAYSCALE;
    layout = Layout::Grey;
  } else {
    info.out_color_space = JCS_RGB;
  }
  if (uint64_t(info.image_width) * uint64_t(info.image_height) > kMaxPixels) {
    jpeg_destroy_decompress(&info);
    return 2;
  }
  jpeg_start_decompress(&info);
  const size_t stride = size_t(info.output_width) * size_t(info.output_components);
  pixels = static_cast<unsigned char*>(std::malloc(stride * info.output_height));
  if (!pixels) {
    jpeg_destroy_decompress(&info);
    return 2;
  }
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + size_t(info.output_scanline) * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  result->width = int(info.output_width);
  result->height = int(info.output_height);
  result->pixels = pixels;
  result->layout = layout;
  // Adobe applications write CMYK inverted and mark it with an APP14 "Adobe"
  // segment; PIL reads such files as inverted, and so do we.
  result->inverted = layout == Layout::Cmyk && info.saw_Adobe_marker;
  jpeg_destroy_decompress(&info);
  return 0;
}

// ---- conversion to grey or RGB, as PIL's Image.convert --------------------------------

// ITU-R 601-2 luma in 16-bit fixed point, rounded: PIL's "L" from RGB.
inline uint8_t luma(unsigned r, unsigned g, unsigned b) {
  return uint8_t((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

// One ink over paper: (255 - ink) scaled by the black's remainder, rounded.
inline uint8_t inkToLight(unsigned ink, unsigned not_black) {
  return uint8_t(not_black - (ink * not_black + 127u) / 255u);
}

DecodedImage convertPixels(const RawPixels& raw, int64_t channels) {
  DecodedImage out;
  out.height = raw.height;
  out.width = raw.width;
  out.channels = channels;
  const size_t n = size_t(raw.width) * size_t(raw.height);
  out.pixels.resize(n * size_t(channels));
  const unsigned char* in = raw.pixels;
  uint8_t* o = out.pixels.data();
  for (size_t i = 0; i < n; ++i) {
    unsigned r = 0, g = 0, b = 0;
    switch (raw.layout) {
    case Layout::Grey: r = g = b = in[i]; break;
    case Layout::GreyAlpha: r = g = b = in[2 * i]; break; // alpha dropped
    case Layout::Rgb: r = in[3 * i], g = in[3 * i + 1], b = in[3 * i + 2]; break;
    case Layout::Rgba: r = in[4 * i], g = in[4 * i + 1], b = in[4 * i + 2]; break; // alpha dropped
    case Layout::Cmyk: {
      const unsigned char* p = in + 4 * i;
      const unsigned flip = raw.inverted ? 255u : 0u;
      const unsigned not_black = 255u - (p[3] ^ flip);
      r = inkToLight(p[0] ^ flip, not_black);
      g = inkToLight(p[1] ^ flip, not_black);
      b = inkToLight(p[2] ^ flip, not_black);
      break;
    }
    }
    const bool grey_source = raw.layout == Layout::Grey || raw.layout == Layout::GreyAlpha;
    if (channels == 1) {
      o[i] = grey_source ? uint8_t(r) : luma(r, g, b);
    } else {
      o[3 * i] = uint8_t(r);
      o[3 * i + 1] = uint8_t(g);
      o[3 * i + 2] = uint8_t(b);
    }
  }
  return out;
}

DecodedImage finish(RawPixels& raw, int64_t channels) {
  DecodedImage out = convertPixels(raw, channels);
  std::free(raw.pixels);
  raw.pixels = nullptr;
  return out;
}

DecodedImage decodePng(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file) {
  CErrors errors;
  std::memset(&errors, 0, sizeof errors);
  RawPixels raw;
  const int status = decodePngC(bytes.data(), bytes.size(), &errors, &raw);
  if (status == 1) throw DataError(file, std::string("corrupt or unsupported PNG image (libpng: ") + errors.message + ")");
  if (status == 2)
    throw DataError(file, "PNG image of " + std::to_string(raw.width) + "x" + std::to_string(raw.height) +
                              " pixels is too large");
  return finish(raw, channels);
}

DecodedImage decodeJpeg(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file) {
  CErrors errors;
  std::memset(&errors, 0, sizeof errors);
  RawPixels raw;
  const int status = decodeJpegC(bytes.data(), static_cast<unsigned long>(bytes.size()), &errors, &raw);
  if (status == 1) throw DataError(file, std::string("corrupt or unsupported JPEG image (libjpeg: ") + errors.message + ")");
  if (status == 2) throw DataError(file, "JPEG image is too large");
  return finish(raw, channels);
}

} // namespace

bool looksLikePng(const std::vector<uint8_t>& bytes) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= 8 && std::memcmp(bytes.data(), signature, 8) == 0;
}

bool looksLikeJpeg(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff;
}

DecodedImage decodeImage(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file) {
  if (channels != 1 && channels != 3) throw DataError(file, "images are decoded to 1 or 3 channels");
  if (looksLikePng(bytes)) return decodePng(bytes, channels, file);
  if (looksLikeJpeg(bytes)) return decodeJpeg(bytes, channels, file);
  if (bytes.empty()) throw DataError(file, "is empty; expected a PNG or JPEG image");
  throw DataError(file, "is neither a PNG nor a JPEG image (unknown signature)");
}

} // namespace distillery
