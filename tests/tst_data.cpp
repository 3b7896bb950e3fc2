// Dataset formats, preprocessing and augmentation: tiny CIFAR binaries, image
// folders and CSV tables written here load with the right shapes, labels and
// normalisation; each kind of bad input is rejected naming the file (and line
// and column for CSV); augmentations are exact and seeded; tiny runs finish.
#include "core/data/augmentation.h"
#include "core/data/cifar_reader.h"
#include "core/data/csv_table_reader.h"
#include "core/data/dataset.h"
#include "core/data/dataset_formats.h"
#include "core/data/dataset_readers.h"
#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/data/image_decoder.h"
#include "core/store/run_store.h"

#include <png.h>
// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>
#include <jpeglib.h>

#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <functional>

using namespace distillery;
using json = nlohmann::json;

namespace {

void writeBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::vector<uint8_t> readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A CIFAR record: label bytes, then the red, green and blue planes. Red holds
// 20 * class (learnable), green and blue fixed values (checkable).
void appendCifarRecord(std::vector<uint8_t>& out, const std::vector<uint8_t>& label_bytes, int cls) {
  out.insert(out.end(), label_bytes.begin(), label_bytes.end());
  out.insert(out.end(), 1024, uint8_t(20 * (cls % 10)));
  out.insert(out.end(), 1024, uint8_t(100));
  out.insert(out.end(), 1024, uint8_t(200));
}

// Five training batches of `per_batch` records and a test batch of `test` records;
// record i of a batch has label (i + batch) % 10.
void writeCifar10(const std::string& dir, int per_batch, int test) {
  QDir().mkpath(QString::fromStdString(dir));
  for (int b = 1; b <= 6; ++b) {
    std::vector<uint8_t> bytes;
    const int n = b <= 5 ? per_batch : test;
    for (int i = 0; i < n; ++i) appendCifarRecord(bytes, {uint8_t((i + b) % 10)}, (i + b) % 10);
    writeBytes(dir + (b <= 5 ? "/data_batch_" + std::to_string(b) + ".bin" : "/test_batch.bin"), bytes);
  }
}

// Record i: coarse label i % 20, fine label (3 * i) % 100.
void writeCifar100(const std::string& dir, int train, int test) {
  QDir().mkpath(QString::fromStdString(dir));
  for (const auto& [name, n] : {std::pair<std::string, int>{"train.bin", train}, {"test.bin", test}}) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < n; ++i) appendCifarRecord(bytes, {uint8_t(i % 20), uint8_t((3 * i) % 100)}, i);
    writeBytes(dir + "/" + name, bytes);
  }
}

// Pixels row-major, channels interleaved (1: grey, 3: RGB, 4: RGBA).
void writePng(const std::string& path, int w, int h, int channels, const std::vector<uint8_t>& pixels) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = png_uint_32(w);
  image.height = png_uint_32(h);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
  QVERIFY2(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr), image.message);
}

// A PNG through libpng's full API, for what the simplified one cannot write:
// 16-bit samples (given as values, written big-endian), bit depths below 8
// (packed rows given as bytes), a gAMA chunk, tRNS, interlacing.
struct PngSpec {
  int width = 0, height = 0, bit_depth = 8, colour_type = PNG_COLOR_TYPE_GRAY;
  std::vector<uint16_t> samples; // row-major, channels interleaved (bit depth 8 or 16)
  std::vector<uint8_t> packed;   // bit depths 1, 2, 4: the rows as stored
  png_fixed_point gamma = 0;     // gAMA in units of 1/100000; 0: no chunk
  bool interlaced = false;
  int transparent_grey = -1; // tRNS for a grey image
};

void writePngSpec(const std::string& path, const PngSpec& spec) {
  FILE* f = std::fopen(path.c_str(), "wb");
  QVERIFY(f);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    QFAIL("libpng could not write the test image");
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, png_uint_32(spec.width), png_uint_32(spec.height), spec.bit_depth, spec.colour_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (spec.gamma) png_set_gAMA_fixed(png, info, spec.gamma);
  if (spec.transparent_grey >= 0) {
    png_color_16 grey{};
    grey.gray = png_uint_16(spec.transparent_grey);
    png_set_tRNS(png, info, nullptr, 0, &grey);
  }
  png_write_info(png, info);
  const int channels = png_get_channels(png, info);
  std::vector<uint8_t> bytes = spec.packed;
  if (bytes.empty())
    for (uint16_t v : spec.samples) {
      if (spec.bit_depth == 16) bytes.push_back(uint8_t(v >> 8));
      bytes.push_back(uint8_t(v & 0xff));
    }
  const size_t stride = bytes.size() / size_t(spec.height);
  QCOMPARE(stride, size_t(png_get_rowbytes(png, info)));
  Q_UNUSED(channels);
  std::vector<png_bytep> rows;
  for (int y = 0; y < spec.height; ++y) rows.push_back(bytes.data() + size_t(y) * stride);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

// Deterministic pseudo-random samples in [0, max].
std::vector<uint16_t> noise(size_t n, uint32_t max, uint32_t seed) {
  std::vector<uint16_t> out;
  uint32_t state = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    out.push_back(uint16_t((state >> 8) % (max + 1)));
  }
  return out;
}

void writeJpeg(const std::string& path, int w, int h, int channels, const std::vector<uint8_t>& pixels) {
  FILE* f = std::fopen(path.c_str(), "wb");
  QVERIFY(f);
  jpeg_compress_struct info;
  jpeg_error_mgr err;
  info.err = jpeg_std_error(&err);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, f);
  info.image_width = JDIMENSION(w);
  info.image_height = JDIMENSION(h);
  info.input_components = channels;
  // Four channels: CMYK as stored; libjpeg marks the file as Adobe's, whose readers take it as inverted.
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 95, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + size_t(info.next_scanline) * size_t(w * channels);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(f);
}

std::vector<uint8_t> solid(int w, int h, const std::vector<uint8_t>& colour) {
  std::vector<uint8_t> out;
  for (int i = 0; i < w * h; ++i) out.insert(out.end(), colour.begin(), colour.end());
  return out;
}

DataConfig dataConfig(const json& data) { return RunConfig::fromJson({{"task", "train"}, {"model", {{"zoo", "mlp"}}}, {"data", data}}).data; }

// Asserts that fn throws an error of type E whose message holds every fragment.
template <typename E>
void expectError(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const E& e) {
    for (const auto& f : fragments)
      QVERIFY2(std::string(e.what()).find(f) != std::string::npos,
               qPrintable(QString("message \"%1\" lacks \"%2\"").arg(e.what(), QString::fromStdString(f))));
    return;
  } catch (const std::exception& e) {
    QFAIL(qPrintable(QString("wrong exception type: %1").arg(e.what())));
  }
  QFAIL("no exception thrown");
}

class SilentObserver : public RunObserver {};

