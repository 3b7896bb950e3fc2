// Models in and out: TorchScript teachers and students made by real PyTorch,
// their checks and errors, export to TorchScript that Python runs with the
// app's outputs, checkpoints that resume with their optimiser state, the
// operator FLOP counter and the model card. Python parts need /usr/bin/python3
// with torch (python3-torch); without it they are skipped, saying so.
#include "core/store/checkpoint.h"
#include "core/data/dataset.h"
#include "core/training/engine.h"
#include "core/training/run_preflight.h"
#include "core/base/errors.h"
#include "core/models/model_card.h"
#include "core/models/model_export.h"
#include "core/models/model_zoo.h"
#include "core/models/op_mac_counter.h"
#include "core/store/run_store.h"
#include "core/models/scripted_classifier.h"
#include "core/base/sha256.h"
#include "core/models/stored_model.h"
#include "test_support.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>

using namespace distillery;
using json = nlohmann::json;

namespace {

using testsupport::kPython;

class StopAtStep : public RunObserver {
public:
  StopAtStep(StopToken& stop, int64_t step) : stop_(stop), step_(step) {}
  void onProgress(const RunProgress& p) override {
    if (p.step >= step_) {
      stop_.requestStop();
      return;
    }
    // Reports come at most every 100 ms; waiting that long here makes every
    // step report, so the stop lands at step_ even when a run is faster than that.
    std::this_thread::sleep_for(std::chrono::milliseconds(110));
  }

private:
  StopToken& stop_;
  int64_t step_;
};

using testsupport::ProcessResult;

ProcessResult runProcess(const QString& program, const QStringList& args, int timeout_ms = 120000) {
  QProcessEnvironment env = testsupport::cliEnvironment();
  env.insert("OMP_NUM_THREADS", "2");
  return testsupport::runProcess(program, args, timeout_ms, env);
}

void writeFloats(const QString& path, const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kFloat).contiguous().cpu();
  std::ofstream out(path.toStdString(), std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), std::streamsize(c.numel() * sizeof(float)));
}

