#pragma once
// Shared by the suites, so each helper exists once: tiny generated datasets
// (tests never need the real Fashion-MNIST files and stay fast), metric points
// and synthetic runs written straight into a store, a small distill config
// whose teacher trains in seconds, and runners for distillery-cli and for the
// Python reference scripts. Needs QtCore and distillery_base only.
#include "core/config/run_config.h"
#include "core/export/chart_spec.h"
#include "core/store/metric_point.h"
#include "core/store/run_status.h"
#include "core/store/run_store.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace testsupport {

// `distillery-cli serve` in a child process, stopped (SIGTERM, then kill) when
// it goes out of scope.
struct ServeProcess {
  std::unique_ptr<QProcess> process;
  int port = 0;
  QString out;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  ~ServeProcess() {
    if (process && process->state() != QProcess::NotRunning) {
      process->terminate();
      if (!process->waitForFinished(10000)) process->kill();
      process->waitForFinished(5000);
    }
  }
};

// Starts `cli serve ARGS --port PORT` (0: a free port, which it prints as
// port=P) and waits up to 60 s for it to listen; port stays 0 if it did not.
inline std::unique_ptr<ServeProcess> startServe(const QString& cli, QStringList args, int port = 0) {
  auto s = std::make_unique<ServeProcess>();
  s->process = std::make_unique<QProcess>();
  args.prepend(QStringLiteral("serve"));
  args << QStringLiteral("--port") << QString::number(port);
  s->process->start(cli, args);
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < 60000 && s->port == 0) {
    if (!s->process->waitForReadyRead(200) && s->process->state() == QProcess::NotRunning) break;
    s->out += QString::fromUtf8(s->process->readAllStandardOutput());
    if (s->out.contains("port=")) s->port = s->out.section("port=", 1).section('\n', 0, 0).toInt();
  }
  if (s->port == 0)
    qWarning("serve did not start: %s", qPrintable(QString::fromUtf8(s->process->readAllStandardError())));
  return s;
}

