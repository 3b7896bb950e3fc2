// The teacher server (issue 17 items 1-2, and part 2's defenses): distillery-cli
// serve on 127.0.0.1 with a free port, spoken to over real HTTP (cpp-httplib's
// client). Every output mode is checked against PyTorch (tests/serve_reference.py),
// every defense and their composition with a mode against
// tests/defense_reference.py (MAD against tests/mad_reference.py), the
// argmax against the stored run's test accuracy, the refusals (401, 400, 413,
// 429, 402) by status and field, the request log under 8 concurrent clients
// and after kill -9. The torch-free parts (base64, token bucket, request
// parser, serve config, output modes) are tested directly.
#include "core/base/base64.h"
#include "core/base/errors.h"
#include "core/serve/classify_request.h"
#include "core/serve/mad_defense.h"
#include "core/serve/mad_surrogate.h"
#include "core/serve/output_defenses.h"
#include "core/serve/output_modes.h"
#include "core/serve/request_log_reader.h"
#include "core/serve/serve_config.h"
#include "core/serve/token_bucket.h"
#include "test_support.h"

#include <httplib.h>
#include <sqlite3.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <thread>

using json = nlohmann::json;
using namespace distillery;

namespace {

constexpr const char* kPython = "/usr/bin/python3"; // Debian's, with python3-torch
const char* kAlice = "alice-secret-0001";
const char* kBob = "bob-secret-0002";
const char* kCarol = "carol-secret-0003";

// The first n images of an IDX file (gzipped), as raw bytes.
std::string idxImages(const std::string& path, int n) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string header(16, '\0');
  gzread(f, header.data(), 16);
  std::string pixels(size_t(n) * 784, '\0');
  gzread(f, pixels.data(), unsigned(pixels.size()));
  gzclose(f);
  return pixels;
}

std::vector<int> idxLabels(const std::string& path, int n) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string bytes(size_t(8 + n), '\0');
  gzread(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(uint8_t(bytes[size_t(8 + i)]));
  return out;
}

std::string classifyBody(const std::string& dtype, const std::vector<int64_t>& shape, const std::string& bytes) {
  return json{{"dtype", dtype}, {"shape", shape}, {"data", encodeBase64(bytes)}}.dump();
}

// The same pixels as little-endian float32 values.
std::string asFloat32(const std::string& pixels) {
  std::string out(pixels.size() * 4, '\0');
  for (size_t i = 0; i < pixels.size(); ++i) {
    const float v = float(uint8_t(pixels[i]));
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int b = 0; b < 4; ++b) out[4 * i + size_t(b)] = char((bits >> (8 * b)) & 0xFF);
  }
  return out;
}

// Runs one of the tests' Python references with `input` on stdin; its stdout as JSON,
// or {"python_error": stderr}.
json runReference(const QString& script, const QStringList& args, const std::string& input) {
  QProcess py;
  py.start(kPython, QStringList{QString(DISTILLERY_SOURCE_DIR) + "/tests/" + script} + args);
  py.write(input.data(), qint64(input.size()));
  py.closeWriteChannel();
  if (!py.waitForFinished(120000) || py.exitCode() != 0)
    return json{{"python_error", py.readAllStandardError().toStdString()}};
  return json::parse(py.readAllStandardOutput().toStdString());
}

bool pythonHasTorch() {
  QProcess probe;
  probe.start(kPython, {"-c", "import torch"});
  return probe.waitForFinished(60000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0;
}

// Fixed probability rows over 6 classes: confident, near uniform, a near tie,
// almost one-hot, spread, and one with classes at 1e-12 (the clip's side).
ProbBatch fixedBatch() {
  const std::vector<std::vector<double>> rows = {
      {0.9, 0.05, 0.02, 0.015, 0.01, 0.005},
      {0.2, 0.18, 0.17, 0.16, 0.15, 0.14},
      {0.45, 0.44, 0.05, 0.03, 0.02, 0.01},
      {0.999999, 4e-7, 3e-7, 1.5e-7, 1e-7, 5e-8},
      {0.3, 0.25, 0.2, 0.15, 0.07, 0.03},
      {0.6, 0.4 - 1e-11, 4e-12, 3e-12, 2e-12, 1e-12}};
  ProbBatch b;
  b.rows = int64_t(rows.size());
  b.classes = 6;
  for (const auto& r : rows) b.p.insert(b.p.end(), r.begin(), r.end());
  return b;
}

json rowsOf(const std::vector<double>& values, int64_t classes) {
  json out = json::array();
  for (size_t i = 0; i < values.size(); i += size_t(classes))
    out.push_back(std::vector<double>(values.begin() + long(i), values.begin() + long(i) + classes));
  return out;
}

httplib::Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

// Sends `request` as is (httplib's client always adds Content-Length) and returns the
// whole reply; the server closes the connection after it (Connection: close).
std::string rawHttp(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == ssize_t(request.size())) {
    timeval timeout{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, size_t(n));
  }
  if (fd >= 0) ::close(fd);
  return reply;
}

int64_t scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  int64_t v = -1;
  if (s && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

std::string text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  std::string v;
  if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  return v;
}

} // namespace

