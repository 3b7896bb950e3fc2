// The teacher-output cache: computed once, reused, invalidated by any part of
// its key, never read half-written, and computed once under concurrency.
#include "core/methods/teacher_output_cache.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

using namespace distillery;

namespace {

TeacherCacheKey baseKey() {
  TeacherCacheKey k;
  k.teacher = "sha256:abc";
  k.data = "fnv1a64:0123";
  k.preprocessing = "scale=1/255 mean=0.286 std=0.353";
  k.samples = "train seed=0 limit=0 val=5000";
  return k;
}

// Deterministic "teacher": row r has logits depending on r only.
torch::Tensor fakeLogits(int64_t begin, int64_t end, int64_t classes) {
  auto rows = torch::arange(begin, end, torch::kFloat).unsqueeze(1);
  auto cols = torch::arange(0, classes, torch::kFloat).unsqueeze(0);
  return torch::sin(rows * 0.37 + cols * 1.3) * 3.0 + cols * 0.01;
}

} // namespace

class TestTeacherCache : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void computedOnceThenHit() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    int calls = 0;
    auto compute = [&](int64_t b, int64_t e) {
      ++calls;
      return fakeLogits(b, e, 10);
    };
    auto first = cache.getOrCompute(baseKey(), 1000, 10, compute, 300);
    QVERIFY(!first.hit);
    QCOMPARE(first.rows_computed, int64_t(1000));
    QCOMPARE(calls, 4); // chunks of 300
    auto second = cache.getOrCompute(baseKey(), 1000, 10, compute, 300);
    QVERIFY(second.hit);
    QCOMPARE(second.rows_computed, int64_t(0));
    QCOMPARE(calls, 4);

    auto idx = torch::tensor({0, 999, 17, 512}, torch::kLong);
    auto expected = fakeLogits(0, 1000, 10).index_select(0, idx);
    // Bit-exact fp32: the entry holds what the teacher returned.
    QVERIFY(torch::allclose(second.entry->logits(idx), expected, 0, 1e-6));
    QCOMPARE(second.entry->rows(), int64_t(1000));
    QVERIFY(second.entry->bytes() >= 1000 * 10 * 4);
  }

  // Issue 17 part 4: the teacher's compute time (only its calls, not the
  // writing) is measured when the entry is computed and kept beside it, so a
  // run that reuses the entry is charged what computing it cost.
  void computeTimeIsKeptBesideTheEntry() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    auto slow = [&](int64_t b, int64_t e) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      return fakeLogits(b, e, 10);
    };
    auto first = cache.getOrCompute(baseKey(), 1000, 10, slow, 250); // 4 calls, 30 ms each
    QVERIFY(!first.hit);
    QVERIFY2(first.teacher_seconds >= 0.12 && first.teacher_seconds < 5.0,
             qPrintable(QString::number(first.teacher_seconds)));
    const std::string side = TeacherOutputCache::costPath(first.entry->path());
    QVERIFY(QFile::exists(QString::fromStdString(side)));

    auto hit = cache.getOrCompute(baseKey(), 1000, 10, slow, 250);
    QVERIFY(hit.hit);
    QCOMPARE(hit.teacher_seconds, first.teacher_seconds); // the recorded figure, exactly

    // A side file for another row count, or none at all: unknown, not zero.
    {
      std::ofstream out(side, std::ios::trunc);
      out << "teacher_seconds=2.5\nrows=999\n";
    }
    QCOMPARE(cache.getOrCompute(baseKey(), 1000, 10, slow, 250).teacher_seconds, -1.0);
    QVERIFY(QFile::remove(QString::fromStdString(side)));
    auto old = cache.getOrCompute(baseKey(), 1000, 10, slow, 250);
    QVERIFY(old.hit);
    QCOMPARE(old.teacher_seconds, -1.0);
  }

  void anyKeyPartInvalidates() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    auto compute = [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); };
    QVERIFY(!cache.getOrCompute(baseKey(), 100, 10, compute).hit);
    std::vector<TeacherCacheKey> changed(5, baseKey());
    changed[0].teacher = "sha256:abd";
    changed[1].data = "fnv1a64:0124";
    changed[2].preprocessing = "scale=1/255 mean=0.5 std=0.5";
    changed[3].samples = "train seed=1 limit=0 val=5000";
    changed[4].format.fp16 = true;
    for (const auto& k : changed) {
      QVERIFY2(cache.entryPath(k) != cache.entryPath(baseKey()), k.text().c_str());
      QVERIFY2(!cache.getOrCompute(k, 100, 10, compute).hit, k.text().c_str());
    }
    QVERIFY(cache.getOrCompute(baseKey(), 100, 10, compute).hit);
  }

  void fp16IsCloseAndHalfTheSize() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    auto compute = [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); };
    auto full = cache.getOrCompute(baseKey(), 4096, 10, compute);
    TeacherCacheKey k = baseKey();
    k.format.fp16 = true;
    auto half = cache.getOrCompute(k, 4096, 10, compute);
    auto idx = torch::arange(0, 4096, torch::kLong);
    QVERIFY(torch::allclose(half.entry->logits(idx), full.entry->logits(idx), 0, 5e-3));
    QVERIFY(double(half.entry->bytes()) < 0.55 * double(full.entry->bytes()));
  }

  void topkKeepsTheTopProbabilitiesAndTheTailMass() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    auto compute = [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); };
    TeacherCacheKey k = baseKey();
    k.format.topk = 3;
    auto out = cache.getOrCompute(k, 50, 10, compute);
    auto idx = torch::arange(0, 50, torch::kLong);
    auto probs = torch::softmax(out.entry->logits(idx), 1);
    auto truth = torch::softmax(fakeLogits(0, 50, 10), 1);
    auto [top_truth, top_idx] = truth.topk(3, 1);
    // The three largest probabilities are exact, the rest share the remaining mass evenly.
    QVERIFY(torch::allclose(probs.gather(1, top_idx), top_truth, 1e-5, 1e-6));
    QVERIFY(torch::allclose(probs.sum(1), torch::ones({50}), 1e-5, 1e-5));
    auto tail = (1.0 - top_truth.sum(1)) / 7.0;
    auto mask = torch::ones_like(probs).scatter_(1, top_idx, 0.0).to(torch::kBool);
    auto tail_values = probs.masked_select(mask).view({50, 7});
    QVERIFY(torch::allclose(tail_values, tail.unsqueeze(1).expand({50, 7}), 1e-5, 1e-6));
  }

  void truncatedEntryIsRecomputed() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    auto compute = [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); };
    cache.getOrCompute(baseKey(), 200, 10, compute);
    const std::string path = cache.entryPath(baseKey());
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - 100);
    QVERIFY(!TeacherCacheEntry::open(path, baseKey()));
    auto again = cache.getOrCompute(baseKey(), 200, 10, compute);
    QVERIFY(!again.hit);
    QCOMPARE(int64_t(std::filesystem::file_size(path)), int64_t(size));
  }

  void foreignFileIsNotTrusted() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    const std::string path = cache.entryPath(baseKey());
    { std::ofstream(path) << "not a cache entry at all, but long enough to have a header....."; }
    QVERIFY(!TeacherCacheEntry::open(path, baseKey()));
    auto out = cache.getOrCompute(baseKey(), 10, 10, [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); });
    QVERIFY(!out.hit);
    QCOMPARE(out.entry->rows(), int64_t(10));
  }

  void parallelRunsComputeOnce() {
    QTemporaryDir dir;
    const std::string cache_dir = dir.path().toStdString();
    std::atomic<int> rows_computed{0};
    std::atomic<int> waited{0};
    std::atomic<bool> mismatch{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        TeacherOutputCache cache(cache_dir); // each run has its own object, as sweep threads do
        auto out = cache.getOrCompute(baseKey(), 2000, 10, [&](int64_t b, int64_t e) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20)); // a slow teacher
          return fakeLogits(b, e, 10);
        }, 250);
        rows_computed += int(out.rows_computed);
        if (out.waited) ++waited;
        auto idx = torch::arange(0, 2000, torch::kLong);
        // Vectorised sin may round the last bit differently by chunk size.
        if (!torch::allclose(out.entry->logits(idx), fakeLogits(0, 2000, 10), 0, 1e-6)) mismatch = true;
      });
    }
    for (auto& t : threads) t.join();
    QCOMPARE(rows_computed.load(), 2000); // one teacher pass, not four
    QVERIFY(!mismatch.load());
    // No temporary files left behind.
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(cache_dir)) {
      QVERIFY2(e.path().string().find(".tmp.") == std::string::npos, e.path().c_str());
      ++files;
    }
    QCOMPARE(files, 3); // the entry, its compute time (".cost") and its lock file
  }

  void unwritableDirectoryNamesIt() {
    // A path below a regular file fails even for root, who ignores permissions.
    QTemporaryDir dir;
    const std::string file = dir.filePath("plain-file").toStdString();
    { std::ofstream(file) << "x"; }
    TeacherOutputCache cache(file + "/cache");
    try {
      cache.getOrCompute(baseKey(), 10, 10, [](int64_t b, int64_t e) { return fakeLogits(b, e, 10); });
      QFAIL("expected an error");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find(file + "/cache") != std::string::npos, e.what());
    }
  }

  void wrongTeacherShapeIsAnError() {
    QTemporaryDir dir;
    TeacherOutputCache cache(dir.path().toStdString());
    try {
      cache.getOrCompute(baseKey(), 10, 10, [](int64_t b, int64_t e) { return fakeLogits(b, e, 7); });
      QFAIL("expected an error");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).find("expected [10, 10]") != std::string::npos, e.what());
    }
    QVERIFY(!std::filesystem::exists(cache.entryPath(baseKey())));
  }
};

QTEST_GUILESS_MAIN(TestTeacherCache)
#include "tst_teacher_cache.moc"