// What PIL cannot write; image_reference.py decodes these too.
void writeCppReferenceImages(const std::string& dir) {
  PngSpec grey_gamma{4, 3, 8, PNG_COLOR_TYPE_GRAY, noise(12, 255, 1)};
  grey_gamma.samples[0] = 128;
  grey_gamma.gamma = 100000; // gamma 1.0: a decoder that applies it turns 128 into 186
  writePngSpec(dir + "/cpp_grey_gama.png", grey_gamma);
  PngSpec rgb_gamma{5, 2, 8, PNG_COLOR_TYPE_RGB, noise(30, 255, 2)};
  rgb_gamma.gamma = 45455;
  writePngSpec(dir + "/cpp_rgb_gama.png", rgb_gamma);
  PngSpec grey16{6, 2, 16, PNG_COLOR_TYPE_GRAY, noise(12, 65535, 3)};
  grey16.samples[0] = 128 * 257;
  grey16.gamma = 100000;
  writePngSpec(dir + "/cpp_grey16_gama.png", grey16);
  PngSpec rgb16{4, 3, 16, PNG_COLOR_TYPE_RGB, noise(36, 65535, 4)};
  rgb16.samples[0] = 128 * 257;
  writePngSpec(dir + "/cpp_rgb16.png", rgb16);
  writePngSpec(dir + "/cpp_rgba16.png", {3, 3, 16, PNG_COLOR_TYPE_RGB_ALPHA, noise(36, 65535, 5)});
  writePngSpec(dir + "/cpp_grey_alpha16.png", {3, 2, 16, PNG_COLOR_TYPE_GRAY_ALPHA, noise(12, 65535, 6)});
  PngSpec interlaced{9, 7, 8, PNG_COLOR_TYPE_RGB, noise(9 * 7 * 3, 255, 7)};
  interlaced.interlaced = true;
  writePngSpec(dir + "/cpp_rgb_interlaced.png", interlaced);
  PngSpec grey2{8, 2, 2, PNG_COLOR_TYPE_GRAY};
  grey2.packed = {0x1b, 0xe4, 0x6c, 0x93}; // every 2-bit value 0..3 in both rows
  writePngSpec(dir + "/cpp_grey2bit.png", grey2);
  PngSpec grey_trns{4, 2, 8, PNG_COLOR_TYPE_GRAY, {0, 50, 100, 150, 200, 250, 50, 50}};
  grey_trns.transparent_grey = 50;
  writePngSpec(dir + "/cpp_grey_trns.png", grey_trns);
  // CMYK as libjpeg writes it: with an Adobe marker, so readers invert the stored values.
  std::vector<uint8_t> cmyk;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      cmyk.insert(cmyk.end(), {uint8_t(255 - 10 * x), uint8_t(255 - 12 * y), uint8_t(60 + 5 * x), uint8_t(255 - 4 * (x + y))});
  writeJpeg(dir + "/cpp_cmyk.jpg", 16, 16, 4, cmyk);
}

} // namespace

class TestData : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }
  void mkdir(const std::string& name) const { QVERIFY(QDir().mkpath(QString::fromStdString(path(name)))); }

