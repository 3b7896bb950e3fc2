#include "core/image_decoder.h"

#include "core/errors.h"

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

DecodedImage decodePng(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    throw DataError(file, std::string("not a readable PNG image (libpng: ") + image.message + ")");
  if (uint64_t(image.width) * uint64_t(image.height) > kMaxPixels) {
    png_image_free(&image);
    throw DataError(file, "PNG image of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                              " pixels is too large");
  }
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  DecodedImage out;
  out.height = image.height;
  out.width = image.width;
  out.channels = channels;
  out.pixels.assign(PNG_IMAGE_SIZE(image), 0); // zeros: transparent pixels end up black
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr))
    throw DataError(file, std::string("corrupt or unsupported PNG image (libpng: ") + image.message + ")");
  return out;
}

// libjpeg reports errors through a callback that must not return: it jumps
// back into decodeJpegC, which holds only plain C data across the jump.
struct JpegErrors {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr info) {
  auto* err = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

// A file cut short is only a warning to libjpeg, which fills the missing part
// with grey and carries on; here it is an error. Milder warnings (extraneous
// bytes between markers, common in real files) are tolerated.
void jpegMessage(j_common_ptr info, int level) {
  const int code = info->err->msg_code;
  if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)) jpegErrorExit(info);
}

struct JpegResult {
  unsigned char* pixels = nullptr; // malloc'ed
  int width = 0, height = 0;
};

// 0 on success; 1 with errors->message set; 2 when the image is too large.
int decodeJpegC(const unsigned char* data, unsigned long size, int channels, JpegErrors* errors, JpegResult* result) {
  jpeg_decompress_struct info;
  std::memset(&info, 0, sizeof info);
  unsigned char* volatile pixels = nullptr;
  info.err = jpeg_std_error(&errors->base);
  errors->base.error_exit = jpegErrorExit;
  errors->base.emit_message = jpegMessage;
  if (setjmp(errors->jump)) {
    jpeg_destroy_decompress(&info);
    std::free(pixels);
    return 1;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, size);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
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
  jpeg_destroy_decompress(&info);
  return 0;
}

DecodedImage decodeJpeg(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& file) {
  JpegErrors errors;
  std::memset(&errors, 0, sizeof errors);
  JpegResult result;
  const int status = decodeJpegC(bytes.data(), static_cast<unsigned long>(bytes.size()), int(channels), &errors, &result);
  if (status == 1) throw DataError(file, std::string("corrupt or unsupported JPEG image (libjpeg: ") + errors.message + ")");
  if (status == 2) throw DataError(file, "JPEG image is too large");
  DecodedImage out;
  out.height = result.height;
  out.width = result.width;
  out.channels = channels;
  out.pixels.assign(result.pixels, result.pixels + size_t(result.width) * size_t(result.height) * size_t(channels));
  std::free(result.pixels);
  return out;
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
