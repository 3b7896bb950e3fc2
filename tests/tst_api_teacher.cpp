// Distilling through a teacher API (issue 17 part 3): `distillery-cli run`
// with {"teacher": {"api": ...}} against a real `distillery-cli serve` on a
// free port. What the server's request log says was answered (per key: each
// test has its own key, and its own answer cache) is checked against the run's
// summary; the kill -9 and server-gone cases resume without buying an input
// twice; the refusals name their field before a run row exists. The answer
// decoding and the answer cache are checked directly against hand-built replies.
#include "core/api/answer_cache.h"
#include "core/api/api_server_info.h"
#include "core/api/api_teacher.h"
#include "core/base/errors.h"
#include "core/base/sha256.h"
#include "core/base/stop_token.h"
#include "core/config/api_teacher_config.h"
#include "core/data/dataset.h"
#include "serve/api_client.h"
#include "test_support.h"

#include <sqlite3.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <set>
#include <thread>

using json = nlohmann::json;
using namespace distillery;

namespace {

constexpr double kPrice = 0.25;
constexpr int kTrain = 1000, kTest = 200, kVal = 200;

// The n images of a gzipped IDX file, each as its raw bytes.
std::vector<std::string> idxImages(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string header(16, '\0');
  gzread(f, header.data(), 16);
  const int n = (uint8_t(header[4]) << 24) | (uint8_t(header[5]) << 16) | (uint8_t(header[6]) << 8) | uint8_t(header[7]);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string img(784, '\0');
    gzread(f, img.data(), 784);
    out.push_back(img);
  }
  gzclose(f);
  return out;
}

std::set<std::string> hashesOf(const std::vector<std::string>& images) {
  std::set<std::string> out;
  for (const auto& i : images) out.insert(sha256Hex(i));
  return out;
}

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const QString& path) { sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr); }
  ~Db() { sqlite3_close(db); }
  int64_t scalar(const std::string& sql) const {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    int64_t v = -1;
    if (s && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
  std::vector<std::string> column(const std::string& sql) const {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    std::vector<std::string> out;
    while (s && sqlite3_step(s) == SQLITE_ROW)
      out.push_back(sqlite3_column_text(s, 0) ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "");
    sqlite3_finalize(s);
    return out;
  }
  std::string text(const std::string& sql) const {
    const auto c = column(sql);
    return c.empty() ? std::string() : c[0];
  }
};

// The inputs answered (status 200) for a key, per the request log.
std::string answered(const std::string& key) {
  return "SELECT COALESCE(SUM(batch), 0) FROM requests WHERE status = 200 AND path = '/v1/classify' AND key = '" + key +
         "'";
}

std::string secretOf(const std::string& key) { return key + "-secret-0001"; }

} // namespace