private Q_SLOTS:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  // ---- config ----------------------------------------------------------------------------

  void knownDatasetsBringTheirUsualNormalisation() {
    DataConfig fm = dataConfig({{"dataset", "fashion-mnist"}});
    QCOMPARE(fm.mean, std::vector<double>{0.2860});
    QCOMPARE(fm.std, std::vector<double>{0.3530});
    DataConfig c10 = dataConfig({{"dataset", "cifar10"}, {"path", "/x"}});
    QCOMPARE(c10.mean, (std::vector<double>{0.4914, 0.4822, 0.4465}));
    QCOMPARE(c10.std, (std::vector<double>{0.2470, 0.2435, 0.2616}));
    DataConfig c100 = dataConfig({{"dataset", "cifar100"}, {"path", "/x"}});
    QCOMPARE(c100.mean, (std::vector<double>{0.5071, 0.4865, 0.4409}));
    QCOMPARE(c100.labels, std::string("fine"));
    QVERIFY(dataConfig({{"dataset", "image-folder"}, {"path", "/x"}}).stats_from_train);
    // Views that switch the dataset get the same defaults as a parsed config.
    QCOMPARE(defaultDataConfig("cifar100").std, c100.std);
    QCOMPARE(defaultDataConfig("mnist").mean, std::vector<double>{0.1307});
    // The scalar form stays valid; a user's values replace the defaults.
    DataConfig given = dataConfig({{"dataset", "cifar10"}, {"path", "/x"}, {"mean", 0.5}, {"std", {0.1, 0.2, 0.3}}});
    QCOMPARE(given.mean, std::vector<double>{0.5});
    QCOMPARE(given.std, (std::vector<double>{0.1, 0.2, 0.3}));
  }

  void storedConfigHoldsTheEffectiveValues() {
    RunConfig c = RunConfig::fromJson({{"task", "train"}, {"model", {{"zoo", "mlp"}}},
                                       {"data", {{"dataset", "cifar10"}, {"path", "/x"},
                                                 {"augment", {{"random_crop_padding", 4}, {"horizontal_flip", true}}}}}});
    const json data = c.toJson()["data"];
    QCOMPARE(data["mean"], json({0.4914, 0.4822, 0.4465}));
    QCOMPARE(data["divide_by"], json(255.0));
    QCOMPARE(data["augment"]["random_crop_padding"], json(4));
    QVERIFY(c.data.hasAugmentation());
    QCOMPARE(RunConfig::fromJson(c.toJson()).toJson().dump(), c.toJson().dump());
    RunConfig csv = RunConfig::fromJson({{"task", "train"}, {"model", {{"zoo", "mlp"}}},
                                         {"data", {{"dataset", "csv"}, {"path", "/t.csv"}, {"label_column", "y"}}}});
    QVERIFY(!csv.data.hasAugmentation());
    QCOMPARE(csv.toJson()["data"]["mean"], json("train"));
    QCOMPARE(RunConfig::fromJson(csv.toJson()).toJson().dump(), csv.toJson().dump());
  }

  void badDataKeysNameTheirField() {
    auto field = [](const json& data) {
      try {
        dataConfig(data);
      } catch (const ConfigError& e) {
        return e.field();
      }
      return std::string("(accepted)");
    };
    QCOMPARE(field({{"dataset", "cifar10"}, {"path", "/x"}, {"mean", {0.1, 0.2}}}), std::string("data.mean"));
    QCOMPARE(field({{"dataset", "cifar10"}, {"path", "/x"}, {"mean", "train"}}), std::string("data.std"));
    QCOMPARE(field({{"dataset", "cifar10"}}), std::string("data.path"));
    QCOMPARE(field({{"dataset", "csv"}, {"path", "/t.csv"}}), std::string("data.label_column"));
    QCOMPARE(field({{"dataset", "csv"}, {"path", "/t.csv"}, {"label_column", "y"}, {"augment", {{"horizontal_flip", true}}}}),
             std::string("data.augment"));
    QCOMPARE(field({{"dataset", "cifar10"}, {"path", "/x"}, {"labels", "coarse"}}), std::string("data.labels"));
    QCOMPARE(field({{"dataset", "image-folder"}, {"path", "/x"}, {"channels", 2}}), std::string("data.channels"));
    QCOMPARE(field({{"augment", {{"vertical_flip", true}}}}), std::string("data.augment.vertical_flip"));
    QCOMPARE(field({{"val_size", 10}, {"val_fraction", 0.1}}), std::string("data.val_fraction"));
    QCOMPARE(field({{"std", {0.0}}}), std::string("data.std"));
  }

  // ---- CIFAR -----------------------------------------------------------------------------

  void cifar10LoadsWithShapesLabelsAndNormalisation() {
    const std::string dir = path("c10/cifar-10-batches-bin");
    writeCifar10(dir, 8, 6);
    writeText(dir + "/batches.meta.txt",
              "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    // The folder the archive was unpacked in works as well as the .bin folder itself.
    for (const std::string& p : {dir, path("c10")}) {
      Dataset d = loadDataset(dataConfig({{"dataset", "cifar10"}, {"path", p}, {"val_size", 10}}), 3);
      QCOMPARE(d.train.size() + d.val.size(), int64_t(40));
      QCOMPARE(d.val.size(), int64_t(10));
      QCOMPARE(d.test.size(), int64_t(6));
      QCOMPARE(d.shape.channels, int64_t(3));
      QCOMPARE(d.shape.height, int64_t(32));
      QCOMPARE(d.num_classes, int64_t(10));
      QCOMPARE(d.class_names.at(3), std::string("cat"));
      QCOMPARE(d.test.x.sizes().vec(), (std::vector<int64_t>{6, 3, 32, 32}));
      // Test record i has label (i + 6) % 10 and red = 20 * label, green 100, blue 200.
      for (int i = 0; i < 6; ++i) {
        const int label = (i + 6) % 10;
        QCOMPARE(d.test.y[i].item<int64_t>(), int64_t(label));
        QCOMPARE(d.test.x[i][0][5][7].item<float>(), float((20.0 * label / 255.0 - 0.4914) / 0.2470));
        QCOMPARE(d.test.x[i][1][31][0].item<float>(), float((100.0 / 255.0 - 0.4822) / 0.2435));
        QCOMPARE(d.test.x[i][2][0][31].item<float>(), float((200.0 / 255.0 - 0.4465) / 0.2616));
      }
      QVERIFY(d.content_hash.rfind("fnv1a64:", 0) == 0);
      QCOMPARE(d.summaryJson()["preprocessing"]["mean"], json({0.4914, 0.4822, 0.4465}));
    }
    // One changed pixel changes the hash.
    const std::string before = loadDataset(dataConfig({{"dataset", "cifar10"}, {"path", dir}, {"val_size", 10}}), 0).content_hash;
    auto bytes = readBytes(dir + "/data_batch_2.bin");
    bytes[100] ^= 1;
    writeBytes(dir + "/data_batch_2.bin", bytes);
    QVERIFY(loadDataset(dataConfig({{"dataset", "cifar10"}, {"path", dir}, {"val_size", 10}}), 0).content_hash != before);
  }

  void cifar100ReadsFineOrCoarseLabels() {
    const std::string dir = path("c100");
    writeCifar100(dir, 50, 30);
    Dataset fine = loadDataset(dataConfig({{"dataset", "cifar100"}, {"path", dir}, {"val_size", 5}}), 0);
    QCOMPARE(fine.num_classes, int64_t(100));
    QCOMPARE(fine.test.size(), int64_t(30));
    Dataset coarse =
        loadDataset(dataConfig({{"dataset", "cifar100"}, {"path", dir}, {"val_size", 5}, {"labels", "coarse"}}), 0);
    QCOMPARE(coarse.num_classes, int64_t(20));
    for (int i = 0; i < 30; ++i) {
      QCOMPARE(fine.test.y[i].item<int64_t>(), int64_t((3 * i) % 100));
      QCOMPARE(coarse.test.y[i].item<int64_t>(), int64_t(i % 20));
    }
    QCOMPARE(fine.test.x[0][2][3][3].item<float>(), float((200.0 / 255.0 - 0.4409) / 0.2762));
  }

  void badCifarFilesAreRejectedNamingTheFile() {
    const std::string dir = path("c10bad");
    writeCifar10(dir, 4, 4);
    const DataConfig config = dataConfig({{"dataset", "cifar10"}, {"path", dir}, {"val_size", 2}});
    auto bytes = readBytes(dir + "/data_batch_3.bin");
    bytes.resize(bytes.size() - 100);
    writeBytes(dir + "/data_batch_3.bin", bytes);
    expectError<DataError>([&] { loadDataset(config, 0); }, {"data_batch_3.bin", "3073-byte records"});
    writeCifar10(dir, 4, 4);
    bytes = readBytes(dir + "/test_batch.bin");
    bytes[2 * 3073] = 10; // the third record's label
    writeBytes(dir + "/test_batch.bin", bytes);
    expectError<DataError>([&] { loadDataset(config, 0); }, {"test_batch.bin", "record 2", "label 10"});
    writeCifar10(dir, 4, 4);
    QVERIFY(QFile::remove(QString::fromStdString(dir + "/data_batch_5.bin")));
    expectError<DataError>([&] { loadDataset(config, 0); }, {"data_batch_5.bin", "not found"});
    writeBytes(dir + "/data_batch_5.bin", {});
    expectError<DataError>([&] { loadDataset(config, 0); }, {"data_batch_5.bin", "empty"});

    const std::string dir100 = path("c100bad");
    writeCifar100(dir100, 10, 10);
    bytes = readBytes(dir100 + "/train.bin");
    bytes[1] = 100; // the first record's fine label
    writeBytes(dir100 + "/train.bin", bytes);
    expectError<DataError>([&] { loadDataset(dataConfig({{"dataset", "cifar100"}, {"path", dir100}, {"val_size", 2}}), 0); },
                           {"train.bin", "label 100", "0..99"});
    // A CIFAR-10 file is not a whole number of CIFAR-100 records.
    writeBytes(dir100 + "/train.bin", readBytes(dir + "/data_batch_1.bin"));
    expectError<DataError>([&] { loadDataset(dataConfig({{"dataset", "cifar100"}, {"path", dir100}, {"val_size", 2}}), 0); },
                           {"train.bin", "3074-byte records"});
    expectError<DataError>([&] { loadDataset(dataConfig({{"dataset", "cifar10"}, {"path", path("nowhere")}}), 0); },
                           {"nowhere", "not found"});
  }

  // ---- image folder ----------------------------------------------------------------------

  void imageFolderLoadsPngAndJpegResized() {
    const std::string root = "img";
    for (const char* d : {"img/train/cat", "img/train/dog", "img/test/cat", "img/test/dog"}) mkdir(d);
    // Training images of assorted sizes and kinds; all end up 3 x 8 x 8.
    writePng(path("img/train/cat/a.png"), 8, 8, 3, solid(8, 8, {250, 10, 10}));
    writePng(path("img/train/cat/b.PNG"), 16, 12, 1, solid(16, 12, {200}));
    writePng(path("img/train/cat/c.png"), 5, 5, 4, solid(5, 5, {255, 0, 0, 255}));
    writeJpeg(path("img/train/cat/d.jpg"), 10, 10, 3, solid(10, 10, {240, 20, 20}));
    writeText(path("img/train/cat/notes.txt"), "not an image, skipped");
    writePng(path("img/train/dog/a.png"), 8, 8, 3, solid(8, 8, {10, 10, 250}));
    writeJpeg(path("img/train/dog/b.jpeg"), 20, 9, 1, solid(20, 9, {30}));
    writePng(path("img/train/dog/c.png"), 9, 9, 3, solid(9, 9, {0, 40, 230}));
    writeJpeg(path("img/train/dog/d.jpg"), 8, 8, 3, solid(8, 8, {20, 0, 220}));
    // Test images, read in sorted order: cat (class 0) first, then dog.
    writePng(path("img/test/cat/one.png"), 16, 16, 3, solid(16, 16, {255, 0, 128}));
    writeJpeg(path("img/test/dog/two.jpg"), 8, 8, 1, solid(8, 8, {100}));

    Dataset d = loadDataset(dataConfig({{"dataset", "image-folder"}, {"path", path(root)}, {"image_size", 8},
                                        {"val_size", 2}, {"mean", 0.0}, {"std", 1.0}}),
                            0);
    QCOMPARE(d.class_names, (std::vector<std::string>{"cat", "dog"}));
    QCOMPARE(d.num_classes, int64_t(2));
    QCOMPARE(d.train.size() + d.val.size(), int64_t(8));
    QCOMPARE(d.test.size(), int64_t(2));
    QCOMPARE(d.train.x.sizes().vec(), (std::vector<int64_t>{6, 3, 8, 8}));
    QCOMPARE(d.test.y[0].item<int64_t>(), int64_t(0));
    QCOMPARE(d.test.y[1].item<int64_t>(), int64_t(1));
    // A solid PNG stays exact through resizing; a grey JPEG fills all three channels.
    auto cat = d.test.x[0];
    QCOMPARE(cat[0].min().item<float>(), 1.0f);
    QCOMPARE(cat[1].max().item<float>(), 0.0f);
    QCOMPARE(cat[2].max().item<float>(), float(128 / 255.0));
    auto dog = d.test.x[1];
    QVERIFY(std::abs(dog.mean().item<float>() - 100 / 255.0f) < 3 / 255.0f);
    QVERIFY(torch::equal(dog[0], dog[1]) && torch::equal(dog[1], dog[2]));

    // Grey output; statistics of the training split by default.
    Dataset grey = loadDataset(dataConfig({{"dataset", "image-folder"}, {"path", path(root)}, {"image_size", 4},
                                           {"channels", 1}, {"val_size", 0}}),
                               0);
    QCOMPARE(grey.train.x.sizes().vec(), (std::vector<int64_t>{8, 1, 4, 4}));
    QVERIFY(std::abs(grey.train.x.mean().item<double>()) < 1e-5);
    QVERIFY(std::abs(grey.train.x.std(/*unbiased=*/false).item<double>() - 1.0) < 1e-4);
    QCOMPARE(grey.summaryJson()["preprocessing"]["mean"].size(), size_t(1));

    // Moving an image to another class changes the hash.
    const std::string before = grey.content_hash;
    QVERIFY(QFile::rename(QString::fromStdString(path("img/train/dog/d.jpg")),
                          QString::fromStdString(path("img/train/cat/z.jpg"))));
    const DataConfig again = dataConfig({{"dataset", "image-folder"}, {"path", path(root)}, {"image_size", 4}, {"channels", 1}, {"val_size", 0}});
    QVERIFY(loadDataset(again, 0).content_hash != before);
  }

  void singleImageFolderHoldsOutAFixedTestSplit() {
    mkdir("pool/a");
    mkdir("pool/b");
    for (int i = 0; i < 10; ++i) {
      writePng(path("pool/a/" + std::to_string(i) + ".png"), 4, 4, 1, solid(4, 4, {uint8_t(i)}));
      writePng(path("pool/b/" + std::to_string(i) + ".png"), 4, 4, 1, solid(4, 4, {uint8_t(200 + i)}));
    }
    const json data = {{"dataset", "image-folder"}, {"path", path("pool")}, {"image_size", 4}, {"channels", 1},
                       {"test_fraction", 0.25}, {"val_fraction", 0.2}};
    Dataset one = loadDataset(dataConfig(data), 1);
    Dataset two = loadDataset(dataConfig(data), 2);
    QCOMPARE(one.test.size(), int64_t(5));
    QCOMPARE(one.val.size(), int64_t(3));
    QCOMPARE(one.train.size(), int64_t(12));
    // Another seed draws another validation split, but the same test split, and
    // the same normalisation: its statistics come from training and validation
    // samples together, which the seed does not change.
    QVERIFY(!torch::equal(one.val.x, two.val.x));
    QVERIFY(torch::equal(one.test.x, two.test.x));
    QVERIFY(torch::equal(one.test.y, two.test.y));
    QCOMPARE(one.normalisation.mean, two.normalisation.mean);
  }

  void badImageFoldersAreRejectedNamingTheFile() {
    mkdir("bad/train/x");
    mkdir("bad/train/y");
    writePng(path("bad/train/x/ok.png"), 4, 4, 3, solid(4, 4, {1, 2, 3}));
    writePng(path("bad/train/y/ok.png"), 4, 4, 3, solid(4, 4, {1, 2, 3}));
    const DataConfig config =
        dataConfig({{"dataset", "image-folder"}, {"path", path("bad")}, {"image_size", 4}, {"val_size", 0}});
    const Dataset fine = loadDataset(config, 0); // without test/, one of the two images is held out for testing
    QCOMPARE(fine.train.size(), int64_t(1));
    QCOMPARE(fine.test.size(), int64_t(1));

    // A PNG signature followed by garbage.
    std::vector<uint8_t> garbage{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3, 4, 5, 6, 7, 8, 9};
    writeBytes(path("bad/train/y/broken.png"), garbage);
    expectError<DataError>([&] { loadDataset(config, 0); }, {"broken.png", "PNG"});
    QVERIFY(QFile::remove(QString::fromStdString(path("bad/train/y/broken.png"))));

    // A JPEG cut in half.
    writeJpeg(path("bad/train/y/cut.jpg"), 32, 32, 3, solid(32, 32, {9, 99, 199}));
    auto bytes = readBytes(path("bad/train/y/cut.jpg"));
    bytes.resize(bytes.size() / 2);
    writeBytes(path("bad/train/y/cut.jpg"), bytes);
    expectError<DataError>([&] { loadDataset(config, 0); }, {"cut.jpg", "JPEG"});
    QVERIFY(QFile::remove(QString::fromStdString(path("bad/train/y/cut.jpg"))));

    writeText(path("bad/train/y/text.jpg"), "hello");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"text.jpg", "neither a PNG nor a JPEG"});
    QVERIFY(QFile::remove(QString::fromStdString(path("bad/train/y/text.jpg"))));

    mkdir("bad/train/z"); // a class without images
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad/train/z", "no PNG or JPEG"});
    QVERIFY(QDir(QString::fromStdString(path("bad/train/z"))).removeRecursively());

    mkdir("bad/test/w"); // a test class the training folder lacks
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad/test/w", "class \"w\""});

    mkdir("empty");
    expectError<DataError>(
        [&] { loadDataset(dataConfig({{"dataset", "image-folder"}, {"path", path("empty")}}), 0); },
        {"empty", "no class subfolders"});
    expectError<DataError>(
        [&] { loadDataset(dataConfig({{"dataset", "image-folder"}, {"path", path("missing")}}), 0); },
        {"missing", "not found"});
  }

  // ---- decoding as PyTorch users see it (PIL, torchvision.io) ---------------------------

  // Every pixel of PNGs and JPEGs written by PIL and by libpng/libjpeg (16-bit,
  // gAMA, alpha, palette with tRNS, 1- and 2-bit grey, interlaced, CMYK) against
  // tests/image_reference.py, which decodes them with PIL's convert("L"/"RGB").
  // PNGs match exactly; JPEGs within 1 (the same libjpeg, but PIL may pick
  // another IDCT or upsampling path), CMYK included.
  void decodedPixelsMatchPil() {
    if (testsupport::runPython({"-c", "import PIL, numpy"}).code != 0)
      QSKIP("/usr/bin/python3 cannot import PIL and numpy (install python3-pil python3-numpy)");
    mkdir("pilref");
    writeCppReferenceImages(path("pilref"));
    const testsupport::ProcessResult py = testsupport::runPython(
        {QStringLiteral(DISTILLERY_SOURCE_DIR) + "/tests/image_reference.py", QString::fromStdString(path("pilref"))});
    QVERIFY2(py.code == 0, qPrintable(py.err));
    const json ref = json::parse(py.out.toStdString());
    for (const char* name : {"cpp_grey_gama.png", "cpp_grey16_gama.png", "cpp_rgb16.png", "cpp_cmyk.jpg", "pil_rgb.png",
                             "pil_rgba.png", "pil_grey16.png", "pil_palette_trns.png", "pil_cmyk.jpg", "pil_rgb.jpg"})
      QVERIFY2(ref.contains(name), name);
    QCOMPARE(ref.size(), size_t(20));
    for (const auto& [name, r] : ref.items()) {
      const auto bytes = readBytes(path("pilref/" + name));
      const bool jpeg = name.size() > 4 && name.substr(name.size() - 4) == ".jpg";
      for (int64_t channels : {1, 3}) {
        const DecodedImage img = decodeImage(bytes, channels, name);
        QCOMPARE(img.width, r["width"].get<int64_t>());
        QCOMPARE(img.height, r["height"].get<int64_t>());
        const auto expected = r[channels == 1 ? "L" : "RGB"].get<std::vector<int>>();
        QCOMPARE(img.pixels.size(), expected.size());
        int worst = 0;
        size_t at = 0;
        for (size_t i = 0; i < expected.size(); ++i) {
          const int diff = std::abs(int(img.pixels[i]) - expected[i]);
          if (diff > worst) worst = diff, at = i;
        }
        QVERIFY2(worst <= (jpeg ? 1 : 0),
                 qPrintable(QString("%1 as %2 channel(s): sample %3 is %4, PIL gives %5 (mode %6)")
                                .arg(QString::fromStdString(name)).arg(channels).arg(at).arg(img.pixels[at])
                                .arg(expected[at]).arg(QString::fromStdString(r["mode"].get<std::string>()))));
      }
    }
  }

  // The issue's examples, with the values PIL gives (no Python needed).
  void issueExamplesDecodeAsPilDoes() {
    mkdir("examples");
    auto decode = [&](const std::string& name, int64_t channels) {
      return decodeImage(readBytes(path("examples/" + name)), channels, name).pixels;
    };
    // 16-bit grey 128 * 257 is 128, not (v / 65535)^(1 / 2.2) = 186.
    writePngSpec(path("examples/g16.png"), {1, 1, 16, PNG_COLOR_TYPE_GRAY, {128 * 257}});
    QCOMPARE(decode("g16.png", 1), std::vector<uint8_t>{128});
    // Pure red, green, blue to grey: ITU-R 601-2 luma, as for JPEGs.
    writePng(path("examples/rgb.png"), 3, 1, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255});
    QCOMPARE(decode("rgb.png", 1), (std::vector<uint8_t>{76, 150, 29}));
    // A gAMA chunk is ignored: grey 128 with gamma 1.0 stays 128.
    PngSpec gama{1, 1, 8, PNG_COLOR_TYPE_GRAY, {128}};
    gama.gamma = 100000;
    writePngSpec(path("examples/gama.png"), gama);
    QCOMPARE(decode("gama.png", 1), std::vector<uint8_t>{128});
    // Alpha is dropped, as PIL's convert("RGB"): half-transparent red is red.
    writePng(path("examples/rgba.png"), 1, 1, 4, {255, 0, 0, 128});
    QCOMPARE(decode("rgba.png", 3), (std::vector<uint8_t>{255, 0, 0}));
    // A CMYK JPEG decodes: Adobe-inverted C=0 M=255 Y=255 K=0 is red.
    writeJpeg(path("examples/cmyk.jpg"), 8, 8, 4, solid(8, 8, {255, 0, 0, 255}));
    const auto red = decode("cmyk.jpg", 3);
    QCOMPARE(red.size(), size_t(8 * 8 * 3));
    for (size_t i = 0; i < red.size(); i += 3)
      QVERIFY(red[i] >= 253 && red[i + 1] <= 2 && red[i + 2] <= 2);
  }

  // Files an image folder does not read are counted, with their reason, in the
  // run's log and in its summary (data.skipped); a CMYK JPEG among the images loads.
  void skippedImagesAreReportedInLogAndSummary() {
    for (const char* d : {"skip/train/cat", "skip/train/dog/persian", "skip/notes"}) mkdir(d);
    for (int i = 0; i < 5; ++i) {
      writePng(path("skip/train/cat/" + std::to_string(i) + ".png"), 4, 4, 3, solid(4, 4, {200, uint8_t(i), 10}));
      writePng(path("skip/train/dog/" + std::to_string(i) + ".png"), 4, 4, 3, solid(4, 4, {10, uint8_t(i), 200}));
    }
    writeJpeg(path("skip/train/dog/cmyk.jpg"), 8, 8, 4, solid(8, 8, {0, 0, 255, 255}));
    writeText(path("skip/train/cat/a.webp"), "RIFF");
    writeText(path("skip/train/dog/b.webp"), "RIFF");
    writeText(path("skip/train/cat/c.BMP"), "BM");
    writePng(path("skip/train/stray.png"), 4, 4, 3, solid(4, 4, {1, 2, 3}));
    writePng(path("skip/train/dog/persian/p.png"), 4, 4, 3, solid(4, 4, {1, 2, 3}));
    writePng(path("skip/notes/n.png"), 4, 4, 3, solid(4, 4, {1, 2, 3}));
    writeText(path("skip/train/cat/.DS_Store"), "hidden: ignored without a word");

    RunStore store(":memory:");
    SilentObserver observer;
    StopToken stop;
    RunConfig c = RunConfig::fromJson(
        {{"name", "skips"}, {"task", "train"},
         {"data", {{"dataset", "image-folder"}, {"path", path("skip")}, {"image_size", 4}, {"val_size", 1}}},
         {"model", {{"zoo", "mlp"}, {"hidden", {4}}}}, {"batch_size", 4}, {"epochs", 1}, {"device", "cpu"}});
    RunOutcome out = executeRun(store, queueRun(store, c), c, observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    QCOMPARE(out.summary["data"]["sizes"]["train"].get<int64_t>() + out.summary["data"]["sizes"]["val"].get<int64_t>() +
                 out.summary["data"]["sizes"]["test"].get<int64_t>(),
             int64_t(11));
    std::string warning;
    for (const LogEvent& e : store.logs(out.run_id))
      if (e.message.find("skipped") != std::string::npos) warning = e.level + ": " + e.message;
    for (const std::string& part : {std::string("warning: dataset ") + path("skip") + ": skipped 6 files: ",
                                    std::string("1 .bmp (unsupported format"), std::string("2 .webp (unsupported format"),
                                    std::string("1 in train/ itself (not in a class folder)"),
                                    std::string("1 in subfolders of class folders, e.g. train/dog/persian/p.png"),
                                    std::string("1 in notes/ (beside train/, val/ and test/)")})
      QVERIFY2(warning.find(part) != std::string::npos, qPrintable(QString::fromStdString("\"" + part + "\" not in: " + warning)));
    const json skipped = out.summary["data"]["skipped"];
    QCOMPARE(skipped["count"], json(6));
    std::map<std::string, int> by_reason;
    for (const auto& g : skipped["groups"]) by_reason[g["reason"].get<std::string>() + " " + g["group"].get<std::string>()] += g["count"].get<int>();
    QCOMPARE(by_reason, (std::map<std::string, int>{{"unsupported_format .webp", 2},
                                                   {"unsupported_format .bmp", 1},
                                                   {"not_in_class_folder train/", 1},
                                                   {"in_nested_folder ", 1},
                                                   {"outside_split_folders notes/", 1}}));
    QCOMPARE(skipped["groups"][0]["examples"], json({"train/cat/c.BMP"}));

    // Nothing skipped: nothing said, and the summary has no "skipped".
    for (const char* cls : {"a", "b"})
      for (int i = 0; i < 2; ++i) {
        mkdir(std::string("clean/") + cls);
        writePng(path(std::string("clean/") + cls + "/" + std::to_string(i) + ".png"), 4, 4, 1, solid(4, 4, {uint8_t(i)}));
      }
    Dataset clean = loadDataset(dataConfig({{"dataset", "image-folder"}, {"path", path("clean")}, {"image_size", 4},
                                            {"channels", 1}, {"val_size", 1}}),
                                0);
    QVERIFY(clean.skipped.empty());
    QVERIFY(!clean.summaryJson().contains("skipped"));
  }

  // ---- CSV -------------------------------------------------------------------------------

  void csvLoadsStringLabelsAsSortedClasses() {
    mkdir("tab");
    writeText(path("tab/train.csv"),
              "width,species,\"height, cm\"\r\n"
              "1.5,versicolor,10\r\n"
              "0.5,setosa,20\r\n"
              "\r\n"
              "2.5,virginica,30\r\n"
              "1.0,\"setosa\",40\r\n"
              "3.0,versicolor,50\r\n");
    writeText(path("tab/test.csv"), "width,species,\"height, cm\"\n7,virginica,-1\n8e-1,setosa,2\n");
    Dataset d = loadDataset(dataConfig({{"dataset", "csv"}, {"path", path("tab")}, {"label_column", "species"},
                                        {"val_size", 1}, {"mean", 0.0}, {"std", 1.0}}),
                            0);
    QCOMPARE(d.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    QCOMPARE(d.shape.numel(), int64_t(2));
    QCOMPARE(d.train.x.sizes().vec(), (std::vector<int64_t>{4, 2}));
    QCOMPARE(d.val.size(), int64_t(1));
    QCOMPARE(d.test.x.sizes().vec(), (std::vector<int64_t>{2, 2}));
    QCOMPARE(d.test.y[0].item<int64_t>(), int64_t(2));
    QCOMPARE(d.test.y[1].item<int64_t>(), int64_t(0));
    QCOMPARE(d.test.x[0][0].item<float>(), 7.0f);
    QCOMPARE(d.test.x[0][1].item<float>(), -1.0f);
    QCOMPARE(d.test.x[1][0].item<float>(), 0.8f);

    // Integer labels are class indices as they stand; features standardised on the training pool.
    writeText(path("ints.csv"), "a,b,label\n1,10,0\n2,20,2\n3,30,0\n4,40,2\n5,50,0\n6,60,2\n7,70,0\n8,80,2\n9,90,0\n10,100,2\n");
    Dataset ints = loadDataset(dataConfig({{"dataset", "csv"}, {"path", path("ints.csv")}, {"label_column", "label"}}), 0);
    QCOMPARE(ints.num_classes, int64_t(3));
    QCOMPARE(ints.test.size(), int64_t(2));
    QCOMPARE(ints.val.size(), int64_t(1));
    QCOMPARE(ints.train.size(), int64_t(7));
    auto pool = torch::cat({ints.train.x, ints.val.x}); // the statistics' source: training and validation samples
    auto mean = pool.mean(0), std = pool.std(0, /*unbiased=*/false);
    QVERIFY(mean.abs().max().item<float>() < 1e-5);
    QVERIFY((std - 1).abs().max().item<float>() < 1e-4);
    QCOMPARE(ints.normalisation.mean.size(), size_t(2));
    for (const auto& split : {ints.train, ints.val, ints.test}) {
      auto y = split.y;
      QVERIFY((y.eq(0) | y.eq(2)).all().item<bool>());
    }
  }

  void badCsvFilesNameFileLineAndColumn() {
    const DataConfig config = dataConfig({{"dataset", "csv"}, {"path", path("bad.csv")}, {"label_column", "label"}});
    writeText(path("bad.csv"), "a,b,kind\n1,2,x\n3,4,y\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "line 1", "no column named \"label\"", "a, b, kind"});
    writeText(path("bad.csv"), "a,b,label\n1,2,x\n3,abc,y\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "line 3", "column 2", "(\"b\")", "\"abc\" is not a number"});
    writeText(path("bad.csv"), "a,b,label\n1,2,x\n\n3,y\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "line 4 has 2 cells", "header has 3"});
    writeText(path("bad.csv"), "a,b,label\n1,2,x\n3,,y\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "line 3", "column 2", "empty cell"});
    writeText(path("bad.csv"), "a,b,label\n1,2,x\n3,\"4,y\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "line 3", "never closed"});
    writeText(path("bad.csv"), "a,b,label\n");
    expectError<DataError>([&] { loadDataset(config, 0); }, {"bad.csv", "no data rows"});
    mkdir("badtab");
    writeText(path("badtab/train.csv"), "a,label\n1,x\n2,y\n3,x\n4,y\n");
    writeText(path("badtab/test.csv"), "label,a\nx,1\n");
    expectError<DataError>(
        [&] { loadDataset(dataConfig({{"dataset", "csv"}, {"path", path("badtab")}, {"label_column", "label"}, {"val_size", 1}}), 0); },
        {"badtab/test.csv", "columns differ"});
    mkdir("notab");
    expectError<DataError>(
        [&] { loadDataset(dataConfig({{"dataset", "csv"}, {"path", path("notab")}, {"label_column", "label"}}), 0); },
        {"notab/train.csv", "not found"});
  }

  // Semicolons, tabs and pipes as separators (given, or sniffed with "auto"), and
  // header-less files whose label column is named by its 0-based index.
  void csvReadsOtherSeparatorsAndHeaderlessFiles() {
    mkdir("sep");
    auto write = [&](const std::string& name, const std::string& sep, bool header) {
      std::string text = header ? "a" + sep + "b" + sep + "kind\n" : "";
      for (int i = 0; i < 20; ++i) // the second class's name holds every separator, quoted
        text += std::to_string(i) + "." + std::to_string(i % 4) + sep + std::to_string(i * 3 % 7) + sep +
                (i % 3 ? "cat" : "\"d;o,g|\"") + "\n";
      writeText(path("sep/" + name), text);
    };
    write("comma.csv", ",", true);
    write("semi.csv", ";", true);
    write("tab.tsv", "\t", true);
    write("pipe.csv", "|", true);
    write("bare.csv", ",", false);
    write("bare_semi.csv", ";", false);
    auto load = [&](const std::string& file, const json& keys) {
      json data = {{"dataset", "csv"}, {"path", path("sep/" + file)}, {"val_size", 0}, {"mean", 0.0}, {"std", 1.0}};
      data.update(keys);
      return loadDataset(dataConfig(data), 0);
    };
    const Dataset ref = load("comma.csv", {{"label_column", "kind"}});
    QCOMPARE(ref.class_names, (std::vector<std::string>{"cat", "d;o,g|"}));
    QCOMPARE(ref.shape.numel(), int64_t(2));
    QCOMPARE(ref.train.size() + ref.test.size(), int64_t(20));
    auto same = [&](const Dataset& d) {
      return d.class_names == ref.class_names && torch::equal(d.train.x, ref.train.x) &&
             torch::equal(d.train.y, ref.train.y) && torch::equal(d.test.x, ref.test.x) && torch::equal(d.test.y, ref.test.y);
    };
    QVERIFY(same(load("semi.csv", {{"label_column", "kind"}, {"separator", ";"}})));
    QVERIFY(same(load("tab.tsv", {{"label_column", "kind"}, {"separator", "\t"}})));
    QVERIFY(same(load("tab.tsv", {{"label_column", "kind"}, {"separator", "tab"}})));
    QVERIFY(same(load("pipe.csv", {{"label_column", "kind"}, {"separator", "|"}})));
    for (const char* file : {"comma.csv", "semi.csv", "tab.tsv", "pipe.csv"})
      QVERIFY2(same(load(file, {{"label_column", "kind"}, {"separator", "auto"}})), file);
    QVERIFY(same(load("comma.csv", {{"label_column", 2}})));
    QVERIFY(same(load("bare.csv", {{"label_column", 2}, {"header", false}})));
    QVERIFY(same(load("bare.csv", {{"label_column", -1}, {"header", false}})));
    QVERIFY(same(load("bare_semi.csv", {{"label_column", -1}, {"header", false}, {"separator", "auto"}})));

    // The stored config keeps the index as a number and the separator as given.
    RunConfig c = RunConfig::fromJson({{"task", "train"}, {"model", {{"zoo", "mlp"}}},
                                       {"data", {{"dataset", "csv"}, {"path", "/t.tsv"}, {"label_column", -1},
                                                 {"header", false}, {"separator", "tab"}}}});
    QCOMPARE(c.toJson()["data"]["label_column"], json(-1));
    QCOMPARE(c.toJson()["data"]["separator"], json("\t"));
    QCOMPARE(c.toJson()["data"]["header"], json(false));
    QCOMPARE(RunConfig::fromJson(c.toJson()).toJson().dump(), c.toJson().dump());

    // A file read with the wrong separator says which one to set.
    writeText(path("sep/plain_semi.csv"), "a;b;kind\n1;2;x\n3;4;y\n");
    expectError<DataError>([&] { load("plain_semi.csv", {{"label_column", "kind"}}); },
                           {"plain_semi.csv", "no column named \"kind\"", "set data.separator", "\";\""});
    expectError<DataError>([&] { load("plain_semi.csv", {{"label_column", 1}}); },
                           {"plain_semi.csv", "data.label_column 1 is out of range", "\";\""});
    expectError<DataError>([&] { load("semi.csv", {{"label_column", "kind"}}); },
                           {"semi.csv", "line 2 has 2 cells", "set data.separator", "\";\""});
    expectError<DataError>([&] { load("bare.csv", {{"label_column", 3}, {"header", false}}); },
                           {"bare.csv", "data.label_column 3 is out of range", "3 columns", "0..2"});
    expectError<DataError>([&] { load("bare.csv", {{"label_column", -4}, {"header", false}}); },
                           {"bare.csv", "data.label_column -4 is out of range"});
  }

  void badCsvKeysNameTheirField() {
    auto field = [](const json& keys) {
      json data = {{"dataset", "csv"}, {"path", "/t.csv"}};
      data.update(keys);
      try {
        dataConfig(data);
      } catch (const ConfigError& e) {
        return e.field() + " | " + e.what();
      }
      return std::string("(accepted)");
    };
    auto check = [&](const json& keys, const std::string& expected_field, const std::string& fragment) {
      const std::string got = field(keys);
      QVERIFY2(got.rfind(expected_field + " | ", 0) == 0 && got.find(fragment) != std::string::npos,
               qPrintable(QString::fromStdString(keys.dump() + " gave " + got)));
    };
    check({{"label_column", "y"}, {"separator", "x"}}, "data.separator", "allowed: \",\", \";\"");
    check({{"label_column", "y"}, {"separator", ""}}, "data.separator", "unknown separator");
    check({{"label_column", "y"}, {"separator", 1}}, "data.separator", "expected");
    check({{"label_column", "y"}, {"header", "no"}}, "data.header", "expected");
    check({{"label_column", "y"}, {"header", false}}, "data.label_column", "0-based index");
    check({{"label_column", 1.5}}, "data.label_column", "column name or a 0-based column index");
    check({{"label_column", true}}, "data.label_column", "column name or a 0-based column index");
    check({{"header", false}}, "data.label_column", "0-based index");
    check({{"label_column", ""}}, "data.label_column", "required");
    QCOMPARE(field({{"label_column", 0}, {"header", false}, {"separator", ";"}}), std::string("(accepted)"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, dataConfig({{"dataset", "image-folder"}, {"path", "/x"}, {"separator", ";"}}));
    try {
      dataConfig({{"dataset", "mnist"}, {"header", false}});
      QFAIL("accepted data.header for mnist");
    } catch (const ConfigError& e) {
      QCOMPARE(e.field(), std::string("data.header"));
    }
  }

  // ---- augmentation ----------------------------------------------------------------------

  void flipIsAnExactMirror() {
    auto x = torch::arange(2 * 3 * 4 * 5, torch::kFloat32).view({2, 3, 4, 5});
    auto out = flipWhere(x, torch::tensor({1, 0}));
    for (int64_t col = 0; col < 5; ++col) QVERIFY(torch::equal(out[0].select(2, col), x[0].select(2, 4 - col)));
    QVERIFY(torch::equal(out[1], x[1]));
  }

  void cropKeepsShapeAndShiftsContent() {
    auto x = torch::rand({3, 2, 6, 7});
    const std::vector<double> fill{-1.0, -2.0};
    // Offset (p, p) is the unshifted image.
    QVERIFY(torch::equal(cropPadded(x, 2, fill, torch::full({3}, 2, torch::kLong), torch::full({3}, 2, torch::kLong)), x));
    // Offset (0, 2p): content moves down by p and left by p; the uncovered border holds the fill.
    auto out = cropPadded(x, 2, fill, torch::zeros({3}, torch::kLong), torch::full({3}, 4, torch::kLong));
    QCOMPARE(out.sizes().vec(), x.sizes().vec());
    QVERIFY(torch::equal(out.slice(2, 2).slice(3, 0, 5), x.slice(2, 0, 4).slice(3, 2)));
    QVERIFY(out.select(1, 0).slice(1, 0, 2).eq(-1.0).all().item<bool>());
    QVERIFY(out.select(1, 1).slice(2, 5).eq(-2.0).all().item<bool>());
  }

  void augmentationIsSeededPerStep() {
    AugmentConfig config;
    config.random_crop_padding = 3;
    config.horizontal_flip = true;
    auto x = torch::rand({32, 3, 8, 8});
    BatchAugmenter a(config, {0.0, 0.0, 0.0}, 7), b(config, {0.0, 0.0, 0.0}, 7), other(config, {0.0, 0.0, 0.0}, 8);
    auto first = a.apply(x, 5);
    QCOMPARE(first.sizes().vec(), x.sizes().vec());
    QVERIFY(torch::equal(first, b.apply(x, 5)));     // same seed and step: same batch
    QVERIFY(torch::equal(first, a.apply(x, 5)));     // independent of what was drawn before
    QVERIFY(!torch::equal(first, a.apply(x, 6)));    // the next step draws anew
    QVERIFY(!torch::equal(first, other.apply(x, 5))); // so does another seed
    QVERIFY(!torch::equal(first, x));
  }

  // ---- end to end ------------------------------------------------------------------------

  void tinyRunsOnCifarAndCsvFinish() {
    const std::string cifar = path("e2e/cifar");
    writeCifar10(cifar, 40, 20);
    RunStore store(":memory:");
    SilentObserver observer;
    StopToken stop;
    RunConfig c = RunConfig::fromJson(
        {{"name", "cifar-tiny"}, {"task", "train"},
         {"data", {{"dataset", "cifar10"}, {"path", cifar}, {"val_size", 20},
                   {"augment", {{"random_crop_padding", 4}, {"horizontal_flip", true}}}}},
         {"model", {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}}},
         {"batch_size", 32}, {"epochs", 2}, {"seed", 1}, {"device", "cpu"}, {"log_every", 2}});
    RunOutcome out = executeRun(store, queueRun(store, c), c, observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    QCOMPARE(out.summary["input_shape"], json({3, 32, 32}));
    QCOMPARE(out.summary["dataset_hash"].get<std::string>(), loadDataset(c.data, 1).content_hash);
    // The stored config carries the normalisation the model was trained with.
    const json stored = json::parse(store.run(out.run_id)->config_json);
    QCOMPARE(stored["data"]["mean"], json({0.4914, 0.4822, 0.4465}));

    writeText(path("e2e/table.csv"), [] {
      std::string text = "x1,x2,x3,cls\n";
      for (int i = 0; i < 120; ++i) {
        const char* cls[] = {"low", "mid", "high"};
        text += std::to_string(i % 3 * 10 + i % 7) + "," + std::to_string(i % 5) + "," + std::to_string(i) + "," +
                cls[i % 3] + "\n";
      }
      return text;
    }());
    RunConfig t = RunConfig::fromJson(
        {{"name", "csv-tiny"}, {"task", "train"},
         {"data", {{"dataset", "csv"}, {"path", path("e2e/table.csv")}, {"label_column", "cls"}}},
         {"model", {{"zoo", "mlp"}, {"hidden", {16}}}},
         {"optim", {{"lr", 0.01}}}, {"batch_size", 16}, {"epochs", 3}, {"seed", 0}, {"device", "cpu"}});
    RunOutcome tab = executeRun(store, queueRun(store, t), t, observer, stop);
    QVERIFY2(tab.kind == RunOutcome::Kind::Success, tab.message.c_str());
    QCOMPARE(tab.summary["num_classes"], json(3));
    QCOMPARE(tab.summary["input_shape"], json({1, 1, 3}));
  }
  // Issue 16 item 4: every format of the table has a reader, and every reader
  // belongs to a format of the table (a misspelt name in either is caught here).
  void everyFormatHasAReader() {
    for (const DatasetFormat& f : datasetFormats())
      QVERIFY2(findDatasetReader(f.name) != nullptr, ("no reader for dataset format " + f.name).c_str());
    for (const DatasetReaderEntry& r : datasetReaders()) {
      QVERIFY2(findDatasetFormat(r.format) != nullptr, ("a reader for " + r.format + ", which is no format").c_str());
      QVERIFY(r.read != nullptr);
    }
    QCOMPARE(datasetReaders().size(), datasetFormats().size());
  }
};

QTEST_APPLESS_MAIN(TestData)
#include "tst_data.moc"