class TestServe : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString db() const { return dir_.filePath("runs.sqlite"); }
  QString data() const { return dir_.filePath("data"); }
  std::string testImages() const { return data().toStdString() + "/t10k-images-idx3-ubyte.gz"; }
  json summary_;

  struct Result {
    int code = -1;
    QString out, err;
  };

  Result cli(const QStringList& args) {
    QProcess p;
    p.start(DISTILLERY_CLI, args);
    if (!p.waitForFinished(120000)) return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
  }

  QString writeJson(const QString& name, const json& j) {
    QFile f(dir_.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QByteArray::fromStdString(j.dump(2)));
    return f.fileName();
  }

  json serveConfig(const std::string& log, const json& output) const {
    return {{"keys",
             {{{"name", "alice"}, {"key", kAlice}, {"budget", 1000000}, {"rate_per_s", 100000}, {"burst", 100000}},
              {{"name", "bob"}, {"key", kBob}, {"budget", 1000000}, {"rate_per_s", 0.5}, {"burst", 2}},
              {{"name", "carol"}, {"key", kCarol}, {"budget", 5}, {"rate_per_s", 1000}, {"burst", 1000}}}},
            {"price_per_1000", 0.25},
            {"max_batch", 64},
            {"max_body_bytes", 1 << 20},
            {"output", output},
            {"log", dir_.filePath(QString::fromStdString(log)).toStdString()}};
  }

  using Server = testsupport::ServeProcess;

  // Starts the server on a free port (--port 0; it prints the bound one) and waits for it.
  std::unique_ptr<Server> serve(const QString& teacher, const QString& config) {
    return testsupport::startServe(DISTILLERY_CLI, {teacher, "--config", config, "--db", db()});
  }

  json classify(int port, const std::string& key, const std::string& body, int expect = 200) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Post("/v1/classify", bearer(key), body, "application/json");
    if (!res) return json{{"transport_error", int(res.error())}};
    if (res->status != expect) return json{{"unexpected_status", res->status}, {"body", res->body}};
    return json::parse(res->body);
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(QDir().mkpath(data()));
    testsupport::writeSyntheticDataset(data().toStdString(), 1500, 300);
    const json run = {{"name", "served"}, {"task", "train"},
                      {"data", {{"path", data().toStdString()}, {"val_size", 200}}},
                      {"model", {{"zoo", "mlp"}, {"hidden", {32}}}},
                      {"optim", {{"name", "adam"}, {"lr", 0.003}}},
                      {"batch_size", 64}, {"epochs", 1}, {"seed", 0}, {"device", "cpu"}};
    Result r = cli({"run", writeJson("run.json", run), "--db", db()});
    QVERIFY2(r.code == 0 && r.out.contains("run_id=1"), qPrintable(r.err));
    r = cli({"show", "1", "--json", "--db", db()});
    QCOMPARE(r.code, 0);
    summary_ = json::parse(r.out.toStdString())["summary"];
    r = cli({"export", "1", "--out", dir_.filePath("model.pt"), "--db", db()});
    QVERIFY2(r.code == 0, qPrintable(r.err));
  }

  // ---- torch-free parts -------------------------------------------------------

  void base64MatchesRfc4648AndIsStrict() {
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
      QCOMPARE(encodeBase64(plain), encoded);
      QCOMPARE(decodeBase64(encoded).value_or("<none>"), plain);
    }
    QCOMPARE(decodeBase64("Zm8").value_or("<none>"), std::string("fo")); // padding may be left out
    QVERIFY(!decodeBase64("Zm9v!"));   // outside the alphabet
    QVERIFY(!decodeBase64("Zg=a"));    // padding in the middle
    QVERIFY(!decodeBase64("Z"));       // no length encodes this
    QVERIFY(!decodeBase64("Zh=="));    // non-zero leftover bits: not what any encoder writes
    QVERIFY(!decodeBase64("Zg==Zg==")); // two encodings glued together
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    QCOMPARE(decodeBase64(encodeBase64(all)).value_or(""), all);
  }

  void tokenBucketRefillsAtItsRate() {
    TokenBucket b(2.0, 3.0, 100.0); // 2 tokens/s, bucket of 3
    QCOMPARE(b.take(100.0), 0.0);
    QCOMPARE(b.take(100.0), 0.0);
    QCOMPARE(b.take(100.0), 0.0);
    QCOMPARE(b.take(100.0), 0.5); // empty: a token in 0.5 s
    QCOMPARE(b.take(100.25), 0.25);
    QCOMPARE(b.take(100.5), 0.0);
    QCOMPARE(b.tokens(200.0), 3.0); // never above the burst
    QCOMPARE(b.tokens(150.0), 3.0); // a clock read out of order takes nothing
  }

  void requestParserNamesTheField() {
    const std::vector<int64_t> shape{1, 2, 2};
    const std::string four(4, '\x7f');
    ClassifyRequest r = parseClassifyRequest(classifyBody("uint8", {2, 1, 2, 2}, four + four), shape, 8);
    QCOMPARE(r.batch, int64_t(2));
    QCOMPARE(r.values.size(), size_t(8));
    QCOMPARE(r.values[3], 127.0f);
    QCOMPARE(r.inputBytes(1), four);
    r = parseClassifyRequest(classifyBody("float32", {1, 1, 2, 2}, asFloat32("\x01\x02\x03\xff")), shape, 8);
    QCOMPARE(r.values[3], 255.0f);
    struct Case {
      std::string body;
      int status;
      std::string field;
    };
    const float nan = std::nanf("");
    std::string nan_bytes(16, '\0');
    std::memcpy(nan_bytes.data() + 4, &nan, 4);
    const std::vector<Case> cases = {
        {"{\"dtype\": ", 400, "body"},
        {"[1, 2]", 400, "body"},
        {R"({"dtype":"uint8","shape":[1,1,2,2],"data":"AAAAAA==","extra":1})", 400, "extra"},
        {R"({"": 1})", 400, "body"}, // found by fuzz_serve_request: an empty key name is no field
        {R"({"shape":[1,1,2,2],"data":"AAAAAA=="})", 400, "dtype"},
        {R"({"dtype":"int64","shape":[1,1,2,2],"data":"AAAAAA=="})", 400, "dtype"},
        {R"({"dtype":"uint8","data":"AAAAAA=="})", 400, "shape"},
        {R"({"dtype":"uint8","shape":[1,2,2],"data":"AAAAAA=="})", 400, "shape"},
        {R"({"dtype":"uint8","shape":[1,1,2,3],"data":"AAAAAA=="})", 400, "shape[3]"},
        {R"({"dtype":"uint8","shape":[1,1,2.5,2],"data":"AAAAAA=="})", 400, "shape[2]"},
        {R"({"dtype":"uint8","shape":[0,1,2,2],"data":""})", 400, "shape[0]"},
        {R"({"dtype":"uint8","shape":[9,1,2,2],"data":""})", 413, "shape[0]"},
        {R"({"dtype":"uint8","shape":[1,1,2,2]})", 400, "data"},
        {R"({"dtype":"uint8","shape":[1,1,2,2],"data":5})", 400, "data"},
        {R"({"dtype":"uint8","shape":[1,1,2,2],"data":"AA$A"})", 400, "data"},
        {R"({"dtype":"uint8","shape":[1,1,2,2],"data":"AAAA"})", 400, "data"}, // 3 bytes, not 4
        {classifyBody("float32", {1, 1, 2, 2}, nan_bytes), 400, "data"},
    };
    for (const auto& c : cases) {
      try {
        parseClassifyRequest(c.body, shape, 8);
        QFAIL(qPrintable(QString::fromStdString("accepted: " + c.body)));
      } catch (const RequestError& e) {
        QVERIFY2(e.status() == c.status && e.field() == c.field,
                 qPrintable(QString::fromStdString(c.body + " -> " + std::to_string(e.status()) + " " + e.what())));
      }
    }
    // The messages a user reads (walk items a, e): an empty body says so, a NaN names its
    // element without reading like the number 0, a parse error has its position and no library internals.
    const auto messageOf = [&](const std::string& body) {
      try {
        parseClassifyRequest(body, shape, 8);
      } catch (const RequestError& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    };
    const std::string empty = messageOf("");
    QVERIFY2(empty.rfind("body: empty", 0) == 0 && empty.find("Content-Length") != std::string::npos, empty.c_str());
    const std::string not_finite = messageOf(classifyBody("float32", {1, 1, 2, 2}, nan_bytes));
    QVERIFY2(not_finite.find("element 1 (NaN or Inf)") != std::string::npos, not_finite.c_str());
    const std::string syntax = messageOf("{\"dtype\": ");
    QVERIFY2(syntax.find("json.exception") == std::string::npos && syntax.find("syntax error while") == std::string::npos &&
                 syntax.find("not valid JSON (at line 1, column 11: unexpected end of input") != std::string::npos,
             syntax.c_str());
  }

  void serveConfigErrorsNameTheField() {
    json ok = serveConfig("x.sqlite", {{"mode", "label"}});
    ServeConfig c = ServeConfig::fromJson(ok, "/tmp/some/serve.json");
    QCOMPARE(c.keys.size(), size_t(3));
    QCOMPARE(c.keys[1].burst, 2.0);
    ok.erase("log");
    QCOMPARE(ServeConfig::fromJson(ok, "/tmp/some/serve.json").log_path, std::string("/tmp/some/serve.log.sqlite"));
    const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
        {[](json& j) { j.erase("keys"); }, "keys"},
        {[](json& j) { j["keys"][1].erase("budget"); }, "keys[1].budget"},
        {[](json& j) { j["keys"][2]["rate_per_s"] = -1; }, "keys[2].rate_per_s"},
        {[](json& j) { j["keys"][0]["key"] = "short"; }, "keys[0].key"},
        {[](json& j) { j["keys"][1]["key"] = kAlice; }, "keys[1].key"},
        {[](json& j) { j["keys"][1]["name"] = "alice"; }, "keys[1].name"},
        {[](json& j) { j["max_batch"] = 0; }, "max_batch"},
        {[](json& j) { j["price"] = 1; }, "price"},
        {[](json& j) { j["input"] = {{"shape", {1, 28, 28}}, {"classes", 10}, {"preprocessing", {{"mean", {0.1, 0.2}}}}}; },
         "input.preprocessing.mean"},
    };
    for (const auto& [edit, field] : cases) {
      json j = serveConfig("x.sqlite", {{"mode", "label"}});
      edit(j);
      try {
        ServeConfig::fromJson(j, "serve.json");
        QFAIL(qPrintable(QString::fromStdString("accepted a config with a bad " + field)));
      } catch (const ConfigError& e) {
        QVERIFY2(e.field() == field, e.what());
      }
    }
    // An unknown key lists every allowed one, the optional objects included (walk item b).
    try {
      json j = serveConfig("x.sqlite", {{"mode", "label"}});
      j.erase("output");
      j["outputs"] = json::object();
      ServeConfig::fromJson(j, "serve.json");
      QFAIL("an unknown key was accepted");
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("allowed here: currency, input, keys, log, max_batch, max_body_bytes, output, price_per_1000, "
                         "threads") != std::string::npos,
               e.what());
    }
    // Output modes: unknown names and k beyond the classes are refused by field.
    QVERIFY_THROWS_EXCEPTION(ConfigError, buildOutputPipeline({{"mode", "logits"}}, 10));
    try {
      buildOutputPipeline({{"mode", "topk"}, {"k", 11}}, 10);
      QFAIL("k = 11 of 10 classes accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(e.field(), std::string("output.k"));
    }
  }

  // ---- the server over HTTP ---------------------------------------------------

  // Every mode, on uint8 and on float32 inputs, against PyTorch's answer on the exported model.
  void everyModeMatchesThePyTorchReference() {
    const int n = 16, k = 3, decimals = 2;
    const auto& pre = summary_["data"]["preprocessing"];
    QProcess probe;
    probe.start(kPython, {"-c", "import torch"});
    if (!probe.waitForFinished(60000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
      QSKIP("python3-torch is not installed (/usr/bin/python3 cannot import torch)");
    QProcess py;
    py.start(kPython, {QString(DISTILLERY_SOURCE_DIR) + "/tests/serve_reference.py", dir_.filePath("model.pt"),
                         QString::fromStdString(testImages()), QString::number(n),
                         QString::number(pre["divide_by"].get<double>(), 'g', 17),
                         QString::number(pre["mean"][0].get<double>(), 'g', 17),
                         QString::number(pre["std"][0].get<double>(), 'g', 17), QString::number(k),
                         QString::number(decimals)});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const json ref = json::parse(py.readAllStandardOutput().toStdString());
    const std::string pixels = idxImages(testImages(), n);

    const std::vector<json> modes = {{{"mode", "probs"}},
                                     {{"mode", "topk"}, {"k", k}},
                                     {{"mode", "rounded"}, {"decimals", decimals}},
                                     {{"mode", "label"}}};
    for (const json& mode : modes) {
      const std::string name = mode["mode"];
      auto server = serve("1", writeJson(QString::fromStdString("serve-" + name + ".json"),
                                         serveConfig("modes-" + name + ".sqlite", mode)));
      QVERIFY(server->port > 0);
      for (const std::string dtype : {"uint8", "float32"}) {
        const std::string bytes = dtype == "uint8" ? pixels : asFloat32(pixels);
        const json reply = classify(server->port, kAlice, classifyBody(dtype, {n, 1, 28, 28}, bytes));
        QVERIFY2(reply.contains("outputs"), reply.dump().c_str());
        QCOMPARE(reply["output"], mode);
        QCOMPARE(reply["queries"].get<int>(), n);
        QCOMPARE(reply["cost"].get<double>(), n * 0.25 / 1000);
        for (int i = 0; i < n; ++i) {
          const json& out = reply["outputs"][size_t(i)];
          const std::string where = name + " " + dtype + " input " + std::to_string(i) + ": " + out.dump();
          QVERIFY2(out["label"] == ref["label"][size_t(i)], where.c_str());
          if (name == "label") QVERIFY2(out.size() == 1, where.c_str()); // the argmax and nothing else
          if (name == "probs")
            for (int c = 0; c < 10; ++c)
              QVERIFY2(std::abs(out["probs"][size_t(c)].get<double>() - ref["probs"][size_t(i)][size_t(c)].get<double>()) < 1e-6,
                       where.c_str());
          if (name == "topk") {
            QVERIFY2(out["classes"] == ref["topk"]["classes"][size_t(i)], where.c_str());
            for (int c = 0; c < k; ++c)
              QVERIFY2(std::abs(out["probs"][size_t(c)].get<double>() - ref["topk"]["probs"][size_t(i)][size_t(c)].get<double>()) < 1e-6,
                       where.c_str());
          }
          if (name == "rounded")
            for (int c = 0; c < 10; ++c) {
              const double got = out["probs"][size_t(c)].get<double>(), want = ref["rounded"][size_t(i)][size_t(c)].get<double>();
              // Equal, unless PyTorch's unrounded value lies within float noise of a rounding midpoint.
              const double exact = ref["probs"][size_t(i)][size_t(c)].get<double>() * 100;
              const bool midpoint = std::abs(exact - std::floor(exact) - 0.5) < 1e-4;
              QVERIFY2(std::abs(got - want) < 1e-12 || midpoint, where.c_str());
              QVERIFY2(std::abs(got * 100 - std::round(got * 100)) < 1e-9, where.c_str()); // really 2 decimals
            }
        }
      }
    }
  }

  // The server's argmax over the whole test split gives the run's recorded test accuracy:
  // the served model sees the inputs preprocessed as in training.
  void argmaxReproducesTheRunsTestAccuracy() {
    auto server = serve("1", writeJson("serve-acc.json", serveConfig("acc.sqlite", {{"mode", "label"}})));
    QVERIFY(server->port > 0);
    const int n = 300;
    const std::string pixels = idxImages(testImages(), n);
    const std::vector<int> labels = idxLabels(data().toStdString() + "/t10k-labels-idx1-ubyte.gz", n);
    int correct = 0;
    for (int start = 0; start < n; start += 64) {
      const int b = std::min(64, n - start);
      const json reply = classify(server->port, kAlice,
                                  classifyBody("uint8", {b, 1, 28, 28}, pixels.substr(size_t(start) * 784, size_t(b) * 784)));
      QVERIFY2(reply.contains("outputs"), reply.dump().c_str());
      for (int i = 0; i < b; ++i) correct += reply["outputs"][size_t(i)]["label"].get<int>() == labels[size_t(start + i)];
    }
    const double accuracy = double(correct) / n;
    QVERIFY2(std::abs(accuracy - summary_["test_accuracy"].get<double>()) < 1e-9,
             qPrintable(QString("served %1, run recorded %2").arg(accuracy).arg(summary_["test_accuracy"].get<double>())));
    QVERIFY(accuracy > 0.3); // a model that learned something, so the check has teeth
  }

  // The same model as a TorchScript file, with the run's preprocessing in the serve config.
  void torchScriptTeacherAnswersAsTheRun() {
    const auto& pre = summary_["data"]["preprocessing"];
    json config = serveConfig("ts.sqlite", {{"mode", "probs"}});
    Result r = cli({"serve", dir_.filePath("model.pt"), "--config", writeJson("serve-ts-noinput.json", config), "--port", "0"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("input"), qPrintable(r.err));
    config["input"] = {{"shape", {1, 28, 28}}, {"classes", 10}, {"preprocessing", pre}};
    auto ts = serve(dir_.filePath("model.pt"), writeJson("serve-ts.json", config));
    auto run = serve("1", writeJson("serve-run.json", serveConfig("run.sqlite", {{"mode", "probs"}})));
    QVERIFY(ts->port > 0 && run->port > 0);
    const std::string body = classifyBody("uint8", {8, 1, 28, 28}, idxImages(testImages(), 8));
    const json a = classify(ts->port, kAlice, body), b = classify(run->port, kAlice, body);
    QVERIFY2(a.contains("outputs") && b.contains("outputs"), (a.dump() + b.dump()).c_str());
    for (int i = 0; i < 8; ++i)
      for (int c = 0; c < 10; ++c)
        QVERIFY(std::abs(a["outputs"][size_t(i)]["probs"][size_t(c)].get<double>() -
                         b["outputs"][size_t(i)]["probs"][size_t(c)].get<double>()) < 1e-6);
    httplib::Client client("127.0.0.1", ts->port);
    auto info = client.Get("/v1/info", bearer(kAlice));
    QVERIFY(info && info->status == 200);
    QVERIFY(json::parse(info->body)["teacher"].contains("sha256"));
  }

  void refusalsHaveTheirStatusAndField() {
    auto server = serve("1", writeJson("serve-refuse.json", serveConfig("refuse.sqlite", {{"mode", "label"}})));
    QVERIFY(server->port > 0);
    httplib::Client client("127.0.0.1", server->port);
    const std::string one = classifyBody("uint8", {1, 1, 28, 28}, std::string(784, '\0'));
    auto post = [&](const httplib::Headers& h, const std::string& body) {
      return client.Post("/v1/classify", h, body, "application/json");
    };
    auto errorOf = [](const httplib::Result& res) { return json::parse(res->body)["error"]; };

    auto res = post({}, one); // no key
    QVERIFY(res && res->status == 401);
    QCOMPARE(errorOf(res)["field"], json("Authorization"));
    QVERIFY(res->has_header("WWW-Authenticate"));
    res = post(bearer("wrong-secret-123"), one);
    QVERIFY(res && res->status == 401);
    res = client.Get("/v1/info");
    QVERIFY(res && res->status == 401);
    res = post({{"Authorization", "Basic YWxpY2U6eA=="}}, one); // curl -u alice:x
    QVERIFY(res && res->status == 401);
    const std::string basic = errorOf(res)["message"].get<std::string>();
    QVERIFY2(basic.find("Bearer token") != std::string::npos && basic.find("Basic") != std::string::npos, basic.c_str());

    // curl -X POST without -d: no Content-Length, answered at once naming the body.
    const std::string no_body = rawHttp(server->port, std::string("POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                                  "Authorization: Bearer ") +
                                                          kAlice + "\r\nConnection: close\r\n\r\n");
    QVERIFY2(no_body.rfind("HTTP/1.1 400", 0) == 0 && no_body.find("\"field\":\"body\"") != std::string::npos &&
                 no_body.find("body: empty") != std::string::npos,
             no_body.c_str());
    // A known endpoint with another method: 405 and the method it serves.
    res = client.Get("/v1/classify", bearer(kAlice));
    QVERIFY(res && res->status == 405);
    QCOMPARE(res->get_header_value("Allow"), std::string("POST"));
    QCOMPARE(errorOf(res)["field"], json("method"));
    res = client.Post("/v1/info", bearer(kAlice), "{}", "application/json");
    QVERIFY(res && res->status == 405);
    QCOMPARE(res->get_header_value("Allow"), std::string("GET"));

    // curl -d's default Content-Type: the HTTP library caps such bodies at 8 KiB; the
    // refusal must say so, not blame max_body_bytes.
    const std::string eight = classifyBody("uint8", {8, 1, 28, 28}, std::string(8 * 784, '\0'));
    res = client.Post("/v1/classify", bearer(kAlice), eight, "application/x-www-form-urlencoded");
    QVERIFY(res && res->status == 413);
    QCOMPARE(errorOf(res)["field"], json("Content-Type"));
    QVERIFY(errorOf(res)["message"].get<std::string>().find("application/json") != std::string::npos);
    res = post(bearer(kAlice), eight); // the same body as JSON is answered
    QVERIFY(res && res->status == 200);

    res = post(bearer(kAlice), "{\"dtype\": \"uint8\", ");
    QVERIFY(res && res->status == 400);
    QCOMPARE(errorOf(res)["field"], json("body"));
    res = post(bearer(kAlice), classifyBody("uint8", {1, 3, 28, 28}, std::string(3 * 784, '\0')));
    QVERIFY(res && res->status == 400);
    QCOMPARE(errorOf(res)["field"], json("shape[1]"));
    res = post(bearer(kAlice), classifyBody("float64", {1, 1, 28, 28}, std::string(8 * 784, '\0')));
    QVERIFY(res && res->status == 400);
    QCOMPARE(errorOf(res)["field"], json("dtype"));
    res = post(bearer(kAlice), classifyBody("float32", {1, 1, 28, 28}, std::string(784, '\0')));
    QVERIFY(res && res->status == 400);
    QCOMPARE(errorOf(res)["field"], json("data"));

    res = post(bearer(kAlice), classifyBody("uint8", {65, 1, 28, 28}, std::string(65 * 784, '\0')));
    QVERIFY(res && res->status == 413); // the batch limit
    QCOMPARE(errorOf(res)["field"], json("shape[0]"));
    res = post(bearer(kAlice), std::string((1 << 20) + 1, ' ')); // the body limit, refused before it is read
    QVERIFY(res && res->status == 413);
    QCOMPARE(errorOf(res)["field"], json("body"));
    QVERIFY2(errorOf(res)["message"].get<std::string>().find("1048576 bytes") != std::string::npos, res->body.c_str());

    // Rate: bob's bucket holds 2 requests and refills at 0.5/s.
    QCOMPARE(post(bearer(kBob), one)->status, 200);
    QCOMPARE(post(bearer(kBob), one)->status, 200);
    res = post(bearer(kBob), one);
    QVERIFY(res && res->status == 429);
    QCOMPARE(res->get_header_value("Retry-After"), std::string("2"));

    // Budget: carol may make 5 queries.
    auto three = classifyBody("uint8", {3, 1, 28, 28}, std::string(3 * 784, '\0'));
    res = post(bearer(kCarol), three);
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["remaining_budget"].get<int>(), 2);
    res = post(bearer(kCarol), three);
    QVERIFY(res && res->status == 402);
    QVERIFY(errorOf(res)["message"].get<std::string>().find("budget") != std::string::npos);
    res = client.Get("/v1/info", bearer(kCarol));
    QVERIFY(res && res->status == 200);
    const json info = json::parse(res->body);
    QCOMPARE(info["budget"]["remaining"].get<int>(), 2);
    QCOMPARE(info["key"], json("carol"));
    QCOMPARE(info["price"]["per_1000_queries"].get<double>(), 0.25);
    QCOMPARE(info["input"]["shape"], json({1, 28, 28}));
    QCOMPARE(info["output"]["mode"], json("label"));
    QCOMPARE(info["classes"].size(), size_t(10));
    // The run's data is fashion-mnist (the default): its classes by name (walk item f).
    QCOMPARE(info["classes"][0], json("T-shirt/top"));
    QCOMPARE(info["classes"][9], json("Ankle boot"));
    QCOMPARE(json::parse(client.Get("/healthz")->body)["status"], json("ok"));
    QCOMPARE(client.Get("/v2/nothing")->status, 404);
    server.reset(); // SIGTERM: the log is complete once it exits

    sqlite3* log = nullptr;
    QCOMPARE(sqlite3_open(dir_.filePath("refuse.sqlite").toUtf8().constData(), &log), SQLITE_OK);
    for (const auto& [status, count] : std::vector<std::pair<int, int>>{{401, 4}, {400, 5}, {405, 2}, {413, 3}, {429, 1}, {402, 1}, {404, 1}})
      QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE status = " + std::to_string(status)), int64_t(count));
    QCOMPARE(scalar(log, "SELECT SUM(batch) FROM requests WHERE key = 'carol' AND status = 200"), int64_t(3));
    QCOMPARE(text(log, "SELECT error FROM requests WHERE status = 400 AND error LIKE 'shape%'").substr(0, 8),
             std::string("shape[1]"));
    sqlite3_close(log);
  }

  // 8 clients at once: every answered request and each of its inputs has its log row.
  void concurrentClientsLoseNoLogRow() {
    auto server = serve("1", writeJson("serve-conc.json", serveConfig("conc.sqlite", {{"mode", "topk"}, {"k", 2}})));
    QVERIFY(server->port > 0);
    const std::string pixels = idxImages(testImages(), 2);
    const std::string body = classifyBody("uint8", {2, 1, 28, 28}, pixels);
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&] {
        httplib::Client client("127.0.0.1", server->port);
        for (int i = 0; i < 25; ++i) {
          auto res = client.Post("/v1/classify", bearer(kAlice), body, "application/json");
          (res && res->status == 200 ? ok : failed)++;
        }
      });
    for (auto& c : clients) c.join();
    QCOMPARE(failed.load(), 0);
    QCOMPARE(ok.load(), 200);
    server.reset();
    sqlite3* log = nullptr;
    QCOMPARE(sqlite3_open(dir_.filePath("conc.sqlite").toUtf8().constData(), &log), SQLITE_OK);
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE status = 200 AND path = '/v1/classify'"), int64_t(200));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM inputs"), int64_t(400));
    // Two distinct images, each hashed the same way every time; sketches are 8x8 float32.
    QCOMPARE(scalar(log, "SELECT COUNT(DISTINCT sha256) FROM inputs"), int64_t(2));
    QCOMPARE(scalar(log, "SELECT MIN(length(sketch)) FROM inputs"), int64_t(8 * 8 * 4));
    QCOMPARE(text(log, "SELECT DISTINCT output_mode FROM requests WHERE status = 200"), std::string("topk"));
    QCOMPARE(text(log, "PRAGMA journal_mode"), std::string("wal"));
    sqlite3_close(log);
  }

  // kill -9 in the middle of traffic: the log passes integrity_check, holds a
  // row for every answer a client got, and a restarted server charges the
  // budget from it.
  void logSurvivesKill9() {
    json config = serveConfig("kill.sqlite", {{"mode", "label"}});
    config["keys"][2]["budget"] = 1000000;
    const QString path = writeJson("serve-kill.json", config);
    auto server = serve("1", path);
    QVERIFY(server->port > 0);
    const std::string body = classifyBody("uint8", {1, 1, 28, 28}, idxImages(testImages(), 1));
    std::atomic<int> answered{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
      clients.emplace_back([&] {
        httplib::Client client("127.0.0.1", server->port);
        while (!stop) {
          auto res = client.Post("/v1/classify", bearer(kCarol), body, "application/json");
          if (res && res->status == 200) answered++;
        }
      });
    while (answered < 50) QThread::msleep(10);
    server->process->kill(); // SIGKILL
    QVERIFY(server->process->waitForFinished(10000));
    stop = true;
    for (auto& c : clients) c.join();

    sqlite3* log = nullptr;
    QCOMPARE(sqlite3_open(dir_.filePath("kill.sqlite").toUtf8().constData(), &log), SQLITE_OK);
    QCOMPARE(text(log, "PRAGMA integrity_check"), std::string("ok"));
    const int64_t logged = scalar(log, "SELECT COUNT(*) FROM requests WHERE status = 200 AND key = 'carol'");
    QVERIFY2(logged >= answered.load(), qPrintable(QString("%1 logged, %2 answered").arg(logged).arg(answered.load())));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM inputs"), logged);
    sqlite3_close(log);

    auto again = serve("1", path);
    QVERIFY(again->port > 0);
    httplib::Client client("127.0.0.1", again->port);
    auto res = client.Get("/v1/info", bearer(kCarol));
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["budget"]["remaining"].get<int64_t>(), 1000000 - logged);
  }

  void sigtermStopsGracefully() {
    auto server = serve("1", writeJson("serve-term.json", serveConfig("term.sqlite", {{"mode", "label"}})));
    QVERIFY(server->port > 0);
    httplib::Client client("127.0.0.1", server->port);
    QCOMPARE(client.Get("/healthz")->status, 200);
    server->process->terminate();
    QVERIFY(server->process->waitForFinished(10000));
    QCOMPARE(server->process->exitStatus(), QProcess::NormalExit);
    QCOMPARE(server->process->exitCode(), 0);
    QVERIFY(QString::fromUtf8(server->process->readAllStandardError()).contains("stopped; 1 requests"));
    QVERIFY(server->out.contains("listening=http://127.0.0.1:"));
  }

  void badTeacherOrConfigExitsNamingIt() {
    Result r = cli({"serve", "1", "--config", dir_.filePath("nowhere.json"), "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("nowhere.json"), qPrintable(r.err));
    json config = serveConfig("bad.sqlite", {{"mode", "topk"}, {"k", 0}});
    r = cli({"serve", "1", "--config", writeJson("serve-bad.json", config), "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("serve-bad.json: output.k"), qPrintable(r.err)); // walk item c: the file, like other errors
    r = cli({"serve", "1", "--config", writeJson("serve-bad.json", serveConfig("bad.sqlite", {{"mode", "logits"}})),
             "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("serve-bad.json: output.mode: unknown value"), qPrintable(r.err));
    config = serveConfig("bad.sqlite", {{"mode", "label"}});
    r = cli({"serve", "42", "--config", writeJson("serve-ok.json", config), "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("TEACHER") && r.err.contains("run 42"), qPrintable(r.err));
    r = cli({"serve", "1", "--config", writeJson("serve-ok.json", config), "--port", "0", "--db",
             dir_.filePath("no-store.sqlite")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--db") && !QFile::exists(dir_.filePath("no-store.sqlite")), qPrintable(r.err));
    config["input"] = {{"shape", {1, 28, 28}}, {"classes", 10}};
    r = cli({"serve", dir_.filePath("missing.pt"), "--config", writeJson("serve-missing.json", config), "--port", "0"});
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains("missing.pt"), qPrintable(r.err));
  }

  // ---- idempotent requests (issue 17: a resumed run buys nothing twice) -------

  // The same Idempotency-Key with the same inputs: the second reply repeats the
  // answers (gaussian_noise unseeded, so only a recomputation under the same
  // server matches), says replayed, and spends no budget, before or after a
  // restart; other inputs under the key are a 409, a malformed key a 400.
  void idempotencyKeyReplaysWithoutCharging() {
    const json output = {{"mode", "probs"}, {"transforms", {{{"name", "gaussian_noise"}, {"scale", 0.05}}}}};
    const QString config = writeJson("serve-idem.json", serveConfig("idem.sqlite", output));
    auto server = serve("1", config);
    QVERIFY(server->port > 0);
    httplib::Client client("127.0.0.1", server->port);
    const std::string pixels = idxImages(testImages(), 4);
    const std::string three = classifyBody("uint8", {3, 1, 28, 28}, pixels.substr(0, 3 * 784));
    const std::string other = classifyBody("uint8", {3, 1, 28, 28}, pixels.substr(784, 3 * 784));
    auto post = [&](const std::string& secret, const std::string& idem, const std::string& body) {
      httplib::Headers h = bearer(secret);
      h.emplace("Idempotency-Key", idem);
      return client.Post("/v1/classify", h, body, "application/json");
    };
    auto remaining = [&](const std::string& secret) {
      auto res = client.Get("/v1/info", bearer(secret));
      return res && res->status == 200 ? json::parse(res->body)["budget"]["remaining"].get<int64_t>() : int64_t(-1);
    };
    const std::string idem = "batch-0001-abcdef";

    auto res = post(kAlice, idem, three);
    QVERIFY(res && res->status == 200);
    const json first = json::parse(res->body);
    QCOMPARE(first["queries"], json(3));
    QCOMPARE(first["replayed"], json(false));
    const int64_t after_first = remaining(kAlice);
    QCOMPARE(after_first, int64_t(1000000 - 3));
    res = post(kAlice, idem, three);
    QVERIFY(res && res->status == 200);
    const json again = json::parse(res->body);
    QCOMPARE(again["replayed"], json(true));
    QCOMPARE(again["queries"], json(0));
    QCOMPARE(again["cost"].get<double>(), 0.0);
    QCOMPARE(again["outputs"], first["outputs"]);
    QCOMPARE(again["remaining_budget"].get<int64_t>(), after_first);
    QCOMPARE(remaining(kAlice), after_first);
    // The key belongs to alice's requests only: carol's first use of it is charged.
    res = post(kCarol, idem, three);
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["replayed"], json(false));
    QCOMPARE(remaining(kCarol), int64_t(2));
    // A replay needs no budget: carol has 2 queries left, the batch has 3.
    res = post(kCarol, idem, three);
    QVERIFY2(res && res->status == 200, res ? res->body.c_str() : "no reply");
    QCOMPARE(json::parse(res->body)["replayed"], json(true));
    QCOMPARE(remaining(kCarol), int64_t(2));

    // The same key with other inputs: 409 naming the header, nothing charged.
    res = post(kAlice, idem, other);
    QVERIFY(res && res->status == 409);
    QCOMPARE(json::parse(res->body)["error"]["field"], json("Idempotency-Key"));
    QVERIFY2(res->body.find("input 0 differs") != std::string::npos, res->body.c_str());
    QCOMPARE(remaining(kAlice), after_first);
    // Malformed keys: 400 naming the header.
    for (const std::string& bad : {std::string("short"), std::string(129, 'k')}) {
      res = post(kAlice, bad, three);
      QVERIFY2(res && res->status == 400, qPrintable(QString::fromStdString("key of " + std::to_string(bad.size()))));
      QCOMPARE(json::parse(res->body)["error"]["field"], json("Idempotency-Key"));
    }
    // Without a key the same inputs are a new purchase.
    res = client.Post("/v1/classify", bearer(kAlice), three, "application/json");
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["queries"], json(3));
    QCOMPARE(remaining(kAlice), after_first - 3);

    // 8 clients at once with one new key (connected first, then released
    // together, 64 inputs each so the model is busy): one is charged, 7 replayed.
    const std::string many = classifyBody("uint8", {64, 1, 28, 28}, idxImages(testImages(), 64));
    std::atomic<int> replayed{0}, charged{0}, failed{0}, connected{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&] {
        httplib::Client c("127.0.0.1", server->port);
        c.set_keep_alive(true);
        auto health = c.Get("/healthz");
        connected++;
        while (!go) std::this_thread::yield();
        httplib::Headers h = bearer(kAlice);
        h.emplace("Idempotency-Key", "concurrent-0001");
        if (!health) {
          failed++;
          return;
        }
        auto r = c.Post("/v1/classify", h, many, "application/json");
        if (!r || r->status != 200) failed++;
        else if (json::parse(r->body)["replayed"].get<bool>()) replayed++;
        else charged++;
      });
    while (connected < 8) std::this_thread::yield();
    go = true;
    for (auto& c : clients) c.join();
    QCOMPARE(failed.load(), 0);
    QCOMPARE(charged.load(), 1);
    QCOMPARE(replayed.load(), 7);
    QCOMPARE(remaining(kAlice), after_first - 3 - 64);
    server.reset();

    sqlite3* log = nullptr;
    QCOMPARE(sqlite3_open(dir_.filePath("idem.sqlite").toUtf8().constData(), &log), SQLITE_OK);
    QCOMPARE(text(log, "SELECT value FROM meta WHERE name = 'schema_version'"), std::string("2"));
    const std::string mine = "key = 'alice' AND idempotency_key = '" + idem + "'";
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE status = 200 AND " + mine), int64_t(2));
    const int64_t original = scalar(log, "SELECT id FROM requests WHERE replay_of IS NULL AND status = 200 AND " + mine);
    QCOMPARE(scalar(log, "SELECT replay_of FROM requests WHERE replay_of IS NOT NULL AND " + mine), original);
    QCOMPARE(scalar(log, "SELECT batch FROM requests WHERE replay_of IS NOT NULL AND " + mine), int64_t(0));
    // One set of inputs rows for the key, however often it was replayed.
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM inputs i JOIN requests r ON r.id = i.request_id WHERE r." + mine),
             int64_t(3));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM inputs i JOIN requests r ON r.id = i.request_id WHERE "
                         "r.idempotency_key = 'concurrent-0001'"),
             int64_t(64));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE status = 409 AND error LIKE 'Idempotency-Key:%'"),
             int64_t(1));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE status = 400 AND error LIKE 'Idempotency-Key:%'"),
             int64_t(2));
    sqlite3_close(log);
    // The GUI's traffic panel reads queries as summed batches: replays add none.
    RequestLogReader reader(dir_.filePath("idem.sqlite").toStdString());
    int64_t alice_queries = -1;
    for (const auto& t : reader.readNew())
      if (t.key == "alice" && t.status == 200) alice_queries = t.queries;
    QCOMPARE(alice_queries, int64_t(3 + 3 + 64));
    // Budgets are charged from the log on restart: the replays still cost nothing.
    auto restarted = serve("1", config);
    QVERIFY(restarted->port > 0);
    httplib::Client fresh("127.0.0.1", restarted->port);
    res = fresh.Get("/v1/info", bearer(kAlice));
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["budget"]["remaining"].get<int64_t>(), after_first - 3 - 64);
    res = fresh.Get("/v1/info", bearer(kCarol));
    QCOMPARE(json::parse(res->body)["budget"]["remaining"].get<int64_t>(), int64_t(2));
  }

  // A log written before idempotency keys (schema_version 1) opens, keeps its
  // rows and budgets, and is upgraded in place; a newer schema is refused.
  void requestLogV1OpensAndUpgrades() {
    const QString path = dir_.filePath("v1.sqlite");
    sqlite3* old = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &old), SQLITE_OK);
    const char* v1 = R"sql(