torch::Tensor readFloats(const QString& path, at::IntArrayRef sizes) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray bytes = f.readAll();
  torch::Tensor t = torch::empty(sizes, torch::kFloat);
  if (bytes.size() != qsizetype(t.numel() * sizeof(float))) return {};
  std::memcpy(t.data_ptr<float>(), bytes.constData(), size_t(bytes.size()));
  return t;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestInterop : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  bool python_ = false;
  QString python_why_;
  Dataset data_;

  // Exports waiting for one Python process that runs them all: the file, and
  // the app's logits on the first test images.
  struct PendingExport {
    QString label, file;
    torch::Tensor expected;
    int64_t params = 0;
  };
  std::vector<PendingExport> pending_;

  std::string dataPath() const { return dir_.filePath("data").toStdString(); }
  QString model(const char* name) const { return dir_.filePath(QString("models/") + name); }

  json dataJson() const { return {{"path", dataPath()}, {"val_size", 200}}; }

  json distillConfig(const json& teacher, const json& student, int epochs = 1) const {
    return {{"name", "interop"}, {"task", "distill"}, {"data", dataJson()},
            {"teacher", teacher}, {"student", student},
            {"method", {{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}}},
            {"optim", {{"name", "adam"}, {"lr", 0.003}}},
            {"batch_size", 64}, {"epochs", epochs}, {"seed", 0}, {"device", "cpu"}, {"log_every", 5}};
  }

  json trainConfig(const json& model, int epochs = 1) const {
    return {{"name", "interop-train"}, {"task", "train"}, {"data", dataJson()}, {"model", model},
            {"optim", {{"name", "adam"}, {"lr", 0.003}}},
            {"batch_size", 64}, {"epochs", epochs}, {"seed", 1}, {"device", "cpu"}, {"log_every", 5}};
  }

  RunOutcome execute(RunStore& store, const json& j) {
    RunConfig config = RunConfig::fromJson(j);
    RunObserver observer;
    StopToken stop;
    return executeRun(store, queueRun(store, config), config, observer, stop);
  }

  // Queues the stored model of `run_id` for the Python comparison.
  void queueExport(RunStore& store, int64_t run_id, const QString& label) {
    const QString file = dir_.filePath(label + ".pt");
    QVERIFY(exportRunModel(store, run_id, file.toStdString()) > 0);
    StoredModel stored = loadStoredModel(store, run_id, "test");
    torch::NoGradGuard no_grad;
    pending_.push_back({label, file, stored.model->forward(data_.test.x.slice(0, 0, 64)),
                        countParameters(*stored.model)});
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(dir_.filePath("data")));
    QVERIFY(QDir().mkpath(dir_.filePath("models")));
    testsupport::writeSyntheticDataset(dataPath(), 1500, 300);
    data_ = loadDataset(RunConfig::fromJson(trainConfig({{"zoo", "mlp"}})).data, 0);
    if (!QFile::exists(kPython)) {
      python_why_ = "no /usr/bin/python3";
      return;
    }
    ProcessResult made = runProcess(kPython, {QString(DISTILLERY_SOURCE_DIR) + "/tests/torchscript_models.py", "make",
                                              dir_.filePath("data"), dir_.filePath("models")});
    if (made.code != 0) {
      python_why_ = made.err.contains("No module named 'torch'")
                        ? "python3-torch is not installed (/usr/bin/python3 cannot import torch)"
                        : "tests/torchscript_models.py failed: " + made.err.right(600);
      QVERIFY2(made.err.contains("No module named"), qPrintable(python_why_));
      return;
    }
    python_ = true;
  }

  void sha256MatchesSha256sum() {
    QCOMPARE(QString::fromStdString(sha256Hex("abc")),
             QString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    // Lengths around the 64-byte block and the 56-byte padding boundary, and a multi-block file.
    std::mt19937 rng(3);
    for (int size : {0, 55, 56, 63, 64, 65, 119, 200000}) {
      const QString path = dir_.filePath(QString("blob%1.bin").arg(size));
      std::string bytes(size_t(size), '\0');
      for (char& c : bytes) c = char(rng());
      std::ofstream(path.toStdString(), std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
      ProcessResult sum = runProcess("sha256sum", {path});
      QCOMPARE(sum.code, 0);
      QCOMPARE(QString::fromStdString(sha256OfFile(path.toStdString())), sum.out.section(' ', 0, 0));
    }
    QVERIFY_THROWS_EXCEPTION(DataError, sha256OfFile(dir_.filePath("absent.bin").toStdString()));
  }

  void operatorFlopsMatchTheZooCounter() {
    // The operator counter (used for TorchScript models) agrees with the zoo's own count.
    for (const char* zoo : {"mlp", "cnn", "resnet8", "mobilenetv2"}) {
      ModelSpec spec = modelSpecFromJson({{"zoo", zoo}}, "model");
      Classifier m = buildModel(spec, InputShape{1, 28, 28}, 10);
      m->eval();
      torch::NoGradGuard no_grad;
      const double macs = countOperatorMacs([&] { m->forward(torch::zeros({1, 1, 28, 28})); });
      QCOMPARE(2.0 * macs, describeModel(spec, 1, 28, 28, 10).flops_per_sample);
    }
  }

  void torchScriptTeacherIsProbedAndDescribed() {
    if (!python_) QSKIP(qPrintable(python_why_));
    ModelSpec spec = modelSpecFromJson({{"torchscript", model("teacher_trace.pt").toStdString()}}, "teacher");
    QVERIFY(spec.isTorchScript());
    const ModelInfo info = describeModel(spec, 1, 28, 28, 10);
    // SmallNet of torchscript_models.py, by hand: stem 1->8 3x3, two 8->8 3x3 convs at 28x28, fc 392->10.
    const double macs = 8.0 * 9 * 784 + 2.0 * 8 * 8 * 9 * 784 + 392.0 * 10;
    QCOMPARE(info.flops_per_sample, 2.0 * macs);
    const int64_t params = (8 * 9) + 2 * 8 + 2 * (8 * 8 * 9 + 2 * 8) + 392 * 10 + 10;
    QCOMPARE(info.params, params);
    QVERIFY(!info.layers.empty());

    // The app runs the teacher with the outputs PyTorch had (same preprocessing, same weights).
    ScriptedClassifier teacher = loadScriptedFile(model("teacher_trace.pt").toStdString());
    teacher->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor ours = teacher->forward(data_.test.x.slice(0, 0, 64));
    const torch::Tensor theirs = readFloats(model("teacher_trace.test.f32"), {64, 10});
    QVERIFY(theirs.defined());
    const double diff = (ours - theirs).abs().max().item<double>();
    QVERIFY2(diff < 1e-5, qPrintable(QString("max |app - PyTorch| = %1").arg(diff)));
  }

  void distillsFromTracedAndScriptedTeachers() {
    if (!python_) QSKIP(qPrintable(python_why_));
    RunStore store(":memory:");
    for (const char* file : {"teacher_trace.pt", "teacher_script.pt"}) {
      const std::string path = model(file).toStdString();
      const bool traced = file == std::string("teacher_trace.pt");
      json cfg = distillConfig({{"torchscript", path}}, {{"zoo", "mlp"}, {"hidden", {32}}});
      if (!traced) cfg["data"]["train_limit"] = 512; // the scripted teacher's checks need no long training
      RunOutcome out = execute(store, cfg);
      QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
      const json& teacher = out.summary["teacher"];
      QCOMPARE(QString::fromStdString(teacher["kind"].get<std::string>()), QString("torchscript"));
      QCOMPARE(QString::fromStdString(teacher["path"].get<std::string>()), QString::fromStdString(path));
      ProcessResult sum = runProcess("sha256sum", {model(file)});
      QCOMPARE(QString::fromStdString(teacher["sha256"].get<std::string>()), sum.out.section(' ', 0, 0));
      QVERIFY2(out.summary["teacher_test_accuracy"].get<double>() > 0.9, out.summary.dump().c_str());
      if (traced) {
        QVERIFY2(out.summary["test_accuracy"].get<double>() > 0.7, out.summary.dump().c_str());
        QVERIFY2(out.summary["test_agreement"].get<double>() > 0.7, out.summary.dump().c_str());
      }
      // The config round-trips with the teacher's file.
      const RunConfig stored = RunConfig::fromJsonText(store.run(out.run_id)->config_json);
      QVERIFY(stored.teacher.kind == TeacherSource::Kind::TorchScript);
      QCOMPARE(QString::fromStdString(stored.teacher.model.torchscript), QString::fromStdString(path));
    }
  }

  void badTeacherFilesFailWithClearErrors_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("wrong class count") << "wrong_classes.pt" << "outputs [8, 5] for the input [8, 1, 28, 28]; expected logits [8, 10]";
    QTest::newRow("wrong input shape") << "wrong_channels.pt" << "rejects the dataset's input [8, 1, 28, 28]";
    QTest::newRow("truncated") << "truncated.pt" << "not a readable TorchScript archive (truncated or corrupt)";
    QTest::newRow("corrupt") << "corrupt.pt" << "not a readable TorchScript archive (truncated or corrupt)";
    QTest::newRow("state_dict") << "state_dict.pt" << "not TorchScript";
    QTest::newRow("newer version") << "newer_version.pt" << "written by a newer PyTorch";
    QTest::newRow("missing") << "absent.pt" << "no such file";
  }

  void badTeacherFilesFailWithClearErrors() {
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const bool needs_python = file != "corrupt.pt" && file != "absent.pt";
    if (needs_python && !python_) QSKIP(qPrintable(python_why_));
    const QString path = model(qPrintable(file));
    if (file == "truncated.pt") {
      const QByteArray whole = readAll(model("teacher_trace.pt"));
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(whole.left(whole.size() / 2));
    } else if (file == "corrupt.pt") {
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray(5000, 'x'));
    }
    RunStore store(":memory:");
    RunOutcome out = execute(store, distillConfig({{"torchscript", path.toStdString()}}, {{"zoo", "mlp"}, {"hidden", {8}}}));
    QVERIFY(out.kind == RunOutcome::Kind::Failed);
    const QString message = QString::fromStdString(out.message);
    QVERIFY2(message.startsWith("teacher.torchscript: " + path + ": "), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
    QCOMPARE(QString::fromStdString(store.run(out.run_id)->error), message);
    QCOMPARE(QString::fromStdString(toString(store.run(out.run_id)->status)), QString("failed"));
  }

  void scriptedStudentTrainsAndTeaches() {
    if (!python_) QSKIP(qPrintable(python_why_));
    RunStore store(":memory:");
    const std::string student = model("student_script.pt").toStdString();
    RunOutcome out = execute(store, distillConfig({{"torchscript", model("teacher_script.pt").toStdString()}},
                                                  {{"torchscript", student}}, 2));
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    QCOMPARE(QString::fromStdString(out.summary["source"]["sha256"].get<std::string>()),
             QString::fromStdString(sha256OfFile(student)));
    // Learning happened: its loss fell and it ends far above chance (0.1).
    const auto losses = store.points(out.run_id, "train_loss");
    QVERIFY(losses.size() >= 4);
    QVERIFY2(losses.back().value < 0.75 * losses.front().value,
             qPrintable(QString("train loss %1 -> %2").arg(losses.front().value).arg(losses.back().value)));
    QVERIFY2(out.summary["test_accuracy"].get<double>() > 0.8, out.summary.dump().c_str());
    // The stored model is the TorchScript archive with the trained weights: it teaches and exports.
    const auto artifact = store.loadArtifact(out.run_id, "model.pt");
    QVERIFY(artifact);
    ScriptedClassifier trained = loadScriptedBytes(*artifact, "artifact");
    ScriptedClassifier initial = loadScriptedFile(student);
    QVERIFY(!torch::equal(trained->parameters()[0], initial->parameters()[0]));
    RunOutcome taught = execute(store, distillConfig({{"run", out.run_id}}, {{"zoo", "mlp"}, {"hidden", {16}}}));
    QVERIFY2(taught.kind == RunOutcome::Kind::Success, taught.message.c_str());
    QVERIFY2(taught.summary["test_agreement"].get<double>() > 0.7, taught.summary.dump().c_str());
    queueExport(store, out.run_id, "scripted_student");
  }

  // Issue 15 item 7: a traced model's BatchNorm keeps the mode it was traced
  // in. Traced in train mode its outputs depend on the batch; traced in eval
  // mode its running statistics never update. What the files do is checked
  // first, then that the graph check finds it and the preflight refuses them.
  void tracedBatchNormIsFoundInTheGraph() {
    if (!python_) QSKIP(qPrintable(python_why_));
    torch::NoGradGuard no_grad;
    const torch::Tensor batch = data_.test.x.slice(0, 0, 8);
    auto firstRowAlone = [&](ScriptedClassifier& m) {
      return torch::allclose(m->forward(batch)[0], m->forward(batch.slice(0, 0, 1))[0], 1e-4, 1e-5);
    };
    ScriptedClassifier train_traced = loadScriptedFile(model("teacher_trace_train.pt").toStdString());
    ScriptedClassifier eval_traced = loadScriptedFile(model("teacher_trace.pt").toStdString());
    train_traced->eval();
    eval_traced->eval();
    QVERIFY2(!firstRowAlone(train_traced), "a train-mode trace should answer differently at batch 1, even in eval()");
    QVERIFY(firstRowAlone(eval_traced));
    // In train(), a scripted student's running mean moves; an eval-mode trace's stays.
    for (const char* file : {"student_script.pt", "student_trace_eval.pt"}) {
      ScriptedClassifier student = loadScriptedFile(model(file).toStdString());
      student->train();
      const torch::Tensor before = student->script().attr("bn").toModule().attr("running_mean").toTensor().clone();
      student->forward(batch);
      const torch::Tensor after = student->script().attr("bn").toModule().attr("running_mean").toTensor();
      QCOMPARE(torch::equal(before, after), file == std::string("student_trace_eval.pt"));
    }

    auto layers = [&](const char* file, bool train_mode) {
      const FixedBatchNorm bn = findFixedBatchNorm(loadScriptedFile(model(file).toStdString())->script());
      QStringList names;
      for (const auto& l : train_mode ? bn.train_mode : bn.eval_mode) names << QString::fromStdString(l);
      return names.join(",");
    };
    QCOMPARE(layers("teacher_trace_train.pt", true), QString("bn,block.bn1,block.bn2"));
    QCOMPARE(layers("teacher_trace_train.pt", false), QString());
    QCOMPARE(layers("teacher_trace.pt", false), QString("bn,block.bn1,block.bn2"));
    QCOMPARE(layers("wrapped_trace.pt", false), QString("net.bn,net.block.bn1,net.block.bn2"));
    QCOMPARE(layers("student_trace_train.pt", true), QString("bn"));
    QCOMPARE(layers("student_trace_eval.pt", false), QString("bn"));
    for (const char* scripted : {"teacher_script.pt", "student_script.pt"}) {
      QCOMPARE(layers(scripted, true), QString());
      QCOMPARE(layers(scripted, false), QString());
    }
  }

  void tracedBatchNormIsRefusedByThePreflight_data() {
    QTest::addColumn<QString>("task");
    QTest::addColumn<QString>("teacher"); // a file of models/, or "" for a zoo teacher
    QTest::addColumn<QString>("student");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected"); // parts separated by |
    QTest::newRow("student traced in train mode")
        << "distill" << "teacher_script.pt" << "student_trace_train.pt" << "student.torchscript"
        << "(bn) fixed in train mode, as torch.jit.trace records the mode the model was in: it always normalises by "
           "the statistics of the batch it is given, so its outputs change with the other samples of a batch";
    QTest::newRow("student traced in eval mode")
        << "distill" << "teacher_script.pt" << "student_trace_eval.pt" << "student.torchscript"
        << "(bn) fixed in eval mode, as torch.jit.trace (or torch.jit.freeze) records it: it always uses its running "
           "statistics, which training would never update; to train it, save it with torch.jit.script(model)";
    QTest::newRow("model traced in eval mode")
        << "train" << "" << "student_trace_eval.pt" << "model.torchscript" << "torch.jit.script(model)";
    QTest::newRow("teacher traced in train mode")
        << "distill" << "teacher_trace_train.pt" << "" << "teacher.torchscript"
        << "(bn, block.bn1, block.bn2) fixed in train mode|an exported model answers differently at batch 1); "
           "trace it after model.eval() (torch.jit.freeze may follow), or save it with torch.jit.script(model)";
  }

  void tracedBatchNormIsRefusedByThePreflight() {
    QFETCH(QString, task);
    QFETCH(QString, teacher);
    QFETCH(QString, student);
    QFETCH(QString, field);
    QFETCH(QString, expected);
    if (!python_) QSKIP(qPrintable(python_why_));
    const json zoo = {{"zoo", "mlp"}, {"hidden", {16}}};
    const json student_spec = student.isEmpty() ? zoo : json{{"torchscript", model(qPrintable(student)).toStdString()}};
    const json cfg = task == "train" ? trainConfig(student_spec)
                                     : distillConfig({{"torchscript", model(qPrintable(teacher)).toStdString()}}, student_spec);
    const QString file = model(qPrintable(field.startsWith("teacher") ? teacher : student));
    const QString config = dir_.filePath("traced_bn.json");
    std::ofstream(config.toStdString()) << cfg.dump();
    const QString db = dir_.filePath("traced_bn.sqlite");
    ProcessResult run = runProcess(DISTILLERY_CLI, {"run", config, "--db", db});
    QCOMPARE(run.code, 2);
    QVERIFY2(run.err.contains(field + ": " + file + ": has its BatchNorm"), qPrintable(run.err));
    for (const QString& part : expected.split(u'|')) QVERIFY2(run.err.contains(part), qPrintable(run.err));
    // Refused before the run's row is stored.
    RunStore store(db.toStdString());
    QCOMPARE(int(store.runs().size()), 0);
    // The engine refuses it too when a run skips the preflight.
    RunStore memory(":memory:");
    RunOutcome out = execute(memory, cfg);
    QVERIFY(out.kind == RunOutcome::Kind::Failed);
    QVERIFY2(QString::fromStdString(out.message).contains(field + ": " + file + ": has its BatchNorm"), out.message.c_str());
  }

  void scriptedAndEvalTracedModelsPassThePreflight() {
    if (!python_) QSKIP(qPrintable(python_why_));
    // A scripted BatchNorm student follows train()/eval(); a teacher traced in eval mode only teaches.
    const json student = {{"torchscript", model("student_script.pt").toStdString()}};
    for (const char* teacher : {"teacher_trace.pt", "wrapped_trace.pt", "teacher_script.pt"}) {
      const RunConfig c = RunConfig::fromJson(distillConfig({{"torchscript", model(teacher).toStdString()}}, student));
      try {
        preflightRun(c, nullptr, PreflightDepth::Full);
      } catch (const std::exception& e) {
        QFAIL(qPrintable(QString(teacher) + ": " + e.what()));
      }
    }
    preflightRun(RunConfig::fromJson(trainConfig(student)), nullptr, PreflightDepth::Full);
  }

  void zooModelsExport() {
    RunStore store(":memory:");
    for (const char* zoo : {"mlp", "resnet8"}) {
      json cfg = trainConfig({{"zoo", zoo}});
      cfg["data"]["train_limit"] = 256;
      cfg["evals_per_epoch"] = 1;
      RunOutcome out = execute(store, cfg);
      QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
      queueExport(store, out.run_id, zoo);
    }
    // A run that has not finished has no model to export, and says so.
    const int64_t queued = queueRun(store, RunConfig::fromJson(trainConfig({{"zoo", "mlp"}})));
    try {
      exportRunModel(store, queued, dir_.filePath("never.pt").toStdString());
      QFAIL("exporting a queued run should throw");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("is queued; only a finished run has a trained model"), e.what());
    }
    QVERIFY(!QFile::exists(dir_.filePath("never.pt")));
    // A folder where the file should go: the error names the path once, with the reason.
    const QString folder = dir_.filePath("export-into-folder");
    QVERIFY(QDir().mkpath(folder));
    const int64_t finished = store.runs().back().id; // the mlp above
    try {
      exportRunModel(store, finished, folder.toStdString());
      QFAIL("exporting onto a folder should throw");
    } catch (const std::exception& e) {
      const QString what = QString::fromUtf8(e.what());
      QVERIFY2(what.count(folder) == 1 && what.contains("directory"), e.what());
    }
  }

  void cliDistillsTorchScriptTeacherAndExports() {
    if (!python_) QSKIP(qPrintable(python_why_));
    const QString db = dir_.filePath("cli.sqlite");
    const QString config = dir_.filePath("cli.json");
    json cfg = distillConfig({{"torchscript", model("teacher_trace.pt").toStdString()}}, {{"zoo", "mlp"}, {"hidden", {32}}});
    cfg["data"]["train_limit"] = 640;
    std::ofstream(config.toStdString()) << cfg.dump();
    ProcessResult run = runProcess(DISTILLERY_CLI, {"run", config, "--db", db});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const QString id = run.out.section("run_id=", 1).section('\n', 0, 0);
    QVERIFY(!id.isEmpty());
    const QString file = dir_.filePath("cli_student.pt");
    ProcessResult exported = runProcess(DISTILLERY_CLI, {"export", id, "--out", file, "--db", db});
    QVERIFY2(exported.code == 0, qPrintable(exported.err));
    QVERIFY(exported.out.contains("bytes="));
    RunStore store(db.toStdString());
    StoredModel stored = loadStoredModel(store, id.toLongLong(), "test");
    torch::NoGradGuard no_grad;
    pending_.push_back({"cli_student", file, stored.model->forward(data_.test.x.slice(0, 0, 64)),
                        countParameters(*stored.model)});
    // Errors: an unknown run, a missing --out.
    ProcessResult missing = runProcess(DISTILLERY_CLI, {"export", "999", "--out", file, "--db", db});
    QCOMPARE(missing.code, 2);
    QVERIFY2(missing.err.contains("run 999 does not exist"), qPrintable(missing.err));
  }

  void exportedModelsRunInPythonWithTheAppsOutputs() {
    if (!python_) QSKIP(qPrintable(python_why_));
    QVERIFY(!pending_.empty());
    // One Python process runs every export on the same 64 test images (a batch size never traced).
    const QString inputs = dir_.filePath("inputs.f32");
    writeFloats(inputs, data_.test.x.slice(0, 0, 64));
    QStringList args{QString(DISTILLERY_SOURCE_DIR) + "/tests/torchscript_models.py", "run"};
    for (const PendingExport& e : pending_)
      args << e.file << inputs << "64" << "1" << "28" << "28" << dir_.filePath(e.label + ".out.f32");
    ProcessResult r = runProcess(kPython, args);
    QVERIFY2(r.code == 0, qPrintable(r.err.right(1500)));
    for (const PendingExport& e : pending_) {
      // Python sees the weights as parameters (BatchNorm statistics are buffers).
      QVERIFY2(r.out.contains(QString("%1 parameters %2\n").arg(e.file).arg(e.params)), qPrintable(e.label + ": " + r.out));
      const torch::Tensor theirs = readFloats(dir_.filePath(e.label + ".out.f32"), {64, 10});
      QVERIFY2(theirs.defined(), qPrintable(e.label));
      const double diff = (e.expected - theirs).abs().max().item<double>();
      QVERIFY2(diff < 1e-5, qPrintable(QString("%1: max |app - Python| = %2").arg(e.label).arg(diff)));
    }
  }

  void cancelledRunResumesWithItsOptimizerState() {
    RunStore store(dir_.filePath("resume.sqlite").toStdString());
    json cfg = trainConfig({{"zoo", "mlp"}, {"hidden", {16}}}, 3);
    cfg["evals_per_epoch"] = 2;
    cfg["log_every"] = 7; // the stop at step 30 falls between two log steps
    RunConfig config = RunConfig::fromJson(cfg);
    const int64_t id = queueRun(store, config);
    StopToken stop;
    StopAtStep stopper(stop, 30);
    RunOutcome first = executeRun(store, id, config, stopper, stop);
    QVERIFY(first.kind == RunOutcome::Kind::Cancelled);

    // The checkpoint holds the step where it stopped and Adam's state at that step.
    auto bytes = store.loadArtifact(id, kCheckpointArtifact);
    QVERIFY(bytes);
    const TrainingCheckpoint c = decodeCheckpoint(*bytes, "test");
    QVERIFY2(c.step >= 30 && c.step < c.total_steps, qPrintable(QString::number(c.step)));
    auto adamSteps = [](const TrainingCheckpoint& checkpoint) {
      Classifier m = buildModel(modelSpecFromJson({{"zoo", "mlp"}, {"hidden", {16}}}, "m"), InputShape{1, 28, 28}, 10);
      torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(0.003));
      torch::serialize::InputArchive archive;
      std::istringstream in(checkpoint.optimizer_state);
      archive.load_from(in);
      adam.load(archive);
      auto& state = adam.state().at(c10::guts::to_string(m->parameters()[0].unsafeGetTensorImpl()));
      return static_cast<torch::optim::AdamParamState&>(*state).step();
    };
    QCOMPARE(adamSteps(c), c.step);

    // A point from after the checkpoint (as a crash would leave) is dropped on resume.
    MetricPoint stale;
    stale.run_id = id;
    stale.metric = "train_loss";
    stale.step = 100000;
    stale.value = 1.0;
    store.appendPoints({stale});

    RunObserver quiet;
    StopToken no_stop;
    RunOutcome resumed = resumeRun(store, id, quiet, no_stop);
    QVERIFY2(resumed.kind == RunOutcome::Kind::Success, resumed.message.c_str());
    QCOMPARE(QString::fromStdString(toString(store.run(id)->status)), QString("finished"));
    QCOMPARE(resumed.summary["steps"].get<int64_t>(), c.total_steps);
    const TrainingCheckpoint last = decodeCheckpoint(*store.loadArtifact(id, kCheckpointArtifact), "test");
    QCOMPARE(last.step, c.total_steps);
    // Adam counted every step: the resumed optimiser continued from the stored one.
    QCOMPARE(adamSteps(last), c.total_steps);
    // The curve continues after the stored step: strictly increasing steps, none lost or repeated.
    const auto losses = store.points(id, "train_loss");
    bool after = false;
    for (size_t i = 1; i < losses.size(); ++i) {
      QVERIFY2(losses[i].step > losses[i - 1].step,
               qPrintable(QString("step %1 after %2").arg(losses[i].step).arg(losses[i - 1].step)));
      after = after || (losses[i].step > c.step);
    }
    QVERIFY(after);
    QVERIFY(losses.back().step <= c.total_steps);
    // On the uninterrupted run's grid: every log_every steps counted from step 0, also after the resume.
    QVERIFY2(c.step % config.log_every != 0, "the stop must fall between two log steps for this check");
    for (const MetricPoint& p : losses)
      QVERIFY2(p.step % config.log_every == 0,
               qPrintable(QString("train_loss at step %1, log_every %2").arg(p.step).arg(config.log_every)));
    QVERIFY2(resumed.summary["test_accuracy"].get<double>() > 0.8, resumed.summary.dump().c_str());

    // Only a stopped run resumes.
    RunOutcome again = resumeRun(store, id, quiet, no_stop);
    QVERIFY(again.kind == RunOutcome::Kind::Failed);
    QVERIFY2(QString::fromStdString(again.message).contains("is finished; only a cancelled, interrupted or failed run"),
             again.message.c_str());
  }

  // Issue 15 item 28: a TorchScript model's card has FLOPs per submodule (a
  // one-child wrapper looked through), FLOPs are said to be 2 x multiply-adds,
  // and input errors name where the input came from and its layout.
  void modelCardBreaksDownTorchScriptLayers() {
    if (!python_) QSKIP(qPrintable(python_why_));
    // SmallNet by hand (as above): stem 1->8 3x3 and two 8->8 3x3 convs at 28x28, fc 392->10.
    const double stem = 2.0 * 8 * 9 * 784, block = 2.0 * 2 * 8 * 8 * 9 * 784, fc = 2.0 * 392 * 10;
    struct Want {
      const char* file;
      const char* prefix;
    };
    for (const Want& w : {Want{"wrapped_trace.pt", "net."}, Want{"teacher_trace.pt", ""}, Want{"teacher_script.pt", ""}}) {
      const ModelInfo info =
          describeModel(modelSpecFromJson({{"torchscript", model(w.file).toStdString()}}, "m"), 1, 28, 28, 10);
      std::map<std::string, double> flops;
      double sum = 0;
      for (const auto& l : info.layers) {
        flops[l.name] = l.flops;
        sum += l.flops;
      }
      const std::string p = w.prefix;
      QVERIFY2(flops.count(p + "stem") && flops.count(p + "block") && flops.count(p + "fc"), w.file);
      QCOMPARE(flops[p + "stem"], stem);
      QCOMPARE(flops[p + "block"], block);
      QCOMPARE(flops[p + "fc"], fc);
      QCOMPARE(flops[p + "bn"], 0.0);
      QCOMPARE(sum, info.flops_per_sample); // nothing lost, nothing counted twice
      QVERIFY2(!flops.count("(rest)"), w.file); // SmallNet's forward runs no conv/linear of its own
    }
    ProcessResult card = runProcess(DISTILLERY_CLI, {"model-card", model("wrapped_trace.pt"), "--no-latency"});
    QVERIFY2(card.code == 0, qPrintable(card.err));
    QVERIFY2(card.out.contains("net.block") && card.out.contains("multiply-adds"), qPrintable(card.out));
    ProcessResult json_card =
        runProcess(DISTILLERY_CLI, {"model-card", model("wrapped_trace.pt"), "--no-latency", "--json"});
    const json j = json::parse(json_card.out.toStdString());
    QCOMPARE(j["macs_per_sample"].get<double>() * 2.0, j["flops_per_sample"].get<double>());

    // --shape gave the input, not a dataset.
    ProcessResult bad = runProcess(DISTILLERY_CLI, {"model-card", model("wrong_channels.pt"), "--no-latency"});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("--shape 1x28x28") && !bad.err.contains("dataset"), qPrintable(bad.err));
    QVERIFY2(bad.err.contains("images [N, C, H, W]"), qPrintable(bad.err));
    // A table's rows are not called images.
    ScriptedClassifier loaded = loadScriptedFile(model("teacher_trace.pt").toStdString());
    try {
      probeClassifier(loaded.ptr(), torch::zeros({4, 13}), 10, "t.pt");
      QFAIL("a [4, 13] input was accepted by an image model");
    } catch (const DataError& e) {
      const QString what = QString::fromUtf8(e.what());
      QVERIFY2(what.contains("the dataset's input [4, 13] (table rows [N, F])") && !what.contains("images"),
               qPrintable(what));
    }
  }

  void modelCardMeasuresAndCompares() {
    CardInput input; // 1x28x28, 10 classes
    CardOptions options;
    options.repeats = 3;
    const ModelSpec student = modelSpecFromJson({{"zoo", "mlp"}, {"hidden", {32}}}, "s");
    const ModelSpec teacher = modelSpecFromJson({{"zoo", "cnn"}}, "t");
    ModelCard card = makeModelCard(student, input, options);
    const ModelCard teacher_card = makeModelCard(teacher, input, options);
    QCOMPARE(card.info.params, int64_t(784 * 32 + 32 + 32 * 10 + 10));
    // Size on disk is the saved weights: at least 4 bytes per parameter.
    QVERIFY(card.size_bytes >= 4 * card.info.params);
    QVERIFY(card.size_bytes < 4 * card.info.params + 20000);
    QVERIFY(card.latency_ms_batch1 > 0 && card.latency_ms_batch128 > 0);
    QCOMPARE(QString::fromStdString(card.device), QString("cpu"));
    compareWithTeacher(card, teacher_card);
    QCOMPARE(card.compression, double(teacher_card.info.params) / double(card.info.params));
    QVERIFY(card.speedup_batch128 > 1.0); // convolutions on 128 images take much longer than a small mlp
    const json j = toJson(card);
    QCOMPARE(j["params"].get<int64_t>(), card.info.params);
    QVERIFY(j.contains("latency_ms_batch128") && j.contains("compression"));
    QVERIFY(QString::fromStdString(formatModelCard(card)).contains("compression"));

    // On the command line (latency skipped: measured above), a TorchScript file's size is the file's.
    if (!python_) QSKIP(qPrintable(python_why_));
    ProcessResult r = runProcess(DISTILLERY_CLI,
                                 {"model-card", model("teacher_trace.pt"), "--teacher", "cnn", "--json", "--no-latency"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const json cli = json::parse(r.out.toStdString());
    QCOMPARE(cli["size_bytes"].get<int64_t>(), int64_t(QFileInfo(model("teacher_trace.pt")).size()));
    QCOMPARE(cli["params"].get<int64_t>(), describeModel(modelSpecFromJson({{"torchscript", model("teacher_trace.pt").toStdString()}}, "m"), 1, 28, 28, 10).params);
    QVERIFY(!cli.contains("latency_ms_batch1"));
    QVERIFY(cli["compression"].get<double>() > 1.0);
    ProcessResult bad = runProcess(DISTILLERY_CLI, {"model-card", "resnet9"});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("depth must be 6n+2"), qPrintable(bad.err));
  }
};

QTEST_GUILESS_MAIN(TestInterop)
#include "tst_interop.moc"