class TestApiTeacher : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString db() const { return dir_.filePath("runs.sqlite"); }
  QString data() const { return dir_.filePath("data"); }
  QString otherData() const { return dir_.filePath("other"); }
  double teacherTestAccuracy_ = -1;

  using Server = testsupport::ServeProcess;
  std::unique_ptr<Server> probs_; // probs mode, one key per test

  QString writeJson(const QString& name, const json& j) {
    QFile f(dir_.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QByteArray::fromStdString(j.dump(2)));
    return f.fileName();
  }

  static json key(const std::string& name, double rate = 100000, double burst = 100000) {
    return {{"name", name}, {"key", secretOf(name)}, {"budget", 1000000}, {"rate_per_s", rate}, {"burst", burst}};
  }

  QString serveConfig(const QString& file, const json& keys, const json& output, const QString& log) {
    return writeJson(file, {{"keys", keys}, {"price_per_1000", kPrice}, {"max_batch", 64}, {"output", output},
                            {"log", dir_.filePath(log).toStdString()}});
  }

  // `distillery-cli serve 1` on `port` (0: a free one, printed as port=P).
  std::unique_ptr<Server> serve(const QString& config, int port = 0) {
    return testsupport::startServe(DISTILLERY_CLI, {"1", "--config", config, "--db", db()}, port);
  }

  // A clone of run 1 through the API at `url` with `key`'s secret in $DISTILLERY_TEST_KEY_<key>.
  json cloneConfig(const std::string& name, const std::string& url, const std::string& key, int64_t max_queries) {
    return {{"name", name}, {"task", "distill"},
            {"data", {{"path", data().toStdString()}, {"val_size", kVal}}},
            {"teacher", {{"api", {{"url", url}, {"key_env", "DISTILLERY_TEST_KEY_" + key}, {"max_queries", max_queries},
                                  {"batch", 50}, {"retries", 1}, {"timeout_s", 5},
                                  {"cache_dir", dir_.filePath(QString::fromStdString("cache-" + name)).toStdString()}}}}},
            {"student", {{"zoo", "mlp"}, {"hidden", {16}}}},
            {"method", {{"name", "kd"}, {"temperature", 2.0}, {"alpha", 1.0}}},
            {"optim", {{"name", "adam"}, {"lr", 0.003}}},
            {"batch_size", 64}, {"epochs", 1}, {"seed", 0}, {"device", "cpu"}};
  }

  static QProcessEnvironment env() {
    QProcessEnvironment e = testsupport::cliEnvironment();
    for (const char* k : {"rt", "kr", "slow", "gone", "tr", "nz", "ac", "lab", "rp"})
      e.insert(QString("DISTILLERY_TEST_KEY_") + k, QString::fromStdString(secretOf(k)));
    e.remove("DISTILLERY_TEST_KEY_unset");
    return e;
  }

  testsupport::ProcessResult run(const QString& config) {
    return testsupport::runCli({"run", config, "--db", db()}, 120000, env());
  }

  json summaryOf(int64_t id) {
    const auto r = testsupport::runCli({"show", QString::number(id), "--json", "--db", db()}, 60000, env());
    if (r.code != 0) return {};
    return json::parse(r.out.toStdString(), nullptr, false);
  }

  static int64_t runId(const testsupport::ProcessResult& r) {
    return r.out.section("run_id=", 1).section('\n', 0, 0).toLongLong();
  }

  int64_t runRows() { return Db(db()).scalar("SELECT COUNT(*) FROM runs"); }

  // Runs a config that preflight must refuse: exit 2, the message naming `field`
  // (and `also`), and no run row left behind.
  void expectRefused(const json& config, const QString& field, const QString& also = {}) {
    const int64_t rows = runRows();
    const auto r = run(writeJson("refused.json", config));
    QVERIFY2(r.code == 2, qPrintable(QString("exit %1: %2").arg(r.code).arg(r.err)));
    QVERIFY2(r.err.contains(field), qPrintable(r.err));
    if (!also.isEmpty()) QVERIFY2(r.err.contains(also), qPrintable(r.err));
    QCOMPARE(runRows(), rows);
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(QDir().mkpath(data()));
    QVERIFY(QDir().mkpath(otherData()));
    testsupport::writeSyntheticDataset(data().toStdString(), kTrain, kTest);
    // Another dataset of the same shape (other seeds: none of its images is the task's).
    testsupport::writeSyntheticSplit(otherData().toStdString(), "train", 600, 7);
    testsupport::writeSyntheticSplit(otherData().toStdString(), "t10k", 50, 8);
    const json teacher = {{"name", "teacher"}, {"task", "train"},
                          {"data", {{"path", data().toStdString()}, {"val_size", kVal}}},
                          {"model", {{"zoo", "mlp"}, {"hidden", {32}}}},
                          {"optim", {{"name", "adam"}, {"lr", 0.003}}},
                          {"batch_size", 64}, {"epochs", 1}, {"seed", 0}, {"device", "cpu"}};
    const auto r = run(writeJson("teacher.json", teacher));
    QVERIFY2(r.code == 0 && r.out.contains("run_id=1"), qPrintable(r.err));
    teacherTestAccuracy_ = summaryOf(1)["summary"].value("test_accuracy", -1.0);
    QVERIFY(teacherTestAccuracy_ > 0.3);
    json keys = json::array();
    for (const char* k : {"rt", "kr", "tr", "nz", "ac", "rp"}) keys.push_back(key(k));
    keys.push_back(key("slow", 2, 1));
    probs_ = serve(serveConfig("probs.json", keys, {{"mode", "probs"}}, "probs.log.sqlite"));
    QVERIFY(probs_->port > 0);
  }

  // ---- decoding and the cache, against hand-built replies --------------------------

  void answersDecodeEveryOutputMode() {
    const std::string url = "http://127.0.0.1:1";
    // probs: kept, renormalised (0.2 + 0.2 + 0.1 + 0.0 = 0.5 -> doubled).
    json reply = {{"outputs", {{{"label", 0}, {"probs", {0.2, 0.2, 0.1, 0.0}}}}}};
    std::vector<float> p = answersToProbabilities(reply, 1, 4, url);
    const std::vector<float> want_probs = {0.4f, 0.4f, 0.2f, 0.0f};
    for (int c = 0; c < 4; ++c) QVERIFY(std::fabs(p[size_t(c)] - want_probs[size_t(c)]) < 1e-6f);
    // rounded: two decimals that sum to 1.01, renormalised.
    reply = {{"outputs", {{{"label", 2}, {"probs", {0.33, 0.33, 0.35, 0.0}}}}}};
    p = answersToProbabilities(reply, 1, 4, url);
    for (int c = 0; c < 4; ++c) QVERIFY(std::fabs(p[size_t(c)] - float(std::vector<double>{0.33, 0.33, 0.35, 0}[size_t(c)] / 1.01)) < 1e-6f);
    // top-k (k = 2 of 4): the shown two kept, the 0.2 left spread evenly over the other two.
    reply = {{"outputs", {{{"label", 3}, {"classes", {3, 1}}, {"probs", {0.5, 0.3}}}}}};
    p = answersToProbabilities(reply, 1, 4, url);
    const std::vector<float> want_topk = {0.1f, 0.3f, 0.1f, 0.5f};
    for (int c = 0; c < 4; ++c) QVERIFY2(std::fabs(p[size_t(c)] - want_topk[size_t(c)]) < 1e-6f, qPrintable(QString::number(p[size_t(c)])));
    // label: one-hot; two outputs keep their order.
    reply = {{"outputs", {{{"label", 1}}, {{"label", 2}}}}};
    p = answersToProbabilities(reply, 2, 4, url);
    QCOMPARE(p, (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0}));
    // Malformed: each an ApiError naming the URL.
    const std::vector<json> bad = {
        json{{"outputs", {{{"label", 1}}}}},                               // one output where two are expected (n = 2)
        json{{"outputs", {{{"label", 7}}, {{"label", 0}}}}},                // label beyond the classes
        json{{"outputs", {{{"label", 0}, {"probs", {0.5, 0.5}}}, {{"label", 0}}}}}, // 2 probabilities of 4
        json{{"outputs", {{{"label", 0}, {"classes", {0, 0}}, {"probs", {0.5, 0.3}}}, {{"label", 0}}}}}, // a class twice
        json{{"outputs", {{{"probs", {0.5, 0.5, 0, 0}}}, {{"label", 0}}}}}, // no label
        json{{"outputs", {{{"label", "one"}}, {{"label", 0}}}}},             // label not a number
        json::array()};
    for (const json& b : bad) {
      try {
        answersToProbabilities(b, 2, 4, url);
        QFAIL(qPrintable(QString::fromStdString("accepted " + b.dump())));
      } catch (const ApiError& e) {
        QVERIFY2(std::string(e.what()).find(url) != std::string::npos, e.what());
      }
    }
  }

  void answerCacheKeepsRowsPerServer() {
    QTemporaryDir cache_dir;
    const std::vector<std::string> hashes = {sha256Hex("a"), sha256Hex("b")};
    const std::vector<float> probs = {0.25f, 0.75f, 1.0f, 0.0f};
    std::vector<float> got;
    {
      ApiAnswerCache cache(cache_dir.path().toStdString());
      cache.store("server-1", hashes, probs, 2);
      const std::vector<bool> found = cache.lookup("server-1", {hashes[1], sha256Hex("c"), hashes[0]}, 2, got);
      QCOMPARE(found, (std::vector<bool>{true, false, true}));
      QCOMPARE(got, (std::vector<float>{1.0f, 0.0f, 0.0f, 0.0f, 0.25f, 0.75f}));
      QCOMPARE(cache.lookup("server-2", hashes, 2, got), (std::vector<bool>{false, false})); // another server misses
      QCOMPARE(cache.lookup("server-1", hashes, 3, got), (std::vector<bool>{false, false})); // other class count
      QCOMPARE(cache.count("server-1"), int64_t(2));
      QCOMPARE(cache.count("server-2"), int64_t(0));
      // A second object on the same folder (another run) sees the rows at once.
      ApiAnswerCache other(cache_dir.path().toStdString());
      QCOMPARE(other.lookup("server-1", hashes, 2, got), (std::vector<bool>{true, true}));
      QCOMPARE(got, probs);
      QCOMPARE(other.path(), cache.path());
    }
    ApiAnswerCache reopened(cache_dir.path().toStdString());
    QCOMPARE(reopened.count("server-1"), int64_t(2));
  }

  // The client's Idempotency-Key names the batch: the same inputs, dtype and
  // shape give the same key; any change, the order of the inputs included, another.
  void batchIdempotencyKeyNamesTheBatch() {
    const std::string a(784, '\1'), b(784, '\2');
    const std::vector<int64_t> two = {2, 1, 28, 28};
    const std::string key = batchIdempotencyKey("uint8", two, a + b);
    QCOMPARE(key.size(), size_t(64)); // within the server's 8-128 characters
    QCOMPARE(batchIdempotencyKey("uint8", two, a + b), key);
    // The documented recipe, computed here from its parts.
    QCOMPARE(key, sha256Hex("uint8 [2,1,28,28] " + sha256Hex(a) + " " + sha256Hex(b)));
    std::set<std::string> keys = {key, batchIdempotencyKey("uint8", two, b + a),
                                  batchIdempotencyKey("uint8", {1, 1, 28, 28}, a),
                                  batchIdempotencyKey("float32", {2, 1, 14, 14}, a + b)};
    QCOMPARE(keys.size(), size_t(4));
  }

  void methodMismatchNamesTheMethodsThatFit() {
    QVERIFY(apiMethodMismatch("kd", "probs").empty());
    QVERIFY(apiMethodMismatch("hard_label", "label").empty());
    const std::string why = apiMethodMismatch("kd", "label");
    QVERIFY2(why.find("hard_label") != std::string::npos && why.find("\"label\"") != std::string::npos, why.c_str());
    QVERIFY(!apiMethodMismatch("fitnets", "probs").empty());
  }

  // ---- runs through a live server -------------------------------------------------

  // The preflight and the engine refuse an API that does not fit the data with
  // the same words: what differs, the shape and the classes.
  void apiMismatchNamesShapeAndClasses() {
    ApiServerInfo info;
    info.input_shape = {1, 28, 28};
    info.classes = 10;
    QCOMPARE(info.mismatchWith({1, 28, 28}, 10), std::string());
    QCOMPARE(info.mismatchWith({}, 0), std::string()); // nothing known: nothing to refuse
    QCOMPARE(info.mismatchWith({3, 32, 32}, 10), std::string("takes inputs of shape [1, 28, 28]"));
    QCOMPARE(info.mismatchWith({1, 28, 28}, 100), std::string("answers over 10 classes"));
    QCOMPARE(info.mismatchWith({3, 32, 32}, 100),
             std::string("takes inputs of shape [1, 28, 28] and answers over 10 classes"));
  }

  void apiCloneRoundTrip() {
    json c = cloneConfig("rt", probs_->url(), "rt", 300);
    c["teacher"]["api"]["reference_run"] = 1;
    const auto r = run(writeJson("rt.json", c));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json s = summaryOf(runId(r))["summary"];
    const json& a = s["api"];
    QCOMPARE(a.value("queries", -1.0), 300.0);
    QCOMPARE(a.value("queries_bought", int64_t(-1)), int64_t(300));
    QCOMPARE(a.value("eval_queries", int64_t(-1)), int64_t(kTest));
    QCOMPARE(a.value("queries_bought_total", int64_t(-1)), int64_t(300 + kTest));
    QVERIFY(std::fabs(a.value("money", -1.0) - 300 * kPrice / 1000) < 1e-12);
    QVERIFY(std::fabs(s.value("money", -1.0) - 300 * kPrice / 1000) < 1e-12);
    QCOMPARE(a.value("price_per_1000", -1.0), kPrice);
    QCOMPARE(a.value("strategy", std::string()), std::string("train"));
    // Undefended probabilities: an honest user's accuracy is the teacher's own.
    QVERIFY2(std::fabs(a.value("benign_accuracy", -1.0) - teacherTestAccuracy_) < 1e-9,
             qPrintable(QString("%1 vs %2").arg(a.value("benign_accuracy", -1.0)).arg(teacherTestAccuracy_)));
    QVERIFY(std::fabs(a.value("reference_test_accuracy", -1.0) - teacherTestAccuracy_) < 1e-9);
    QCOMPARE(a.value("reference_run", int64_t(0)), int64_t(1));
    QVERIFY(a["fidelity"].is_number() && a["fidelity"].get<double>() > 0.2 && a["fidelity"].get<double>() <= 1.0);
    // The server's side: exactly the budget plus the test split, for this key.
    Db log(dir_.filePath("probs.log.sqlite"));
    QCOMPARE(log.scalar(answered("rt")), int64_t(300 + kTest));
    // Every input sent is a task image (training file or test split), each once.
    const std::set<std::string> train = hashesOf(idxImages(data().toStdString() + "/train-images-idx3-ubyte.gz"));
    const std::set<std::string> test = hashesOf(idxImages(data().toStdString() + "/t10k-images-idx3-ubyte.gz"));
    const auto sent = log.column("SELECT i.sha256 FROM inputs i JOIN requests r ON r.id = i.request_id WHERE r.key = 'rt'");
    QCOMPARE(int64_t(std::set<std::string>(sent.begin(), sent.end()).size()), int64_t(300 + kTest));
    int64_t from_train = 0, from_test = 0;
    for (const auto& h : sent) {
      from_train += train.count(h);
      from_test += test.count(h);
    }
    QCOMPARE(from_train, int64_t(300));
    QCOMPARE(from_test, int64_t(kTest));
  }

  void nothingIsBoughtTwice() {
    Db log(dir_.filePath("probs.log.sqlite"));
    const int64_t before = log.scalar(answered("rt"));
    const int64_t classify_rows = log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'rt' AND path = '/v1/classify'");
    QVERIFY(before > 0); // apiCloneRoundTrip ran first
    const auto r = run(dir_.filePath("rt.json"));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json a = summaryOf(runId(r))["summary"]["api"];
    QCOMPARE(a.value("queries_bought_total", int64_t(-1)), int64_t(0));
    QCOMPARE(a.value("queries", -1.0), 300.0); // the clone still learnt from 300 answers
    QCOMPARE(log.scalar(answered("rt")), before);
    QCOMPARE(log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'rt' AND path = '/v1/classify'"), classify_rows);
    QVERIFY(log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'rt' AND path = '/v1/info'") >= 4);
  }

private:
  // Starts `distillery-cli args` and SIGKILLs it once `ready` holds (polled
  // every 50 ms, stderr so far as its argument); the run's id from stderr.
  int64_t runAndKill(const QStringList& args, const std::function<bool(const QString&)>& ready) {
    QProcess p;
    p.setProcessEnvironment(env());
    p.start(DISTILLERY_CLI, args);
    QString err;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 60000 && p.state() != QProcess::NotRunning && !ready(err)) {
      p.waitForReadyRead(50);
      err += QString::fromUtf8(p.readAllStandardError());
    }
    const bool killed = p.state() == QProcess::Running;
    p.kill(); // SIGKILL
    p.waitForFinished(10000);
    if (!killed) qWarning("ended before the kill: %s", qPrintable(err));
    return killed ? err.section("run ", 1).section(':', 0, 0).toLongLong() : 0;
  }

private Q_SLOTS:
  void killDuringDistillationThenResume() {
    json c = cloneConfig("kr", probs_->url(), "kr", 700);
    c["teacher"]["api"]["batch"] = 20;
    c["epochs"] = 40;
    c["checkpoint_every"] = 20;
    Db log(dir_.filePath("probs.log.sqlite"));
    // Killed while buying: what was bought before the kill is in the cache.
    const int64_t id = runAndKill({"run", writeJson("kr.json", c), "--db", db()},
                                  [&](const QString&) { return log.scalar(answered("kr")) >= 200; });
    QVERIFY(id > 1);
    const int64_t bought_before_kill = log.scalar(answered("kr"));
    QVERIFY2(bought_before_kill < 700, "the kill came after buying: make the budget larger");
    // Resumed, then killed again once it trains: every training answer is bought by now.
    QVERIFY(runAndKill({"resume", QString::number(id), "--db", db()},
                       [](const QString& err) { return err.contains("distill phase step"); }) == id);
    const int64_t bought_for_training = log.scalar(answered("kr"));
    QVERIFY(bought_for_training >= 700);
    const auto r = testsupport::runCli({"resume", QString::number(id), "--db", db()}, 120000, env());
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json s = summaryOf(id);
    QCOMPARE(s.value("status", std::string()), std::string("finished"));
    QCOMPARE(s["summary"]["api"].value("queries", -1.0), 700.0);
    QCOMPARE(s["summary"]["api"].value("queries_bought", int64_t(-1)), int64_t(0)); // all from the cache
    // Money is a cost counter like queries: the checkpoint resumed from carries it.
    QVERIFY2(std::fabs(s["summary"].value("money", -1.0) - 700 * kPrice / 1000) < 1e-12, s["summary"].dump().c_str());
    // Only the test split was bought after the kill during training.
    QCOMPARE(log.scalar(answered("kr")), bought_for_training + kTest);
    // A batch in flight at the first kill (the server logged and charged it, the
    // client died before caching it) is sent again on resume under the same
    // Idempotency-Key and replayed free: no input is answered twice.
    const int64_t twice = log.scalar("SELECT COUNT(*) FROM (SELECT i.sha256 FROM inputs i JOIN requests r ON "
                                     "r.id = i.request_id WHERE r.key = 'kr' AND r.status = 200 GROUP BY i.sha256 "
                                     "HAVING COUNT(*) > 1)");
    QVERIFY2(twice == 0, qPrintable(QString("%1 inputs answered twice").arg(twice)));
    qInfo("killed after %lld answers; %lld replayed requests", (long long)bought_before_kill,
          (long long)log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'kr' AND replay_of IS NOT NULL"));
    QCOMPARE(log.scalar(answered("kr")), int64_t(700 + kTest));
  }

  // The window a kill can hit, made on purpose: the server answered and charged
  // a batch whose reply never reached the answer cache. A teacher with an empty
  // cache (the resumed run's view) asking for the same inputs gets them
  // replayed: the same answers, nothing bought, no budget spent, no new inputs rows.
  void lostReplyIsReplayedNotBoughtAgain() {
    DataConfig dc;
    dc.path = data().toStdString();
    dc.val_size = kVal;
    const Dataset d = loadDataset(dc, 0);
    const torch::Tensor x = d.test.x.slice(0, 0, 40);
    qputenv("DISTILLERY_TEST_KEY_rp", QByteArray::fromStdString(secretOf("rp")));
    ApiTeacherConfig api;
    api.url = probs_->url();
    api.key_env = "DISTILLERY_TEST_KEY_rp";
    api.batch = 20;
    api.retries = 1;
    api.timeout_s = 5;
    StopToken stop;
    Db log(dir_.filePath("probs.log.sqlite"));
    api.cache_dir = dir_.filePath("cache-rp-bought").toStdString();
    ApiTeacher buyer(api, d, stop, {});
    const torch::Tensor bought = buyer.probabilities(x);
    QCOMPARE(buyer.bought(), int64_t(40));
    QCOMPARE(buyer.replayed(), int64_t(0));
    QCOMPARE(log.scalar(answered("rp")), int64_t(40));

    api.cache_dir = dir_.filePath("cache-rp-lost").toStdString(); // the replies never reached this one
    std::vector<std::string> notes;
    ApiTeacher resumed(api, d, stop, [&](const std::string&, const std::string& m) { notes.push_back(m); });
    QCOMPARE(resumed.info().budget_remaining, int64_t(1000000 - 40));
    const torch::Tensor again = resumed.probabilities(x);
    QCOMPARE(resumed.bought(), int64_t(0));
    QCOMPARE(resumed.replayed(), int64_t(40));
    QCOMPARE(resumed.fromCache(), int64_t(0));
    QVERIFY(torch::equal(again, bought));
    QCOMPARE(log.scalar(answered("rp")), int64_t(40));
    QCOMPARE(log.scalar("SELECT COUNT(*) FROM inputs i JOIN requests r ON r.id = i.request_id WHERE r.key = 'rp'"),
             int64_t(40));
    QCOMPARE(log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'rp' AND status = 200 AND replay_of IS NOT NULL"),
             int64_t(2));
    bool said = false;
    for (const auto& m : notes) said = said || m.find("replayed free") != std::string::npos;
    QVERIFY(said);
    // The budget the server reports is what the first teacher bought.
    api.cache_dir = dir_.filePath("cache-rp-check").toStdString();
    QCOMPARE(ApiTeacher(api, d, stop, {}).info().budget_remaining, int64_t(1000000 - 40));
  }

  void rateLimitIsHonoured() {
    json c = cloneConfig("slow", probs_->url(), "slow", 100);
    c["teacher"]["api"]["batch"] = 25;
    c["teacher"]["api"]["measure_benign"] = false;
    const auto r = run(writeJson("slow.json", c));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    Db log(dir_.filePath("probs.log.sqlite"));
    QVERIFY(log.scalar("SELECT COUNT(*) FROM requests WHERE key = 'slow' AND status = 429") > 0);
    QCOMPARE(log.scalar(answered("slow")), int64_t(100));
    QVERIFY2(r.err.contains("rate limited (429)"), qPrintable(r.err));
    // The run's stored log says so too.
    Db store(db());
    QVERIFY(store.scalar("SELECT COUNT(*) FROM log_events WHERE run_id = " + std::to_string(runId(r)) +
                         " AND message LIKE '%rate limited (429)%'") > 0);
  }

  void serverGoneFailsThenResumes() {
    json keys = json::array({key("gone")});
    const QString config = serveConfig("gone.json", keys, {{"mode", "probs"}}, "gone.log.sqlite");
    auto server = serve(config);
    QVERIFY(server->port > 0);
    json c = cloneConfig("gone", server->url(), "gone", 600);
    c["epochs"] = 40; // the server dies while the clone trains; the test split's answers are then out of reach
    QProcess p;
    p.setProcessEnvironment(env());
    p.start(DISTILLERY_CLI, {"run", writeJson("gone-run.json", c), "--db", db()});
    QString early;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 60000 && p.state() != QProcess::NotRunning && !early.contains("distill phase step")) {
      p.waitForReadyRead(50);
      early += QString::fromUtf8(p.readAllStandardError());
    }
    QVERIFY2(p.state() == QProcess::Running, qPrintable(early));
    server->process->kill();
    server->process->waitForFinished(5000);
    const auto failed = testsupport::waitForResult(p, 60000);
    QVERIFY2(failed.code == 1, qPrintable(failed.err));
    QVERIFY2(failed.err.contains(QString::fromStdString(server->url())), qPrintable(failed.err));
    QVERIFY2(failed.err.contains("teacher API " + QString::fromStdString(server->url())), qPrintable(failed.err));
    const int64_t id = early.section("run ", 1).section(':', 0, 0).toLongLong();
    const json record = summaryOf(id);
    QCOMPARE(record.value("status", std::string()), std::string("failed"));
    QVERIFY2(record.value("error", std::string()).find(server->url()) != std::string::npos, record.dump().c_str());
    // The same server back on the same port: the run resumes and buys only what it lacked.
    auto again = serve(config, server->port);
    QCOMPARE(again->port, server->port);
    const auto r = testsupport::runCli({"resume", QString::number(id), "--db", db()}, 120000, env());
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(summaryOf(id).value("status", std::string()), std::string("finished"));
    Db log(dir_.filePath("gone.log.sqlite"));
    const int64_t total = log.scalar(answered("gone"));
    const int64_t distinct = log.scalar("SELECT COUNT(DISTINCT i.sha256) FROM inputs i JOIN requests r ON "
                                        "r.id = i.request_id WHERE r.key = 'gone' AND r.status = 200");
    QCOMPARE(distinct, int64_t(600 + kTest));
    // A request in flight when the server died was answered by no one: nothing bought twice.
    QCOMPARE(total, distinct);
  }

  void refusalsNameTheField() {
    // The output mode does not fit the method: kd needs probabilities, hard_label fits.
    auto label = serve(serveConfig("label.json", json::array({key("lab")}), {{"mode", "label"}}, "label.log.sqlite"));
    QVERIFY(label->port > 0);
    expectRefused(cloneConfig("lab", label->url(), "lab", 100), "method.name", "hard_label");
    json hard = cloneConfig("lab", label->url(), "lab", 100);
    hard["method"] = {{"name", "hard_label"}};
    hard["epochs"] = 1;
    hard["teacher"]["api"]["measure_benign"] = false;
    const auto ok = run(writeJson("hard.json", hard));
    QVERIFY2(ok.code == 0, qPrintable(ok.err)); // and the method it names runs
    // Feature methods never fit an API: refused when the config is read.
    json fitnets = cloneConfig("x", probs_->url(), "rt", 100);
    fitnets["method"] = {{"name", "fitnets"}};
    expectRefused(fitnets, "method.name");
    json https = cloneConfig("x", "https://127.0.0.1:1", "rt", 100);
    expectRefused(https, "teacher.api.url", "https");
    json transfer = cloneConfig("x", probs_->url(), "rt", 100);
    transfer["transfer"] = {{"fraction", 0.5}};
    expectRefused(transfer, "transfer");
    expectRefused(cloneConfig("x", probs_->url(), "unset", 100), "teacher.api.key_env", "DISTILLERY_TEST_KEY_unset");
    // A budget beyond the inputs the strategy can send: refused before a run row exists.
    expectRefused(cloneConfig("x", probs_->url(), "rt", 1000000), "teacher.api.max_queries", "inputs to send");
    // Nothing listening: refused at once (no retries in preflight), naming the URL.
    QElapsedTimer timer;
    timer.start();
    expectRefused(cloneConfig("x", "http://127.0.0.1:9", "rt", 100), "teacher.api.url", "http://127.0.0.1:9");
    QVERIFY(timer.elapsed() < 20000);
    // A key the server does not know.
    expectRefused(cloneConfig("x", probs_->url(), "lab", 100), "teacher.api.url", "401");
    // The reference teacher must be a finished run.
    json ref = cloneConfig("x", probs_->url(), "rt", 100);
    ref["teacher"]["api"]["reference_run"] = 999;
    expectRefused(ref, "teacher.api.reference_run", "999");
  }

  void strategiesTransferNoiseActive() {
    Db log(dir_.filePath("probs.log.sqlite"));
    // transfer: another dataset's images, and only those.
    json transfer = cloneConfig("tr", probs_->url(), "tr", 200);
    transfer["teacher"]["api"]["measure_benign"] = false;
    transfer["queries"] = {{"strategy", "transfer"}, {"data", {{"path", otherData().toStdString()}, {"val_size", 0}}}};
    auto r = run(writeJson("tr.json", transfer));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(summaryOf(runId(r))["summary"]["api"].value("strategy", std::string()), std::string("transfer"));
    const std::set<std::string> other = hashesOf(idxImages(otherData().toStdString() + "/train-images-idx3-ubyte.gz"));
    const auto sent = log.column("SELECT i.sha256 FROM inputs i JOIN requests r ON r.id = i.request_id WHERE r.key = 'tr'");
    QCOMPARE(int64_t(sent.size()), int64_t(200));
    for (const auto& h : sent) QVERIFY(other.count(h));
    // noise: uniform random pixels, none of them a dataset image.
    json noise = cloneConfig("nz", probs_->url(), "nz", 200);
    noise["teacher"]["api"]["measure_benign"] = false;
    noise["queries"] = {{"strategy", "noise"}};
    r = run(writeJson("nz.json", noise));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(log.scalar(answered("nz")), int64_t(200));
    const std::set<std::string> train = hashesOf(idxImages(data().toStdString() + "/train-images-idx3-ubyte.gz"));
    for (const auto& h : log.column("SELECT i.sha256 FROM inputs i JOIN requests r ON r.id = i.request_id WHERE r.key = 'nz'"))
      QVERIFY(!train.count(h));
    QCOMPARE(log.text("SELECT group_concat(DISTINCT dtype) FROM requests WHERE key = 'nz' AND path = '/v1/classify'"),
             std::string("uint8")); // whole pixels go as bytes
    // active: 2 rounds over 2 epochs; round 1 random, round 2 the least certain of the rest.
    json active = cloneConfig("ac", probs_->url(), "ac", 300);
    active["teacher"]["api"]["measure_benign"] = false;
    active["epochs"] = 2;
    active["queries"] = {{"strategy", "active"}, {"rounds", 2}, {"initial", 0.5}};
    r = run(writeJson("ac.json", active));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const int64_t id = runId(r);
    const json a = summaryOf(id)["summary"]["api"];
    QCOMPARE(a.value("queries", -1.0), 300.0);
    QCOMPARE(a.value("queries_bought_total", int64_t(-1)), int64_t(300));
    QCOMPARE(log.scalar(answered("ac")), int64_t(300));
    Db store(db());
    const json rounds = json::parse(store.text("SELECT CAST(data AS TEXT) FROM artifacts WHERE run_id = " +
                                               std::to_string(id) + " AND name = 'api_rounds'"),
                                    nullptr, false);
    QVERIFY2(rounds.is_object() && rounds["rounds"].size() == 2, qPrintable(QString::fromStdString(rounds.dump())));
    const auto first = rounds["rounds"][0].get<std::vector<int64_t>>();
    const auto second = rounds["rounds"][1].get<std::vector<int64_t>>();
    QCOMPARE(int64_t(first.size()), int64_t(150));
    QCOMPARE(int64_t(first.size() + second.size()), int64_t(300));
    std::set<int64_t> all(first.begin(), first.end());
    all.insert(second.begin(), second.end());
    QCOMPARE(int64_t(all.size()), int64_t(300)); // round 2 chose none of round 1's
  }
};

QTEST_GUILESS_MAIN(TestApiTeacher)
#include "tst_api_teacher.moc"