CREATE TABLE requests(id INTEGER PRIMARY KEY, time TEXT NOT NULL, time_ms INTEGER NOT NULL, key TEXT,
  method TEXT NOT NULL, path TEXT NOT NULL, peer TEXT, status INTEGER NOT NULL, batch INTEGER NOT NULL,
  dtype TEXT, output_mode TEXT, error TEXT);
CREATE INDEX requests_key ON requests(key, status);
CREATE TABLE inputs(request_id INTEGER NOT NULL REFERENCES requests(id), idx INTEGER NOT NULL,
  sha256 TEXT NOT NULL, sketch_h INTEGER NOT NULL, sketch_w INTEGER NOT NULL, sketch BLOB NOT NULL,
  PRIMARY KEY(request_id, idx));
CREATE INDEX inputs_hash ON inputs(sha256);
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES('schema_version', '1');
INSERT INTO requests VALUES(1, '2024-01-01T00:00:00.000Z', 1704067200000, 'alice', 'POST', '/v1/classify',
  '127.0.0.1', 200, 4, 'uint8', 'probs', NULL);
INSERT INTO requests VALUES(2, '2024-01-01T00:00:01.000Z', 1704067201000, 'carol', 'POST', '/v1/classify',
  '127.0.0.1', 200, 2, 'uint8', 'probs', NULL);
)sql";
    QCOMPARE(sqlite3_exec(old, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(old);

    json config = serveConfig("v1.sqlite", {{"mode", "label"}});
    auto server = serve("1", writeJson("serve-v1.json", config));
    QVERIFY(server->port > 0);
    httplib::Client client("127.0.0.1", server->port);
    auto res = client.Get("/v1/info", bearer(kAlice));
    QVERIFY(res && res->status == 200);
    QCOMPARE(json::parse(res->body)["budget"]["remaining"].get<int64_t>(), int64_t(1000000 - 4)); // rows kept
    httplib::Headers h = bearer(kCarol);
    h.emplace("Idempotency-Key", "after-upgrade-01");
    const std::string one = classifyBody("uint8", {1, 1, 28, 28}, idxImages(testImages(), 1));
    for (int i = 0; i < 2; ++i) {
      res = client.Post("/v1/classify", h, one, "application/json");
      QVERIFY2(res && res->status == 200, res ? res->body.c_str() : "no reply");
      QCOMPARE(json::parse(res->body)["replayed"], json(i == 1));
    }
    server.reset();

    sqlite3* log = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &log), SQLITE_OK);
    QCOMPARE(text(log, "SELECT value FROM meta WHERE name = 'schema_version'"), std::string("2"));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM pragma_table_info('requests') WHERE name IN ('idempotency_key', "
                         "'replay_of')"),
             int64_t(2));
    QCOMPARE(text(log, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%idempotency_key%'"),
             std::string("requests_idempotency"));
    QCOMPARE(scalar(log, "SELECT COUNT(*) FROM requests WHERE id <= 2 AND idempotency_key IS NULL"), int64_t(2));
    QCOMPARE(scalar(log, "SELECT SUM(batch) FROM requests WHERE key = 'carol' AND status = 200"), int64_t(3));
    QCOMPARE(text(log, "PRAGMA integrity_check"), std::string("ok"));
    // A log from a newer distillery is refused, naming the file and the version.
    QCOMPARE(sqlite3_exec(log, "UPDATE meta SET value = '9' WHERE name = 'schema_version'", nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(log);
    const Result r = cli({"serve", "1", "--config", dir_.filePath("serve-v1.json"), "--port", "0", "--db", db()});
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains("v1.sqlite") && r.err.contains("schema_version 9"), qPrintable(r.err));
  }

  // ---- defenses (issue 17 part 2) --------------------------------------------

  // Every defense, alone and chained, then the probs and topk modes, against
  // tests/defense_reference.py on fixed rows; gaussian_noise's draws are handed over.
  void defensesMatchTheTorchReference() {
    if (!pythonHasTorch()) QSKIP("python3-torch is not installed (/usr/bin/python3 cannot import torch)");
    const ProbBatch batch = fixedBatch();
    const uint64_t seed = 7;
    const json noisy = {{"name", "gaussian_noise"}, {"scale", 0.05}, {"seed", seed}};
    const json rough = {{"name", "gaussian_noise"}, {"scale", 0.3}, {"seed", seed}}; // clips many classes to 0
    const json rs = {{"name", "reverse_sigmoid"}, {"beta", 0.7}, {"gamma", 0.3}};
    const json rs_strong = {{"name", "reverse_sigmoid"}, {"beta", 2.0}, {"gamma", 1.5}};
    const json am = {{"name", "adaptive_misinformation"}, {"tau", 0.5}}; // nu at its default, 1000
    const json am_soft = {{"name", "adaptive_misinformation"}, {"tau", 0.7}, {"nu", 10}};
    const std::vector<json> cases = {
        json::array({noisy}), json::array({rough}), json::array({rs}), json::array({rs_strong}),
        json::array({am}), json::array({am_soft}), json::array({noisy, rs}), json::array({rs, am_soft})};
    const int k = 3;
    json spec = {{"probs", rowsOf(batch.p, batch.classes)},
                 {"noise", rowsOf(gaussianNoise(seed, batch), batch.classes)},
                 {"k", k},
                 {"cases", cases}};
    const json ref = runReference("defense_reference.py", {}, spec.dump());
    QVERIFY2(ref.contains("cases"), ref.dump().c_str());
    for (size_t i = 0; i < cases.size(); ++i) {
      const json probs = buildOutputPipeline({{"mode", "probs"}, {"transforms", cases[i]}}, 6).apply(batch);
      const json topk = buildOutputPipeline({{"mode", "topk"}, {"k", k}, {"transforms", cases[i]}}, 6).apply(batch);
      const json& want = ref["cases"][i];
      bool changed = false;
      for (int64_t r = 0; r < batch.rows; ++r) {
        const std::string where = cases[i].dump() + " row " + std::to_string(r) + ": " + probs[size_t(r)].dump() +
                                  " vs " + want["probs"][size_t(r)].dump();
        double sum = 0;
        for (int64_t c = 0; c < batch.classes; ++c) {
          const double got = probs[size_t(r)]["probs"][size_t(c)].get<double>();
          QVERIFY2(std::abs(got - want["probs"][size_t(r)][size_t(c)].get<double>()) < 1e-12, where.c_str());
          QVERIFY2(got >= 0, where.c_str());
          changed |= std::abs(got - batch.row(r)[c]) > 1e-4;
          sum += got;
        }
        QVERIFY2(std::abs(sum - 1) < 1e-12, where.c_str());
        // Classes by their reference probability: noise can clip several to 0, and torch.topk orders ties freely.
        const json& classes = topk[size_t(r)]["classes"];
        QVERIFY2(classes.size() == size_t(k) && classes[0] == probs[size_t(r)]["label"], (where + classes.dump()).c_str());
        for (int c = 0; c < k; ++c) {
          const double want_c = want["topk"]["probs"][size_t(r)][size_t(c)].get<double>();
          QVERIFY2(std::abs(topk[size_t(r)]["probs"][size_t(c)].get<double>() - want_c) < 1e-12, where.c_str());
          QVERIFY2(std::abs(want["probs"][size_t(r)][classes[size_t(c)].get<size_t>()].get<double>() - want_c) < 1e-12,
                   (where + classes.dump()).c_str());
          for (int d = 0; d < c; ++d) QVERIFY2(classes[size_t(d)] != classes[size_t(c)], where.c_str());
        }
      }
      QVERIFY2(changed, qPrintable(QString::fromStdString(cases[i].dump() + " left every row as it was")));
    }
  }

  // The noise the reference is handed must itself be standard normal, fixed by
  // the seed and the row (a repeated query gets the same noise), and new per seed.
  void gaussianNoiseIsSeededAndStandardNormal() {
    ProbBatch b;
    b.classes = 10;
    b.rows = 2000;
    for (int64_t r = 0; r < b.rows; ++r) {
      std::vector<double> row(10);
      double sum = 0;
      for (int c = 0; c < 10; ++c) sum += row[size_t(c)] = 1.0 + double((c * 13) % 17) + double(r * (c + 1)) / 1000;
      for (double v : row) b.p.push_back(v / sum);
    }
    b.p.insert(b.p.end(), b.p.begin(), b.p.begin() + 10); // row 0 again, as a repeated query
    ++b.rows;
    const std::vector<double> z = gaussianNoise(42, b);
    const size_t draws = z.size() - 10; // all but the repeat
    double mean = 0, var = 0, within1 = 0, within2 = 0;
    for (size_t i = 0; i < draws; ++i) mean += z[i];
    mean /= double(draws);
    for (size_t i = 0; i < draws; ++i) {
      const double v = z[i];
      var += (v - mean) * (v - mean);
      within1 += std::abs(v) < 1;
      within2 += std::abs(v) < 2;
    }
    var /= double(draws - 1);
    within1 /= double(draws);
    within2 /= double(draws);
    // 20,000 draws: bounds at about 5 standard errors.
    QVERIFY2(std::abs(mean) < 0.035, qPrintable(QString::number(mean)));
    QVERIFY2(std::abs(var - 1) < 0.05, qPrintable(QString::number(var)));
    QVERIFY2(std::abs(within1 - 0.6827) < 0.017, qPrintable(QString::number(within1)));
    QVERIFY2(std::abs(within2 - 0.9545) < 0.008, qPrintable(QString::number(within2)));
    QVERIFY(gaussianNoise(42, b) == z);
    const std::vector<double> other = gaussianNoise(43, b);
    QVERIFY(other != z);
    QVERIFY(std::equal(z.begin(), z.begin() + 10, z.end() - 10)); // the repeated row: the same noise
    QVERIFY(!std::equal(z.begin(), z.begin() + 10, z.begin() + 10));
  }

  // What the references cannot reach: zeros, the switch of adaptive_misinformation, no reported seed.
  void defenseEdgeCases() {
    ProbBatch b;
    b.rows = 2;
    b.classes = 4;
    b.p = {0.97, 0.03, 0.0, 0.0, 0.4, 0.3, 0.2, 0.1};
    // A top probability far above tau: the answer is the model's; far below: the misinformation,
    // which with classes at exactly 0 shares all its mass between them.
    const ProbBatch am = adaptiveMisinformationDefense(b, 0.5, 1000);
    for (int c = 0; c < 4; ++c) QCOMPARE(am.p[size_t(c)], b.p[size_t(c)]);
    const ProbBatch all = adaptiveMisinformationDefense(b, 1.0, 1e6);
    QCOMPARE(all.p[2], 0.5);
    QCOMPARE(all.p[3], 0.5);
    QVERIFY(std::abs(all.p[4] - (1 / 0.4) / (1 / 0.4 + 1 / 0.3 + 1 / 0.2 + 1 / 0.1)) < 1e-15);
    // Noise that wipes out a row leaves it uniform, not undefended.
    const ProbBatch wiped = gaussianNoiseDefense(b, 1e9, 1);
    for (double v : wiped.p) QVERIFY(std::isfinite(v) && v >= 0);
    for (int64_t r = 0; r < 2; ++r) {
      double sum = 0;
      for (int c = 0; c < 4; ++c) sum += wiped.row(r)[c];
      QVERIFY(std::abs(sum - 1) < 1e-12);
    }
    const OutputPipeline pipe = buildOutputPipeline(
        {{"mode", "label"}, {"transforms", {{{"name", "gaussian_noise"}, {"scale", 0.1}, {"seed", 99}}}}}, 4);
    QCOMPARE(pipe.parameters["transforms"], json::parse(R"([{"name": "gaussian_noise", "scale": 0.1}])"));
    QVERIFY(!buildOutputPipeline({{"mode", "label"}}, 4).parameters.contains("transforms"));
  }

  void defenseConfigErrorsNameTheField() {
    const json rs = {{"name", "reverse_sigmoid"}, {"beta", 0.7}, {"gamma", 0.3}};
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"name", "reverse_sigmoid"}}, "output.transforms"}, // an object, not a list
        {json::array({"reverse_sigmoid"}), "output.transforms[0]"},
        {json::array({{{"name", "blur"}}}), "output.transforms[0].name"},
        {json::array({{{"beta", 1}}}), "output.transforms[0].name"},
        {json::array({{{"name", "reverse_sigmoid"}, {"beta", 0.5}}}), "output.transforms[0].gamma"},
        {json::array({{{"name", "reverse_sigmoid"}, {"beta", -1}, {"gamma", 1}}}), "output.transforms[0].beta"},
        {json::array({{{"name", "gaussian_noise"}}}), "output.transforms[0].scale"},
        {json::array({{{"name", "gaussian_noise"}, {"scale", 0.1}, {"sd", 1}}}), "output.transforms[0].sd"},
        {json::array({{{"name", "gaussian_noise"}, {"scale", 0.1}, {"seed", 0.5}}}), "output.transforms[0].seed"},
        {json::array({rs, {{"name", "adaptive_misinformation"}, {"tau", 1.5}}}), "output.transforms[1].tau"},
        {json::array({rs, {{"name", "adaptive_misinformation"}}}), "output.transforms[1].tau"},
        {json::array({{{"name", "adaptive_misinformation"}, {"tau", 0.5}, {"nu", 0}}}), "output.transforms[0].nu"},
        {json::array({{{"name", "adaptive_misinformation"}, {"tau", 0.5}, {"misinformation", "model"}}}),
         "output.transforms[0].misinformation"},
    };
    for (const auto& [transforms, field] : cases) {
      try {
        buildOutputPipeline({{"mode", "topk"}, {"k", 3}, {"transforms", transforms}}, 10);
        QFAIL(qPrintable(QString::fromStdString("accepted " + transforms.dump())));
      } catch (const ConfigError& e) {
        QVERIFY2(e.field() == field, e.what());
      }
    }
    // And from the serve config file, at start: exit 2 naming the file and the field.
    json config = serveConfig("bad-defense.sqlite", {{"mode", "label"}, {"transforms", {{{"name", "reverse_sigmoid"}, {"beta", 1}}}}});
    Result r = cli({"serve", "1", "--config", writeJson("serve-bad-defense.json", config), "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("serve-bad-defense.json") && r.err.contains("output.transforms[0].gamma"), qPrintable(r.err));
  }

  // reverse_sigmoid then adaptive_misinformation then topk, on the running server:
  // PyTorch's probabilities of the exported model through the defense reference.
  void defendedServerMatchesTheReference() {
    if (!pythonHasTorch()) QSKIP("python3-torch is not installed (/usr/bin/python3 cannot import torch)");
    const int n = 16, k = 3;
    const auto& pre = summary_["data"]["preprocessing"];
    QProcess py;
    py.start(kPython, {QString(DISTILLERY_SOURCE_DIR) + "/tests/serve_reference.py", dir_.filePath("model.pt"),
                       QString::fromStdString(testImages()), QString::number(n),
                       QString::number(pre["divide_by"].get<double>(), 'g', 17),
                       QString::number(pre["mean"][0].get<double>(), 'g', 17),
                       QString::number(pre["std"][0].get<double>(), 'g', 17), QString::number(k), "2"});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const json model = json::parse(py.readAllStandardOutput().toStdString());
    const json defenses = {{{"name", "reverse_sigmoid"}, {"beta", 0.7}, {"gamma", 0.3}},
                           {{"name", "adaptive_misinformation"}, {"tau", 0.6}, {"nu", 50}}};
    const json spec = {{"probs", model["probs"]},
                       {"noise", rowsOf(std::vector<double>(size_t(n) * 10, 0.0), 10)},
                       {"k", k},
                       {"cases", {defenses}}};
    const json ref = runReference("defense_reference.py", {}, spec.dump());
    QVERIFY2(ref.contains("cases"), ref.dump().c_str());
    const json& want = ref["cases"][0]["topk"];

    const json output = {{"mode", "topk"}, {"k", k}, {"transforms", defenses}};
    auto server = serve("1", writeJson("serve-defended.json", serveConfig("defended.sqlite", output)));
    QVERIFY(server->port > 0);
    const json reply = classify(server->port, kAlice, classifyBody("uint8", {n, 1, 28, 28}, idxImages(testImages(), n)));
    QVERIFY2(reply.contains("outputs"), reply.dump().c_str());
    json reported = defenses;
    reported[1]["misinformation"] = "reverse"; // the misinformation distribution, by its default name
    QCOMPARE(reply["output"]["transforms"], reported);
    double moved = 0;
    for (int i = 0; i < n; ++i) {
      const json& out = reply["outputs"][size_t(i)];
      const std::string where = "input " + std::to_string(i) + ": " + out.dump() + " vs " + want["probs"][size_t(i)].dump();
      QVERIFY2(out["classes"] == want["classes"][size_t(i)], where.c_str());
      QVERIFY2(out["label"] == want["classes"][size_t(i)][0], where.c_str());
      for (int c = 0; c < k; ++c) {
        QVERIFY2(std::abs(out["probs"][size_t(c)].get<double>() - want["probs"][size_t(i)][size_t(c)].get<double>()) < 1e-6,
                 where.c_str());
        moved = std::max(moved, std::abs(out["probs"][size_t(c)].get<double>() -
                                         model["topk"]["probs"][size_t(i)][size_t(c)].get<double>()));
      }
    }
    QVERIFY2(moved > 1e-3, "the defended answers equal the undefended ones");
    httplib::Client client("127.0.0.1", server->port);
    auto info = client.Get("/v1/info", bearer(kAlice));
    QVERIFY(info && info->status == 200);
    QCOMPARE(json::parse(info->body)["output"], reply["output"]);
  }

  // ---- mad (issue 17 part 2, Prediction Poisoning) ----------------------------

  // madDefense on fixed answers and the real surrogate's last layer (an mlp on
  // tabular rows and a cnn on small images) against tests/mad_reference.py,
  // which takes the Jacobian by autograd: the same target class, the same answer.
  void madMatchesTheAutogradReference() {
    if (!pythonHasTorch()) QSKIP("python3-torch is not installed (/usr/bin/python3 cannot import torch)");
    const ProbBatch y = fixedBatch();
    struct Surrogate {
      json spec;
      std::vector<int64_t> shape;
    };
    const std::vector<Surrogate> surrogates = {{{{"zoo", "mlp"}, {"hidden", {16}}}, {8}},
                                               {{{"zoo", "mlp"}, {"hidden", json::array()}}, {8}},
                                               {{{"zoo", "cnn"}, {"channels", {4}}, {"fc", 12}}, {1, 8, 8}}};
    for (const Surrogate& s : surrogates) {
      const MadSurrogate surrogate(modelSpecFromJson(s.spec, "surrogate"), 5, s.shape, y.classes, "surrogate");
      int64_t numel = 1;
      for (int64_t d : s.shape) numel *= d;
      std::vector<float> x(size_t(y.rows * numel));
      for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(0.37 * double(i) + 1.0) * 1.5);
      const MadLastLayer layer = surrogate.lastLayer(x.data(), y.rows);
      QCOMPARE(layer.rows, y.rows);
      QCOMPARE(layer.classes, y.classes);
      std::set<int64_t> targets;
      for (const double epsilon : {0.05, 0.5, 2.0}) {
        std::vector<int64_t> chosen;
        const ProbBatch got = madDefense(y, layer, epsilon, &chosen);
        const json spec = {{"probs", rowsOf(y.p, y.classes)},
                           {"features", rowsOf(layer.h, layer.features)},
                           {"weight", rowsOf(layer.weight, layer.features)},
                           {"bias", layer.bias},
                           {"epsilon", epsilon}};
        const json ref = runReference("mad_reference.py", {}, spec.dump());
        QVERIFY2(ref.contains("k"), ref.dump().c_str());
        for (int64_t r = 0; r < y.rows; ++r) {
          const std::string where = s.spec.dump() + " epsilon " + std::to_string(epsilon) + " row " + std::to_string(r) +
                                    ": k " + std::to_string(chosen[size_t(r)]) + " vs " + ref["k"][size_t(r)].dump() +
                                    ", deviations " + ref["deviation"][size_t(r)].dump();
          QVERIFY2(chosen[size_t(r)] == ref["k"][size_t(r)].get<int64_t>(), where.c_str());
          targets.insert(chosen[size_t(r)]);
          double sum = 0, l1 = 0;
          for (int64_t c = 0; c < y.classes; ++c) {
            const double v = got.row(r)[c];
            QVERIFY2(std::abs(v - ref["probs"][size_t(r)][size_t(c)].get<double>()) < 1e-6, where.c_str());
            QVERIFY2(v >= 0, where.c_str());
            sum += v;
            l1 += std::abs(v - y.row(r)[c]);
          }
          QVERIFY2(std::abs(sum - 1) < 1e-12, where.c_str());
          QVERIFY2(l1 <= epsilon + 1e-9, where.c_str());
          // The whole budget is spent unless the target itself is nearer.
          double to_target = 0;
          for (int64_t c = 0; c < y.classes; ++c) to_target += std::abs((c == chosen[size_t(r)]) - y.row(r)[c]);
          QVERIFY2(std::abs(l1 - std::min(epsilon, to_target)) < 1e-9, where.c_str());
        }
      }
      // Not a constant choice: the surrogate's gradients pick different targets for different rows.
      QVERIFY2(targets.size() > 1, s.spec.dump().c_str());
    }
  }

  void madConfigErrorsNameTheField() {
    const json mlp = {{"zoo", "mlp"}, {"hidden", {8}}};
    const json rs = {{"name", "reverse_sigmoid"}, {"beta", 0.7}, {"gamma", 0.3}};
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"name", "mad"}, {"surrogate", mlp}}, "output.transforms[0].epsilon"},
        {{{"name", "mad"}, {"epsilon", 0}, {"surrogate", mlp}}, "output.transforms[0].epsilon"},
        {{{"name", "mad"}, {"epsilon", 2.5}, {"surrogate", mlp}}, "output.transforms[0].epsilon"},
        {{{"name", "mad"}, {"epsilon", "big"}, {"surrogate", mlp}}, "output.transforms[0].epsilon"},
        {{{"name", "mad"}, {"epsilon", 0.5}}, "output.transforms[0].surrogate"},
        {{{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", "mlp"}}, "output.transforms[0].surrogate"},
        {{{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", {{"zoo", "blob"}}}}, "output.transforms[0].surrogate.zoo"},
        {{{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", {{"torchscript", "m.pt"}}}},
         "output.transforms[0].surrogate.torchscript"},
        {{{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", mlp}, {"seed", -1}}, "output.transforms[0].seed"},
        {{{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", mlp}, {"eps", 1}}, "output.transforms[0].eps"},
    };
    for (const auto& [entry, field] : cases) {
      try {
        buildOutputPipeline({{"mode", "probs"}, {"transforms", json::array({entry})}}, 10);
        QFAIL(qPrintable(QString::fromStdString("accepted " + entry.dump())));
      } catch (const ConfigError& e) {
        QVERIFY2(e.field() == field, e.what());
      }
    }
    // The engine applies mad first, so it must be listed before the probability defenses.
    const json mad = {{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", mlp}, {"seed", 4}};
    try {
      buildOutputPipeline({{"mode", "probs"}, {"transforms", {rs, mad}}}, 10);
      QFAIL("accepted mad after reverse_sigmoid");
    } catch (const ConfigError& e) {
      QVERIFY2(e.field() == "output.transforms[1].name", e.what());
    }
    const OutputPipeline pipe = buildOutputPipeline({{"mode", "probs"}, {"transforms", {mad, rs}}}, 10);
    QCOMPARE(pipe.parameters["transforms"][0], json({{"name", "mad"}, {"epsilon", 0.5}, {"surrogate", mlp}})); // no seed
    QCOMPARE(pipe.transforms.size(), size_t(1)); // the engine's stage is not a probability transform
    // From the serve config file, at start: exit 2 naming the file and the field.
    json config = serveConfig("bad-mad.sqlite", {{"mode", "label"},
                                                 {"transforms", {{{"name", "mad"}, {"epsilon", 0.5},
                                                                  {"surrogate", {{"zoo", "mlp"}, {"hidden", "wide"}}}}}}});
    Result r = cli({"serve", "1", "--config", writeJson("serve-bad-mad.json", config), "--port", "0", "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("serve-bad-mad.json") && r.err.contains("output.transforms[0].surrogate.hidden"),
             qPrintable(r.err));
  }

  // mad in probs mode on the running server: the exported
  // model's PyTorch probabilities and the same seeded surrogate's last layer through the autograd reference.
  void madServerMatchesTheReference() {
    if (!pythonHasTorch()) QSKIP("python3-torch is not installed (/usr/bin/python3 cannot import torch)");
    const int n = 16;
    const double epsilon = 0.5;
    const auto& pre = summary_["data"]["preprocessing"];
    QProcess py;
    py.start(kPython, {QString(DISTILLERY_SOURCE_DIR) + "/tests/serve_reference.py", dir_.filePath("model.pt"),
                       QString::fromStdString(testImages()), QString::number(n),
                       QString::number(pre["divide_by"].get<double>(), 'g', 17),
                       QString::number(pre["mean"][0].get<double>(), 'g', 17),
                       QString::number(pre["std"][0].get<double>(), 'g', 17), "3", "2"});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const json model = json::parse(py.readAllStandardOutput().toStdString());
    const json surrogate = {{"zoo", "mlp"}, {"hidden", {16}}};
    const json mad = {{"name", "mad"}, {"epsilon", epsilon}, {"surrogate", surrogate}, {"seed", 11}};

    // The surrogate the server builds, on the inputs as it normalises them.
    const std::string pixels = idxImages(testImages(), n);
    std::vector<float> x(pixels.size());
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = float((double(uint8_t(pixels[i])) / pre["divide_by"].get<double>() - pre["mean"][0].get<double>()) /
                   pre["std"][0].get<double>());
    const MadLastLayer layer =
        MadSurrogate(modelSpecFromJson(surrogate, "surrogate"), 11, {1, 28, 28}, 10, "surrogate").lastLayer(x.data(), n);
    const json spec = {{"probs", model["probs"]},
                       {"features", rowsOf(layer.h, layer.features)},
                       {"weight", rowsOf(layer.weight, layer.features)},
                       {"bias", layer.bias},
                       {"epsilon", epsilon}};
    const json ref = runReference("mad_reference.py", {}, spec.dump());
    QVERIFY2(ref.contains("k"), ref.dump().c_str());

    auto server = serve("1", writeJson("serve-mad.json", serveConfig("mad.sqlite", {{"mode", "probs"}, {"transforms", {mad}}})));
    QVERIFY(server->port > 0);
    const json reply = classify(server->port, kAlice, classifyBody("uint8", {n, 1, 28, 28}, pixels));
    QVERIFY2(reply.contains("outputs"), reply.dump().c_str());
    QCOMPARE(reply["output"]["transforms"], json::array({{{"name", "mad"}, {"epsilon", epsilon}, {"surrogate", surrogate}}}));
    int moved_label = 0;
    for (int i = 0; i < n; ++i) {
      const json& out = reply["outputs"][size_t(i)];
      const std::string where = "input " + std::to_string(i) + ": " + out.dump() + " vs " + ref["probs"][size_t(i)].dump();
      double sum = 0, l1 = 0;
      for (int c = 0; c < 10; ++c) {
        const double got = out["probs"][size_t(c)].get<double>();
        QVERIFY2(std::abs(got - ref["probs"][size_t(i)][size_t(c)].get<double>()) < 1e-6, where.c_str());
        sum += got;
        l1 += std::abs(got - model["probs"][size_t(i)][size_t(c)].get<double>());
      }
      QVERIFY2(std::abs(sum - 1) < 1e-12, where.c_str());
      QVERIFY2(l1 <= epsilon + 1e-6 && l1 > 1e-3, where.c_str()); // PyTorch's and LibTorch's y differ by float noise
      moved_label += out["label"] != model["label"][size_t(i)];
    }
    qInfo("mad (epsilon %.2f) changed the label of %d of %d inputs", epsilon, moved_label, n);
  }
};

QTEST_GUILESS_MAIN(TestServe)
#include "tst_serve.moc"
