// Issue 18, part 3 (the haystack): spotting a distiller among API users from
// the teacher server's request log. The Shapiro-Wilk test against scipy, PRADA
// on hand-made sketch sequences, and `distillery-cli audit-log` on a log that
// a real `distillery-cli serve` wrote while an honest client and two
// extraction clients talked to it over HTTP.
#include "core/base/base64.h"
#include "core/base/errors.h"
#include "core/data/idx_reader.h"
#include "core/forensics/log_audit.h"
#include "core/forensics/prada.h"
#include "core/serve/request_log.h"
#include "core/forensics/shapiro_wilk.h"
#include "test_support.h"

#include <httplib.h>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>

using namespace distillery;
using json = nlohmann::json;

namespace {

const char* kFashion = "/usr/share/datasets/fashion-mnist";
const char* kHonest = "honest-secret-0001";
const char* kDupes = "dupes-secret-0002";
const char* kNoise = "noise-secret-0003";

// A normal variate from two uniforms (Box-Muller): the samples are ours, not the library's.
double normal(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double a = 1.0 - u(rng), b = u(rng);
  return std::sqrt(-2.0 * std::log(a)) * std::cos(2.0 * M_PI * b);
}

InputSketch sketchOf(const std::vector<double>& cells) {
  InputSketch s;
  s.height = 8;
  s.width = 8;
  for (double v : cells) s.cells.push_back(float(v));
  return s;
}

std::string hexId(int i) { return "sha-" + std::to_string(i); }

// Natural-image-like: unrelated images, as an honest user's are: each sketch
// an independent draw around the same mean picture (an 8x8 gradient).
std::vector<PradaQuery> naturalSequence(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<PradaQuery> out;
  for (int k = 0; k < n; ++k) {
    std::vector<double> cells;
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) cells.push_back(60 + 10 * i + 5 * j + 30 * normal(rng));
    out.push_back({hexId(k), sketchOf(cells)});
  }
  return out;
}

// Synthetic: a few natural seeds, then each query a small perturbation of an
// earlier one (what Jacobian augmentation or an active learner's steps send).
std::vector<PradaQuery> nearDuplicateSequence(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<PradaQuery> out = naturalSequence(4, seed + 100);
  for (int k = int(out.size()); k < n; ++k) {
    const InputSketch& from = out[size_t(std::uniform_int_distribution<int>(0, k - 1)(rng))].sketch;
    std::vector<double> cells;
    for (float v : from.cells) cells.push_back(v + 1.5 * normal(rng));
    out.push_back({hexId(1000 + k), sketchOf(cells)});
  }
  return out;
}

std::string writeJsonFile(const QTemporaryDir& dir, const QString& name, const json& j) {
  QFile f(dir.filePath(name));
  if (!f.open(QIODevice::WriteOnly)) return {};
  f.write(QByteArray::fromStdString(j.dump(2)));
  return f.fileName().toStdString();
}

} // namespace

class TestForensicsHaystack : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString db() const { return dir_.filePath("runs.sqlite"); }