inline void putBigEndian(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

inline std::vector<uint8_t> idxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out{0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims) putBigEndian(out, d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline void writeFile(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

// Images whose class decides where a bright bar sits, plus noise: easy to
// learn, impossible to guess. Written as Fashion-MNIST file names.
inline void writeSyntheticSplit(const std::string& dir, const std::string& split, int n,
                                uint32_t seed, bool gzip = true) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> label(0, 9), noise(0, 60);
  std::vector<uint8_t> images(size_t(n) * 28 * 28);
  std::vector<uint8_t> labels(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int c = label(rng);
    labels[size_t(i)] = uint8_t(c);
    uint8_t* img = images.data() + size_t(i) * 784;
    for (int p = 0; p < 784; ++p) img[p] = uint8_t(noise(rng));
    int row = 2 + (c % 5) * 5, col = (c < 5) ? 3 : 15;
    for (int r = row; r < row + 3; ++r)
      for (int k = col; k < col + 10; ++k) img[r * 28 + k] = 255;
  }
  const std::string ext = gzip ? ".gz" : "";
  writeFile(dir + "/" + split + "-images-idx3-ubyte" + ext, idxBytes({uint32_t(n), 28, 28}, images), gzip);
  writeFile(dir + "/" + split + "-labels-idx1-ubyte" + ext, idxBytes({uint32_t(n)}, labels), gzip);
}

inline void writeSyntheticDataset(const std::string& dir, int train = 3000, int test = 500,
                                  bool gzip = true) {
  writeSyntheticSplit(dir, "train", train, 1, gzip);
  writeSyntheticSplit(dir, "t10k", test, 2, gzip);
}

// ---- stored runs ---------------------------------------------------------------------

// A point of one metric at a step, with every cost counter a multiple of the
// step (each a different one, so a swapped column shows).
inline distillery::MetricPoint point(int64_t run, const std::string& metric, int64_t step, double value) {
  distillery::MetricPoint p;
  p.run_id = run;
  p.metric = metric;
  p.step = step;
  p.epoch = double(step) / 100.0;
  p.wall_s = double(step) * 0.05;
  p.samples = double(step) * 64;
  p.flops = double(step) * 3.2e7;
  p.teacher_queries = double(step) * 32;
  p.money = double(step) * 0.125;
  p.value = value;
  return p;
}

// A finished (or failed) run as the store holds it, without training: its
// config, and the summary figures the run table, filter and cost chart read.
struct SyntheticRun {
  std::string name = "run";
  std::string method = "kd";
  std::vector<int> hidden{128};
  double temperature = 4.0;
  double lr = 1e-3;
  bool train = false;
  distillery::RunStatus status = distillery::RunStatus::Finished;
  std::string error;
  std::optional<double> best; // best_val_accuracy in the summary
  std::optional<double> test;
  double wall_s = 10, train_flops = 1e12, flops_per_sample = 1e5, params = 1e5;
  int64_t teacher = 0;
};

inline std::string configJson(const SyntheticRun& r) {
  distillery::RunConfig c = distillery::RunConfig::defaultDistill();
  c.name = r.name;
  if (r.train) {
    c.task = "train";
    c.model.zoo = "cnn";
  } else {
    c.student.hidden = r.hidden;
    c.method.name = r.method;
    c.method.params = {{"temperature", r.temperature}, {"alpha", 0.9}};
    if (r.method == "dkd") c.method.params = {{"temperature", r.temperature}};
  }
  c.optim.lr = r.lr;
  nlohmann::json j = c.toJson();
  if (!r.train && r.method == "dkd") j["method"] = {{"name", "dkd"}, {"temperature", r.temperature}};
  return j.dump();
}

inline int64_t addRun(distillery::RunStore& store, const SyntheticRun& r) {
  const int64_t id = store.createRun(r.name, r.train ? "train" : "distill", configJson(r));
  nlohmann::json summary = nlohmann::json::object();
  if (r.best) summary["best_val_accuracy"] = *r.best;
  if (r.test) summary["test_accuracy"] = *r.test;
  summary["wall_s"] = r.wall_s;
  summary["train_flops"] = r.train_flops;
  summary["flops_per_sample"] = r.flops_per_sample;
  summary["params"] = r.params;
  if (r.teacher) {
    summary["teacher_run_id"] = r.teacher;
    store.setTeacher(id, r.teacher);
  }
  store.setSummary(id, summary);
  store.setStatus(id, distillery::RunStatus::Running);
  store.setStatus(id, r.status, r.error);
  return id;
}

// A clone distilled through a teacher API (issue 17), as the API-teacher runs
// store it: no training, only the config's method and the summary's "api"
// object (fields given in `api`; absent ones stay absent).
inline int64_t addApiRun(distillery::RunStore& store, const std::string& name, const std::string& method,
                         const nlohmann::json& api, std::optional<double> clone_test_accuracy = std::nullopt) {
  SyntheticRun r;
  r.name = name;
  r.method = method;
  const int64_t id = store.createRun(name, "distill", configJson(r));
  nlohmann::json summary = {{"method", method}, {"api", api}};
  if (clone_test_accuracy) summary["test_accuracy"] = *clone_test_accuracy;
  store.setSummary(id, summary);
  store.setStatus(id, distillery::RunStatus::Running);
  store.setStatus(id, distillery::RunStatus::Finished);
  return id;
}

// The api object of a run against `defense` with these figures.
inline nlohmann::json apiSummary(const std::string& defense, int64_t queries, double benign, double reference,
                                 double fidelity, const std::string& strategy = "train") {
  return {{"url", "http://127.0.0.1:8311"},
          {"output", {{"mode", "probs"}}},
          {"defense", defense},
          {"strategy", strategy},
          {"queries", queries},
          {"queries_bought", queries},
          {"money", double(queries) * 0.5 / 1000},
          {"currency", "USD"},
          {"price_per_1000", 0.5},
          {"benign_accuracy", benign},
          {"reference_run", 1},
          {"reference_test_accuracy", reference},
          {"fidelity", fidelity}};
}

// The cost chart's case: a teacher and two students it taught. "student" keeps
// most of the accuracy for a hundredth of the inference cost; "worse" is
// beaten by it on both counts. Training compute turns the order round (the
// teacher's outputs cost the students' training more).
struct TeacherAndStudents {
  int64_t teacher = 0, student = 0, worse = 0;
};

inline TeacherAndStudents addTeacherAndStudents(distillery::RunStore& store) {
  auto add = [&](const char* name, double test, double best, double flops_per_sample, double train_flops,
                 int64_t teacher) {
    SyntheticRun r;
    r.name = name;
    r.train = teacher == 0;
    r.test = test;
    r.best = best;
    r.flops_per_sample = flops_per_sample;
    r.train_flops = train_flops;
    r.teacher = teacher;
    return addRun(store, r);
  };
  TeacherAndStudents ids;
  ids.teacher = add("teacher", 0.90, 0.91, 1e8, 4e12, 0);
  ids.student = add("student", 0.86, 0.87, 1e6, 6e12, ids.teacher);
  ids.worse = add("worse", 0.80, 0.82, 2e6, 5e12, ids.teacher);
  return ids;
}

// A distill run that trains its own small teacher first (mlp[64], one epoch)
// and then an mlp[16] student for one epoch: seconds on one CPU core.
inline nlohmann::json smallDistillConfig(const std::string& data_path, int val_size = 200) {
  return {{"name", "small-kd"}, {"task", "distill"},
          {"data", {{"path", data_path}, {"val_size", val_size}}},
          {"teacher", {{"zoo", "mlp"}, {"hidden", {64}}, {"train", {{"epochs", 1}}}}},
          {"student", {{"zoo", "mlp"}, {"hidden", {16}}}},
          {"method", {{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}}},
          {"optim", {{"name", "adam"}, {"lr", 0.003}}},
          {"batch_size", 64}, {"epochs", 1}, {"seed", 0}, {"device", "cpu"}};
}

// A training-loss chart of one run (#1) with a million points, a gentle wave
// around 1 and one spike of 50 at step 777777, which decimation must keep.
inline distillery::ChartSpec millionPointsWithOneSpike() {
  distillery::ChartSpec spec;
  spec.metric = "train_loss";
  spec.title = "Training loss";
  distillery::ChartCurve curve;
  curve.run_id = 1;
  curve.label = "#1 long";
  curve.rgb = 0x1f77b4;
  const size_t n = 1000000;
  curve.raw.x.resize(n);
  curve.raw.y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    curve.raw.x[i] = double(i);
    curve.raw.y[i] = 1.0 + 0.1 * std::sin(double(i) * 0.001);
  }
  curve.raw.y[777777] = 50.0;
  spec.curves.push_back(std::move(curve));
  return spec;
}

// ---- processes -------------------------------------------------------------------------

struct ProcessResult {
  int code = -1; // -1: did not finish in time; -2: killed by a signal
  QString out, err;
};

// Waits for a started process and collects what it printed.
inline ProcessResult waitForResult(QProcess& p, int timeout_ms) {
  if (!p.waitForFinished(timeout_ms)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

// The caller's environment without DISTILLERY_DB, so no store of the machine
// running the tests leaks into them.
inline QProcessEnvironment cliEnvironment() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove(QStringLiteral("DISTILLERY_DB"));
  return env;
}

inline ProcessResult runProcess(const QString& program, const QStringList& args, int timeout_ms = 120000,
                                const QProcessEnvironment& env = cliEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  return waitForResult(p, timeout_ms);
}

#ifdef DISTILLERY_CLI
// distillery-cli as a script runs it.
inline ProcessResult runCli(const QStringList& args, int timeout_ms = 300000,
                            const QProcessEnvironment& env = cliEnvironment()) {
  return runProcess(QStringLiteral(DISTILLERY_CLI), args, timeout_ms, env);
}
#endif

// ---- the Python reference --------------------------------------------------------------

constexpr const char* kPython = "/usr/bin/python3";

// Why Debian's python3-torch cannot serve as the independent reference (empty:
// it can). Asked once per suite, since starting torch costs seconds.
inline QString pythonTorchMissing() {
  static const QString why = [] {
    QProcess probe;
    probe.start(QString::fromLatin1(kPython), {QStringLiteral("-c"), QStringLiteral("import torch")});
    if (!probe.waitForFinished(120000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
      return QStringLiteral("/usr/bin/python3 cannot import torch (install python3-torch)");
    return QString();
  }();
  return why;
}

// Runs python3 with these arguments (a script path, or -c CODE).
inline ProcessResult runPython(const QStringList& args, int timeout_ms = 120000) {
  return runProcess(QString::fromLatin1(kPython), args, timeout_ms);
}

// Runs tests/SCRIPT (a *_reference.py) and reads the one JSON object it
// prints. On failure the object is empty and error says why, naming the script.
inline QJsonObject pythonReference(const QString& script, QString& error) {
  const ProcessResult r = runPython({QStringLiteral(DISTILLERY_SOURCE_DIR "/tests/") + script});
  if (r.code != 0) {
    error = QStringLiteral("tests/%1 %2: %3").arg(script, r.code == -1 ? QStringLiteral("did not finish")
                                                                        : QStringLiteral("failed"), r.err);
    return {};
  }
  QJsonParseError parse;
  const QJsonObject out = QJsonDocument::fromJson(r.out.toUtf8(), &parse).object();
  if (parse.error != QJsonParseError::NoError) error = QStringLiteral("tests/%1: %2").arg(script, parse.errorString());
  return out;
}

} // namespace testsupport

// Skips the test, saying why, when python3-torch is not there to compare with.
#define SKIP_WITHOUT_PYTHON_TORCH()                                      \
  do {                                                                   \
    const QString why_python_ = testsupport::pythonTorchMissing();       \
    if (!why_python_.isEmpty()) QSKIP(qPrintable(why_python_));          \
  } while (0)
