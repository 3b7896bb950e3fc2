// The IDX reader and dataset loader: good files load, bad ones are rejected
// with a message naming the file and the fault.
#include "core/data/dataset.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace distillery;

class TestIdxReader : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

  // Asserts that reading throws a DataError whose message holds every fragment.
  void expectDataError(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
    try {
      fn();
    } catch (const DataError& e) {
      for (const auto& f : fragments)
        QVERIFY2(std::string(e.what()).find(f) != std::string::npos,
                 qPrintable(QString("message \"%1\" lacks \"%2\"").arg(e.what(), QString::fromStdString(f))));
      return;
    }
    QFAIL("no DataError thrown");
  }

private Q_SLOTS:
  void readsRawAndGzippedAlike() {
    std::vector<uint8_t> data(2 * 3 * 4);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7);
    auto bytes = testsupport::idxBytes({2, 3, 4}, data);
    testsupport::writeFile(path("a.idx"), bytes, false);
    testsupport::writeFile(path("a.idx.gz"), bytes, true);
    for (const char* name : {"a.idx", "a.idx.gz"}) {
      IdxArray a = readIdx(path(name));
      QCOMPARE(a.dims, (std::vector<int64_t>{2, 3, 4}));
      QCOMPARE(a.data, data);
    }
  }

  void rejectsWrongMagic() {
    auto bytes = testsupport::idxBytes({4}, {1, 2, 3, 4});
    bytes[0] = 0x12;
    testsupport::writeFile(path("magic.idx"), bytes, false);
    expectDataError([&] { readIdx(path("magic.idx")); }, {path("magic.idx"), "magic"});
    auto typed = testsupport::idxBytes({4}, {1, 2, 3, 4});
    typed[2] = 0x0D; // float elements: not what these datasets use
    testsupport::writeFile(path("type.idx"), typed, false);
    expectDataError([&] { readIdx(path("type.idx")); }, {path("type.idx"), "element type"});
  }

  void rejectsTruncatedData() {
    auto bytes = testsupport::idxBytes({10, 28, 28}, std::vector<uint8_t>(10 * 784, 5));
    bytes.resize(bytes.size() - 100);
    testsupport::writeFile(path("short.idx.gz"), bytes, true);
    expectDataError([&] { readIdx(path("short.idx.gz")); }, {path("short.idx.gz"), "truncated", "7840"});
    testsupport::writeFile(path("header.idx"), {0, 0, 8, 3, 0, 0}, false);
    expectDataError([&] { readIdx(path("header.idx")); }, {"truncated inside the IDX header"});
  }

  // Found while writing the fuzz target: 2^20 * 2^20 * 2^24 wraps a 64-bit
  // count to 0, which an empty body then "matched".
  void rejectsDimensionsWhoseProductOverflows() {
    const std::vector<uint8_t> header = {0, 0, 8, 4, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1};
    expectDataError([&] { parseIdx(header, "wrap.idx"); }, {"wrap.idx", "implausibly large"});
    // From memory as from a file: gzip handled by inflateIfGzipped.
    testsupport::writeFile(path("wrap.idx.gz"), header, true);
    expectDataError([&] { readIdx(path("wrap.idx.gz")); }, {path("wrap.idx.gz"), "implausibly large"});
  }

  // Two gzip members one after the other are one stream, as gunzip reads them.
  void readsConcatenatedGzipMembers() {
    const auto bytes = testsupport::idxBytes({3}, {7, 8, 9});
    testsupport::writeFile(path("head.gz"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + 5), true);
    testsupport::writeFile(path("tail.gz"), std::vector<uint8_t>(bytes.begin() + 5, bytes.end()), true);
    QFile head(dir_.filePath("head.gz")), tail(dir_.filePath("tail.gz"));
    QVERIFY(head.open(QIODevice::ReadOnly) && tail.open(QIODevice::ReadOnly));
    QByteArray joined = head.readAll() + tail.readAll();
    const std::vector<uint8_t> both(joined.begin(), joined.end());
    const IdxArray a = parseIdx(inflateIfGzipped(both, "both.gz"), "both.gz");
    QCOMPARE(a.data, (std::vector<uint8_t>{7, 8, 9}));
  }

  void rejectsTrailingBytes() {
    auto bytes = testsupport::idxBytes({3}, {1, 2, 3});
    bytes.push_back(9);
    testsupport::writeFile(path("long.idx"), bytes, false);
    expectDataError([&] { readIdx(path("long.idx")); }, {"1 unexpected bytes"});
  }

  void rejectsCorruptGzip() {
    auto bytes = testsupport::idxBytes({1000}, std::vector<uint8_t>(1000, 3));
    testsupport::writeFile(path("cut.gz"), bytes, true);
    // Chop the compressed stream in half: zlib must report it, not return short data silently.
    QFile f(dir_.filePath("cut.gz"));
    QVERIFY(f.open(QIODevice::ReadWrite));
    const qint64 size = f.size();
    QVERIFY(f.resize(size / 2));
    f.close();
    expectDataError([&] { readIdx(path("cut.gz")); }, {path("cut.gz")});
  }

  void reportsMissingFile() {
    expectDataError([&] { readIdx(path("nope.idx")); }, {path("nope.idx"), "not found"});
  }

  void loadsDatasetWithSplitsAndNormalisation() {
    QTemporaryDir data;
    testsupport::writeSyntheticDataset(data.path().toStdString(), 300, 50);
    DataConfig config;
    config.path = data.path().toStdString();
    config.val_size = 40;
    Dataset d = loadDataset(config, 7);
    QCOMPARE(d.train.size(), int64_t(260));
    QCOMPARE(d.val.size(), int64_t(40));
    QCOMPARE(d.test.size(), int64_t(50));
    QCOMPARE(d.train.x.sizes().vec(), (std::vector<int64_t>{260, 1, 28, 28}));
    QVERIFY(d.train.x.is_contiguous());
    // Bright pixels (255) map to (1 - mean) / std.
    QCOMPARE(d.train.x.max().item<float>(), float((1.0 - 0.2860) / 0.3530));
    QVERIFY(d.content_hash.rfind("fnv1a64:", 0) == 0);
    // Same seed, same split; another seed, another split.
    Dataset again = loadDataset(config, 7);
    QVERIFY(torch::equal(d.val.y, again.val.y) && torch::equal(d.val.x, again.val.x));
    Dataset other = loadDataset(config, 8);
    QVERIFY(!torch::equal(d.val.x, other.val.x));
    config.train_limit = 100;
    QCOMPARE(loadDataset(config, 7).train.size(), int64_t(60));
  }

  void rejectsMismatchedCounts() {
    QTemporaryDir data;
    const std::string dir = data.path().toStdString();
    testsupport::writeSyntheticDataset(dir, 100, 20);
    testsupport::writeFile(dir + "/train-labels-idx1-ubyte.gz", testsupport::idxBytes({99}, std::vector<uint8_t>(99, 1)),
                           true);
    DataConfig config;
    config.path = dir;
    config.val_size = 10;
    expectDataError([&] { loadDataset(config, 0); }, {"train-labels-idx1-ubyte.gz", "99 labels", "100 images"});
  }

  void reportsMissingDirectory() {
    DataConfig config;
    config.path = "/nonexistent/fashion";
    expectDataError([&] { loadDataset(config, 0); }, {"/nonexistent/fashion", "not found"});
  }

  void readsTheRealFashionMnistWhenInstalled() {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/t10k-labels-idx1-ubyte.gz")))
      QSKIP("dataset-fashion-mnist is not installed");
    IdxArray labels = readIdx(dir + "/t10k-labels-idx1-ubyte.gz");
    QCOMPARE(labels.dims, (std::vector<int64_t>{10000}));
    IdxArray images = readIdx(dir + "/t10k-images-idx3-ubyte.gz");
    QCOMPARE(images.dims, (std::vector<int64_t>{10000, 28, 28}));
  }
};

QTEST_APPLESS_MAIN(TestIdxReader)
#include "tst_idx_reader.moc"