private Q_SLOTS:
  // ---- the Shapiro-Wilk test -------------------------------------------------------------

  void shapiroWilkMatchesScipy() {
    // Normal, uniform and exponential samples at n = 3, 20, 500, 5000, plus a
    // few small n where Royston's n <= 11 branch and the n <= 5 coefficients apply.
    std::mt19937_64 rng(18);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<std::vector<double>> samples;
    std::vector<std::string> names;
    for (int n : {3, 4, 5, 7, 11, 12, 20, 500, 5000}) {
      for (const std::string kind : {"normal", "uniform", "exponential"}) {
        std::vector<double> s;
        for (int i = 0; i < n; ++i) {
          if (kind == "normal") s.push_back(3.0 + 2.0 * normal(rng));
          else if (kind == "uniform") s.push_back(uniform(rng));
          else s.push_back(-std::log(1.0 - uniform(rng)));
        }
        samples.push_back(s);
        names.push_back(kind + " n=" + std::to_string(n));
      }
    }
    const std::string path = writeJsonFile(dir_, "sw_samples.json", samples);
    const auto r = testsupport::runPython({QString(DISTILLERY_SOURCE_DIR "/tests/shapiro_reference.py"),
                                           QString::fromStdString(path)});
    if (r.code != 0 && r.err.contains("No module named 'scipy'")) QSKIP("/usr/bin/python3 has no scipy (python3-scipy)");
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json ref = json::parse(r.out.toStdString());
    QCOMPARE(ref["w"].size(), samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      const ShapiroWilk sw = shapiroWilk(samples[i]);
      const double w = ref["w"][i], p = ref["p"][i];
      QVERIFY2(std::abs(sw.w - w) < 1e-4,
               qPrintable(QString("%1: W %2, scipy %3").arg(names[i].c_str()).arg(sw.w, 0, 'g', 10).arg(w, 0, 'g', 10)));
      // Royston's p-value, from scipy's own W, as scipy computes it (its
      // Fortran works in single precision: 1e-4 absolute or 0.1% relative).
      const double p_of_w = shapiroWilkPValue(w, samples[i].size());
      QVERIFY2(std::abs(p_of_w - p) < std::max(1e-4, 1e-3 * p),
               qPrintable(QString("%1: p(W) %2, scipy %3").arg(names[i].c_str()).arg(p_of_w, 0, 'g', 10).arg(p, 0, 'g', 10)));
      // Our own W's p: at n = 5000, 1 - W is ~3e-4 and p moves by percents
      // with W's seventh digit, where single and double precision part.
      QVERIFY2(std::abs(sw.p - p) < std::max(1e-3, 0.03 * p),
               qPrintable(QString("%1: p %2, scipy %3").arg(names[i].c_str()).arg(sw.p, 0, 'g', 10).arg(p, 0, 'g', 10)));
    }
    // And the test means something: the exponential samples at n = 500 are far from normal, the normal ones not.
    QVERIFY(shapiroWilk(samples[size_t(7 * 3 + 2)]).p < 1e-6);
    QVERIFY(shapiroWilk(samples[size_t(7 * 3)]).p > 1e-3);
  }

  void shapiroWilkRefusesWhatItCannotTest() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, shapiroWilk({1.0, 2.0}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, shapiroWilk(std::vector<double>(5001, 1.0)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, shapiroWilk({2.0, 2.0, 2.0, 2.0}));
  }

  // ---- PRADA on hand-made sketches -------------------------------------------------------

  void pradaFlagsNearDuplicatesNotNaturalImages() {
    PradaOptions options;
    options.delta = 0.8;
    options.min_distances = 50; // W of a few dozen natural distances still swings widely
    for (uint64_t seed : {1u, 2u, 3u}) {
      const PradaTrace natural = pradaTrace(naturalSequence(200, seed), options);
      QCOMPARE(natural.queries, int64_t(200));
      QCOMPARE(natural.distances.size(), size_t(199));
      QVERIFY2(natural.flagged_after == 0, qPrintable(QString("seed %1: natural flagged after %2, min W %3")
                                                          .arg(seed).arg(natural.flagged_after).arg(natural.min_w)));
      QVERIFY2(natural.w > 0.9, qPrintable(QString("natural W %1").arg(natural.w)));
      const PradaTrace synthetic = pradaTrace(nearDuplicateSequence(200, seed), options);
      QVERIFY2(synthetic.flagged_after > 0 && synthetic.flagged_after <= 60,
               qPrintable(QString("seed %1: synthetic flagged after %2, W %3").arg(seed).arg(synthetic.flagged_after).arg(synthetic.w)));
      QVERIFY(synthetic.w < 0.6);
    }
  }

  void pradaCountsExactRepeatsApart() {
    // The same natural sequence with every fifth query sent again: repeats are
    // counted and leave the distances (and so W) as they were.
    const auto plain = naturalSequence(100, 7);
    std::vector<PradaQuery> repeated;
    for (size_t i = 0; i < plain.size(); ++i) {
      repeated.push_back(plain[i]);
      if (i % 5 == 0) repeated.push_back(plain[i]);
    }
    const PradaTrace a = pradaTrace(plain), b = pradaTrace(repeated);
    QCOMPARE(b.queries, int64_t(120));
    QCOMPARE(b.distinct, int64_t(100));
    QCOMPARE(b.exact_repeats, int64_t(20));
    QCOMPARE(b.distances, a.distances);
    QCOMPARE(b.w, a.w);
    // The minimum distance is to the nearest earlier query, not the previous one.
    std::vector<PradaQuery> three = {{"a", sketchOf(std::vector<double>(64, 0.0))},
                                     {"b", sketchOf(std::vector<double>(64, 10.0))},
                                     {"c", sketchOf(std::vector<double>(64, 1.0))}};
    const PradaTrace t = pradaTrace(three);
    QCOMPARE(t.distances.size(), size_t(2));
    QCOMPARE(t.distances[0], 80.0); // sqrt(64 * 100)
    QCOMPARE(t.distances[1], 8.0);  // to "a", not to "b" (72)
  }

  // ---- the streaming audit (the traffic panel's) against the batch one ------------------

  void streamingAuditMatchesBatch() {
    // A log written in five bursts, read after each by one LogAuditStream: two
    // keys interleaved, batches of 1-3, exact repeats, refusals and a request
    // without a key. After the last read its audit must be auditRequestLog's on
    // the whole log, and each query's W and shift score what the batch traces
    // give on the key's queries up to it.
    const std::string path = dir_.filePath("stream-log.sqlite").toStdString();
    ShiftReference ref;
    for (auto& q : naturalSequence(300, 99)) ref.train.push_back(q.sketch);
    std::vector<InputSketch> tests;
    for (auto& q : naturalSequence(50, 98)) tests.push_back(q.sketch);
    ref.test_mean_nn = meanNearestDistance(tests, ref.train);
    ref.test_images = 50;
    const auto shared = std::make_shared<const ShiftReference>(ref);

    const auto natural = naturalSequence(300, 11); // more than the bursts send
    const auto steps = nearDuplicateSequence(300, 12);
    std::map<std::string, std::vector<PradaQuery>> sent;
    RequestLog log(path);
    LogAuditStream stream(path, shared);
    std::mt19937_64 rng(3);
    size_t n = 0, s = 0;
    int64_t time = 0;
    auto request = [&](const std::string& key, int status, const std::vector<PradaQuery>& qs) {
      LoggedRequest r;
      r.time_ms = ++time;
      r.key = key;
      r.method = "POST";
      r.path = "/v1/classify";
      r.status = status;
      r.batch = status == 200 ? int64_t(qs.size()) : 0;
      for (const auto& q : qs) r.inputs.push_back({q.sha256, q.sketch});
      log.append(r);
      if (status == 200 && !key.empty()) sent[key].insert(sent[key].end(), qs.begin(), qs.end());
    };
    for (int burst = 0; burst < 5; ++burst) {
      for (int k = 0; k < 25; ++k) {
        const int count = std::uniform_int_distribution<int>(1, 3)(rng);
        std::vector<PradaQuery> a, b;
        for (int i = 0; i < count && n < natural.size(); ++i) a.push_back(natural[n++]);
        if (k % 7 == 3 && n > 5) a.push_back(natural[n - 5]); // sent again
        for (int i = 0; i < count && s < steps.size(); ++i) b.push_back(steps[s++]);
        request("natural", 200, a);
        request("steps", 200, b);
        if (k % 9 == 0) request("steps", 402, b); // refused: not a query
        if (k % 11 == 0) request("", 401, {});
      }
      const auto grown = stream.readNew();
      QCOMPARE(grown, (std::vector<std::string>{"natural", "steps"}));
      QVERIFY(stream.readNew().empty()); // nothing new: nothing read twice
    }

    const std::vector<KeyAudit> batch = auditRequestLog(path, &ref);
    const std::vector<KeyAudit> streamed = stream.audits();
    QCOMPARE(streamed.size(), size_t(2));
    QCOMPARE(batch.size(), streamed.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const KeyAudit &b = batch[i], &t = streamed[i];
      QCOMPARE(t.key, b.key);
      QCOMPARE(t.requests, b.requests);
      QCOMPARE(t.prada.queries, b.prada.queries);
      QCOMPARE(t.prada.distinct, b.prada.distinct);
      QCOMPARE(t.prada.exact_repeats, b.prada.exact_repeats);
      QCOMPARE(t.prada.distances, b.prada.distances);
      QCOMPARE(t.prada.w, b.prada.w);
      QCOMPARE(t.prada.p, b.prada.p);
      QCOMPARE(t.prada.min_w, b.prada.min_w);
      QCOMPARE(t.prada.flagged_after, b.prada.flagged_after);
      QCOMPARE(t.shift, b.shift);
      QCOMPARE(t.shift_flagged_after, b.shift_flagged_after);
      QCOMPARE(t.verdict, b.verdict);
      QCOMPARE(t.prada.queries, int64_t(sent[t.key].size()));

      // Per query, against the batch traces of the prefixes.
      const auto* scores = stream.scores(t.key);
      QVERIFY(scores);
      QCOMPARE(scores->w.size(), sent[t.key].size());
      QCOMPARE(scores->shift.size(), sent[t.key].size());
      for (size_t q = 0; q < sent[t.key].size(); q += 7) {
        const std::vector<PradaQuery> prefix(sent[t.key].begin(), sent[t.key].begin() + std::ptrdiff_t(q + 1));
        const PradaTrace p = pradaTrace(prefix);
        if (p.w < 0) QVERIFY2(std::isnan(scores->w[q]), qPrintable(QString("%1 query %2").arg(t.key.c_str()).arg(q)));
        else QCOMPARE(scores->w[q], p.w);
        std::vector<InputSketch> sketches;
        for (const auto& x : prefix) sketches.push_back(x.sketch);
        QCOMPARE(scores->shift[q], shiftTrace(sketches, ref, 1.5, 20).score);
      }
    }
    // The honest-looking key and the one that steps from a few seeds part as they should.
    QCOMPARE(streamed[0].verdict, std::string("honest-looking"));
    QVERIFY(streamed[0].prada.exact_repeats > 0);
    QCOMPARE(streamed[1].verdict, std::string("extraction?"));
    QVERIFY(stream.scores("nobody") == nullptr);
  }

  // ---- audit-log on a log a real server wrote --------------------------------------------

  void auditLogFlagsAttackersNotTheHonestKey() {
    if (!std::filesystem::exists(std::string(kFashion) + "/t10k-images-idx3-ubyte.gz"))
      QSKIP("Fashion-MNIST is not in /usr/share/datasets/fashion-mnist");
    // A tiny teacher on the synthetic dataset (the server only needs 1x28x28 inputs).
    const QString data = dir_.filePath("data");
    QVERIFY(QDir().mkpath(data));
    testsupport::writeSyntheticDataset(data.toStdString(), 600, 100);
    const json run = {{"name", "teacher"}, {"task", "train"},
                      {"data", {{"path", data.toStdString()}, {"val_size", 100}}},
                      {"model", {{"zoo", "mlp"}, {"hidden", {16}}}},
                      {"optim", {{"name", "adam"}, {"lr", 0.003}}},
                      {"batch_size", 64}, {"epochs", 1}, {"seed", 0}, {"device", "cpu"}};
    auto r = testsupport::runCli({"run", QString::fromStdString(writeJsonFile(dir_, "run.json", run)), "--db", db()});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const std::string log = dir_.filePath("requests.sqlite").toStdString();
    json keys = json::array();
    for (const auto& [name, key] : {std::pair{"honest", kHonest}, {"dupes", kDupes}, {"noise", kNoise}})
      keys.push_back({{"name", name}, {"key", key}, {"budget", 100000}, {"rate_per_s", 100000}, {"burst", 100000}});
    const json config = {{"keys", keys}, {"max_batch", 16}, {"output", {{"mode", "label"}}}, {"log", log}};

    auto server = testsupport::startServe(
        DISTILLERY_CLI, {"1", "--config", QString::fromStdString(writeJsonFile(dir_, "serve.json", config)), "--db", db()});
    const int port = server->port;
    QVERIFY(port > 0);

    const IdxArray test = readIdx(std::string(kFashion) + "/t10k-images-idx3-ubyte.gz");
    auto image = [&](int i) {
      return std::string(reinterpret_cast<const char*>(test.data.data()) + size_t(i) * 784, 784);
    };
    httplib::Client client("127.0.0.1", port);
    auto send = [&](const char* key, const std::vector<std::string>& images) {
      std::string bytes;
      for (const auto& im : images) bytes += im;
      const json body = {{"dtype", "uint8"}, {"shape", {int(images.size()), 1, 28, 28}}, {"data", encodeBase64(bytes)}};
      auto res = client.Post("/v1/classify", {{"Authorization", std::string("Bearer ") + key}}, body.dump(), "application/json");
      return res && res->status == 200;
    };
    std::mt19937_64 rng(5);
    // Honest: 150 test images, one or a few at a time, with some sent twice.
    std::vector<int> seen;
    for (int k = 0; k < 120; ++k) {
      std::vector<std::string> batch;
      const int count = k % 10 == 0 ? 3 : 1; // now and then a burst
      for (int b = 0; b < count; ++b) {
        const bool again = !seen.empty() && std::uniform_int_distribution<int>(0, 9)(rng) == 0;
        const int i = again ? seen[size_t(std::uniform_int_distribution<int>(0, int(seen.size()) - 1)(rng))]
                            : std::uniform_int_distribution<int>(0, 9999)(rng);
        seen.push_back(i);
        batch.push_back(image(i));
      }
      QVERIFY(send(kHonest, batch));
    }
    // Dupes: four seed images, then small perturbations of earlier queries.
    std::vector<std::string> dupes;
    for (int i = 0; i < 4; ++i) dupes.push_back(image(7 * i + 1));
    while (dupes.size() < 150) {
      std::string x = dupes[size_t(std::uniform_int_distribution<int>(0, int(dupes.size()) - 1)(rng))];
      for (char& c : x) c = char(std::clamp(int(uint8_t(c)) + std::uniform_int_distribution<int>(-6, 6)(rng), 0, 255));
      dupes.push_back(x);
      QVERIFY(send(kDupes, {x}));
    }
    // Noise: uniform random pixels, eight to a request.
    for (int k = 0; k < 20; ++k) {
      std::vector<std::string> batch(8, std::string(784, '\0'));
      for (auto& x : batch)
        for (char& c : x) c = char(std::uniform_int_distribution<int>(0, 255)(rng));
      QVERIFY(send(kNoise, batch));
    }
    server->process->terminate();
    QVERIFY(server->process->waitForFinished(10000));

    r = testsupport::runCli({"audit-log", QString::fromStdString(log), "--data", kFashion, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json audit = json::parse(r.out.toStdString());
    std::map<std::string, json> by_key;
    for (const auto& k : audit["keys"]) by_key[k["key"]] = k;
    QCOMPARE(by_key.size(), size_t(3));
    const json& honest = by_key["honest"];
    QVERIFY2(honest["verdict"] == "honest-looking", qPrintable(QString::fromStdString(honest.dump())));
    QCOMPARE(honest["prada_flag"].get<bool>(), false);
    QVERIFY(honest["exact_repeats"].get<int64_t>() > 0);
    QCOMPARE(honest["queries"].get<int64_t>(), int64_t(seen.size()));
    QVERIFY(std::abs(honest["shift"].get<double>() - 1.0) < 0.3);
    const json& d = by_key["dupes"];
    QVERIFY2(d["prada_flag"].get<bool>() && d["flagged_after"].get<int64_t>() <= 40, qPrintable(QString::fromStdString(d.dump())));
    QCOMPARE(d["verdict"].get<std::string>(), std::string("extraction?"));
    const json& noise = by_key["noise"];
    QVERIFY2(noise["shift_flag"].get<bool>() && noise["shift"].get<double>() > 2.0, qPrintable(QString::fromStdString(noise.dump())));
    QVERIFY(noise["verdict"] != "honest-looking");
    QVERIFY(noise["shift_flagged_after"].get<int64_t>() >= 20 && noise["shift_flagged_after"].get<int64_t>() <= 24);
    QVERIFY(honest["shift_flagged_after"].is_null());
    QCOMPARE(noise["queries"].get<int64_t>(), int64_t(160));

    // The text table names every key.
    r = testsupport::runCli({"audit-log", QString::fromStdString(log)});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("honest") && r.out.contains("dupes") && r.out.contains("extraction?"));
  }

  void auditLogRejectsWhatIsNotALog() {
    const QString missing = dir_.filePath("no-such-log.sqlite");
    auto r = testsupport::runCli({"audit-log", missing});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(missing) && r.err.contains("no such request log"), qPrintable(r.err));
    const QString text = dir_.filePath("notes.txt");
    {
      QFile f(text);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("not a database at all, but long enough to have a header's worth of bytes in it............\n");
    }
    r = testsupport::runCli({"audit-log", text});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(text) && r.err.contains("request log"), qPrintable(r.err));
    // A SQLite file of another kind: the run store.
    testsupport::runCli({"runs", "--db", dir_.filePath("other.sqlite")});
    r = testsupport::runCli({"audit-log", dir_.filePath("other.sqlite")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(dir_.filePath("other.sqlite")) && r.err.contains("not a request log"), qPrintable(r.err));
    r = testsupport::runCli({"audit-log", missing, "--delta", "1.5"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--delta"), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestForensicsHaystack)
#include "tst_forensics_haystack.moc"
