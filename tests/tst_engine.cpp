// The engine end to end on a small generated dataset: runs learn, teachers are
// trained and linked, cancellation is prompt, failures become the run's error.
#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/store/checkpoint.h"
#include "core/store/run_store.h"
#include "test_support.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <fstream>
#include <thread>

using namespace distillery;
using json = nlohmann::json;

namespace {

class CountingObserver : public RunObserver {
public:
  std::atomic<int> progress{0}, points{0}, created{0};
  std::function<void()> on_progress;
  void onProgress(const RunProgress&) override {
    ++progress;
    if (on_progress) on_progress();
  }
  void onPoints(const std::vector<MetricPoint>& p) override { points += int(p.size()); }
  void onRunCreated(int64_t, int64_t) override { ++created; }
};

QString status(RunStore& store, int64_t id) { return QString::fromStdString(toString(store.run(id)->status)); }

// Asks the run to stop at its first progress report of `phase`.
class StopInPhase : public RunObserver {
public:
  StopInPhase(StopToken& stop, std::string phase) : stop_(stop), phase_(std::move(phase)) {}
  void onProgress(const RunProgress& p) override {
    if (p.phase == phase_) stop_.requestStop();
  }

private:
  StopToken& stop_;
  std::string phase_;
};

// The run finished with one train_loss point per step (log_every 1), steps 1..N, each once.
void checkEveryStepOnce(RunStore& store, int64_t id) {
  QCOMPARE(status(store, id), QString("finished"));
  const auto loss = store.points(id, "train_loss");
  QCOMPARE(int64_t(loss.size()), store.run(id)->summary["steps"].get<int64_t>());
  for (size_t i = 0; i < loss.size(); ++i) QCOMPARE(loss[i].step, int64_t(i + 1));
}

bool logHas(RunStore& store, int64_t id, const std::string& text) {
  for (const auto& e : store.logs(id))
    if (e.message.find(text) != std::string::npos) return true;
  return false;
}

} // namespace

class TestEngine : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  std::string dataPath() const { return dir_.filePath("data").toStdString(); }

  json trainConfig() const {
    return {{"name", "mlp-scratch"}, {"task", "train"},
            {"data", {{"path", dataPath()}, {"val_size", 300}}},
            {"model", {{"zoo", "mlp"}, {"hidden", {32}}}},
            {"optim", {{"name", "adam"}, {"lr", 0.003}}},
            {"batch_size", 64}, {"epochs", 2}, {"seed", 1}, {"device", "cpu"}, {"log_every", 5}};
  }

  json distillConfig() const {
    return {{"name", "kd-small"}, {"task", "distill"},
            {"data", {{"path", dataPath()}, {"val_size", 300}}},
            {"teacher", {{"zoo", "cnn"}, {"channels", {8}}, {"fc", 32}, {"train", {{"epochs", 1}, {"optim", {{"lr", 0.003}}}}}}},
            {"student", {{"zoo", "mlp"}, {"hidden", {16}}}},
            {"method", {{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}}},
            {"optim", {{"name", "adam"}, {"lr", 0.003}}},
            {"batch_size", 64}, {"epochs", 2}, {"seed", 0}, {"device", "cpu"}, {"log_every", 5}};
  }

  // A tiny feature-method run: 300 training samples, one epoch, a cnn teacher trained first.
  json featureConfig(const std::string& method, const json& student) const {
    json j = distillConfig();
    j["name"] = method + "-small";
    j["data"] = {{"path", dataPath()}, {"val_size", 100}, {"train_limit", 400}};
    j["teacher"]["train"]["epochs"] = 1;
    j["student"] = student;
    j["method"] = {{"name", method}};
    j["epochs"] = 1;
    j["evals_per_epoch"] = 1;
    return j;
  }

  RunOutcome runConfig(RunStore& store, const json& j, RunObserver& observer, const StopToken& stop) {
    RunConfig config = RunConfig::fromJson(j);
    return executeRun(store, queueRun(store, config), config, observer, stop);
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(dir_.filePath("data")));
    // Teacher outputs go to this test's folder, not the user's cache.
    qputenv("DISTILLERY_CACHE_DIR", dir_.filePath("teacher-cache").toUtf8());
    testsupport::writeSyntheticDataset(dataPath(), 3000, 500);
  }

  void smallTrainRunBeatsChanceByFar() {
    RunStore store(":memory:");
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, trainConfig(), observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    const double acc = out.summary["test_accuracy"].get<double>();
    QVERIFY2(acc > 0.8, qPrintable(QString("test accuracy %1, chance is 0.1").arg(acc)));
    QCOMPARE(status(store, out.run_id), QString("finished"));
    QVERIFY(store.loadArtifact(out.run_id, "model.pt").has_value());
    QVERIFY(observer.progress > 0);
    // Every point the observer saw is in the store, with cost counters growing.
    QCOMPARE(int(store.pointCount(out.run_id)), int(observer.points));
    auto loss = store.points(out.run_id, "train_loss");
    QVERIFY(loss.size() >= 10);
    QVERIFY(loss.back().samples > loss.front().samples && loss.back().flops > loss.front().flops);
    QVERIFY(loss.back().value < loss.front().value);
    QVERIFY(!store.points(out.run_id, "val_accuracy").empty());
    QCOMPARE(store.points(out.run_id, "test_accuracy").size(), size_t(1));
    // Log lines are stored on one clock, in order, so viewers can merge them with live ones.
    auto logs = store.logs(out.run_id);
    QVERIFY(logs.size() >= 3);
    for (size_t i = 1; i < logs.size(); ++i) QVERIFY(logs[i].wall_s >= logs[i - 1].wall_s);
  }

  void distillTrainsAndLinksTheTeacherThenReusesIt() {
    RunStore store(dir_.filePath("distill.sqlite").toStdString());
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, distillConfig(), observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    QCOMPARE(int(observer.created), 1);
    auto run = store.run(out.run_id);
    QVERIFY(run->teacher_run_id != 0);
    auto teacher = store.run(run->teacher_run_id);
    QCOMPARE(QString::fromStdString(teacher->task), QString("train"));
    QCOMPARE(teacher->parent_run_id, out.run_id);
    QCOMPARE(status(store, teacher->id), QString("finished"));
    QVERIFY(out.summary["teacher_test_accuracy"].get<double>() > 0.8);
    QVERIFY(out.summary["test_accuracy"].get<double>() > 0.8);
    QVERIFY(out.summary["test_agreement"].get<double>() > 0.8);
    // The teacher sees each training sample once, to fill the cache, then the validation and test sets.
    QCOMPARE(out.summary["teacher_cache"]["status"].get<std::string>(), std::string("miss (computed)"));
    QCOMPARE(out.summary["teacher_queries"].get<double>(), 2700.0 + 300 + 500);
    QVERIFY(!store.points(out.run_id, "val_agreement").empty());
    QVERIFY(!store.points(out.run_id, "train_soft_loss").empty());
    QVERIFY(!store.points(out.run_id, "val_kl").empty());

    // A second run names the finished teacher run instead of training one.
    json j = distillConfig();
    j["teacher"] = {{"run", teacher->id}};
    CountingObserver second;
    RunOutcome again = runConfig(store, j, second, stop);
    QVERIFY2(again.kind == RunOutcome::Kind::Success, again.message.c_str());
    QCOMPARE(int(second.created), 0);
    QCOMPARE(store.run(again.run_id)->teacher_run_id, teacher->id);
    QCOMPARE(again.summary["teacher_test_accuracy"].get<double>(), out.summary["teacher_test_accuracy"].get<double>());
  }

  // track_test: the test split is measured at every evaluation, so "best test
  // accuracy" (what RepDistiller-style tables report) is the maximum of that curve.
  void trackTestRecordsTestCurvesAndTheirBest() {
    RunStore store(dir_.filePath("track-test.sqlite").toStdString());
    CountingObserver observer;
    StopToken stop;
    json j = distillConfig();
    j["track_test"] = true;
    j["select_best"] = false;
    j["evals_per_epoch"] = 2;
    RunOutcome out = runConfig(store, j, observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    const auto acc = store.points(out.run_id, "test_accuracy");
    const auto agree = store.points(out.run_id, "test_agreement");
    // 2 epochs x 2 passes, plus the final measurement.
    QCOMPARE(int(acc.size()), 5);
    QCOMPARE(int(agree.size()), 5);
    double best_acc = 0, best_agree = 0;
    for (size_t i = 0; i + 1 < acc.size(); ++i) {
      best_acc = std::max(best_acc, acc[i].value);
      best_agree = std::max(best_agree, agree[i].value);
    }
    QCOMPARE(out.summary["best_test_accuracy"].get<double>(), best_acc);
    QCOMPARE(out.summary["best_test_agreement"].get<double>(), best_agree);
    // Without select_best the final model is the last pass's: same test accuracy.
    QCOMPARE(out.summary["test_accuracy"].get<double>(), acc[acc.size() - 2].value);
    QVERIFY(out.summary["best_test_accuracy"].get<double>() >= out.summary["test_accuracy"].get<double>());
    QCOMPARE(RunConfig::fromJson(j).toJson()["track_test"].get<bool>(), true);

    // Off by default: one final test point, no best_test_* in the summary.
    RunOutcome plain = runConfig(store, distillConfig(), observer, stop);
    QVERIFY2(plain.kind == RunOutcome::Kind::Success, plain.message.c_str());
    QCOMPARE(store.points(plain.run_id, "test_accuracy").size(), size_t(1));
    QVERIFY(!plain.summary.contains("best_test_accuracy"));
  }

  void cancellationTakesEffectAtTheNextBatch() {
    RunStore store(":memory:");
    json j = trainConfig();
    j["epochs"] = 500; // minutes of work if it were not stopped
    CountingObserver observer;
    StopToken stop;
    observer.on_progress = [&] { stop.requestStop(); };
    QElapsedTimer timer;
    timer.start();
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("cancelled"));
    QCOMPARE(status(store, out.run_id), QString("cancelled"));
    QVERIFY2(timer.elapsed() < 10000, qPrintable(QString("took %1 ms").arg(timer.elapsed())));
    // The first progress report comes after step 1; the stop is seen before step 2 runs... or the next.
    auto loss = store.points(out.run_id);
    for (const auto& p : loss) QVERIFY(p.step <= 2);
  }

  void cancellationFromAnotherThread() {
    RunStore store(":memory:");
    json j = trainConfig();
    j["epochs"] = 500;
    CountingObserver observer;
    StopToken stop;
    std::thread stopper([&] {
      while (observer.progress == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      stop.requestStop();
    });
    QElapsedTimer timer;
    timer.start();
    RunOutcome out = runConfig(store, j, observer, stop);
    stopper.join();
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("cancelled"));
    QVERIFY2(timer.elapsed() < 15000, qPrintable(QString("took %1 ms").arg(timer.elapsed())));
  }

  void missingDataFailsWithTheRunsError() {
    RunStore store(":memory:");
    json j = trainConfig();
    j["data"]["path"] = "/nonexistent/data";
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
    QVERIFY(out.message.find("/nonexistent/data") != std::string::npos);
    auto run = store.run(out.run_id);
    QCOMPARE(status(store, out.run_id), QString("failed"));
    QCOMPARE(QString::fromStdString(run->error), QString::fromStdString(out.message));
  }

  void teacherRunThatDoesNotExistIsAnError() {
    RunStore store(":memory:");
    json j = distillConfig();
    j["teacher"] = {{"run", 999}};
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
    QVERIFY2(out.message.find("teacher.run") != std::string::npos && out.message.find("999") != std::string::npos,
             out.message.c_str());
  }

  // A stored teacher trained on other data: its input shape or class count
  // does not fit, and the error says what the teacher expects and what the data is.
  void teacherRunForOtherDataIsRefused() {
    RunStore store(dir_.filePath("mismatch.sqlite").toStdString());
    CountingObserver observer;
    StopToken stop;
    json t = trainConfig();
    t["epochs"] = 1;
    RunOutcome teacher = runConfig(store, t, observer, stop);
    QVERIFY2(teacher.kind == RunOutcome::Kind::Success, teacher.message.c_str());
    // A table of 3 features and 3 classes.
    const QString csv = dir_.filePath("table.csv");
    {
      QFile f(csv);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("a,b,c,label\n");
      for (int i = 0; i < 60; ++i) f.write(QByteArray::number(i % 7) + ",1,2," + QByteArray::number(i % 3) + "\n");
    }
    json j = distillConfig();
    j["data"] = {{"dataset", "csv"}, {"path", csv.toStdString()}, {"label_column", "label"}};
    j["teacher"] = {{"run", teacher.run_id}};
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
    QVERIFY2(out.message.find("teacher.run") != std::string::npos &&
                 out.message.find("this dataset has input") != std::string::npos &&
                 out.message.find("3 classes") != std::string::npos,
             out.message.c_str());
    // The teacher run is untouched.
    QCOMPARE(status(store, teacher.run_id), QString("finished"));
  }

  void divergenceStopsTheRun() {
    RunStore store(":memory:");
    json j = trainConfig();
    j["optim"] = {{"name", "sgd"}, {"lr", 10.0}, {"momentum", 0.99}};
    j["data"]["mean"] = 0.0;
    j["data"]["std"] = 1e-8; // inputs near 1e8: SGD at lr 10 overflows within a few steps
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("diverged"));
    QVERIFY2(out.message.find("diverged") != std::string::npos && out.message.find("step") != std::string::npos,
             out.message.c_str());
    QVERIFY2(out.message.find("optim.lr") != std::string::npos, out.message.c_str()); // the hint
    // The store says so too, in the status and the error.
    const auto record = store.run(out.run_id);
    QCOMPARE(QString::fromStdString(toString(record->status)), QString("diverged"));
    QCOMPARE(record->error, out.message);
    QVERIFY(endedDiverged(*record));
    auto loss = store.points(out.run_id, "train_loss");
    QVERIFY(!loss.empty() && !std::isfinite(loss.back().value));
    // The step in the message lies in the window that last, non-finite point stands for.
    const auto at = out.message.find("at step ");
    QVERIFY(at != std::string::npos);
    const int64_t step = std::stoll(out.message.substr(at + 8));
    const int64_t window_start = loss.size() > 1 ? loss[loss.size() - 2].step : 0;
    QVERIFY2(step > window_start && step <= loss.back().step, out.message.c_str());
    // Resuming would only diverge again; it is refused with the reason.
    RunOutcome again = resumeRun(store, out.run_id, observer, stop);
    QCOMPARE(QString::fromStdString(toString(again.kind)), QString("failed"));
    QVERIFY2(again.message.find("lower learning rate") != std::string::npos, again.message.c_str());
    QCOMPARE(QString::fromStdString(toString(store.run(out.run_id)->status)), QString("diverged"));
  }

  // A teacher trained on the way diverges: the teacher's run is the diverged
  // one, with the hint naming its own learning rate; the distill run fails
  // because it has no teacher, and says which run diverged.
  void divergingTeacherIsNamed() {
    RunStore store(":memory:");
    json j = distillConfig();
    j["data"]["mean"] = 0.0;
    j["data"]["std"] = 1e-8;
    j["teacher"] = {{"zoo", "mlp"}, {"hidden", {32}},
                    {"train", {{"epochs", 1}, {"optim", {{"name", "sgd"}, {"lr", 10.0}, {"momentum", 0.99}}}}}};
    CountingObserver observer;
    StopToken stop;
    RunOutcome out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
    const int64_t teacher = store.run(out.run_id)->teacher_run_id;
    QVERIFY(teacher > 0);
    QVERIFY2(out.message.find("teacher, run #" + std::to_string(teacher)) != std::string::npos, out.message.c_str());
    QVERIFY2(out.message.find("teacher.train.optim.lr") != std::string::npos, out.message.c_str());
    QCOMPARE(status(store, teacher), QString("diverged"));
    QCOMPARE(status(store, out.run_id), QString("failed"));
    // Its teacher would diverge again: resuming the distill run is refused, naming the teacher's run.
    RunOutcome again = resumeRun(store, out.run_id, observer, stop);
    QCOMPARE(QString::fromStdString(toString(again.kind)), QString("failed"));
    QVERIFY2(again.message.find("teacher, run " + std::to_string(teacher)) != std::string::npos &&
                 again.message.find("diverge") != std::string::npos,
             again.message.c_str());
    QCOMPARE(status(store, out.run_id), QString("failed"));
    QCOMPARE(int(store.runs().size()), 2);
  }

  // Issue 15 item 4 / issue 23: a distill run cancelled while its teacher
  // trains resumes by resuming that teacher run (same id, every step's point
  // once), then distils from step 0; or, when the teacher run was resumed on
  // its own first, by reusing it. No second teacher is trained.
  void distillCancelledInItsTeacherPhaseResumes_data() {
    QTest::addColumn<bool>("teacherFirst");
    QTest::newRow("resume the distill run") << false;
    QTest::newRow("resume the teacher run, then the distill run") << true;
  }
  void distillCancelledInItsTeacherPhaseResumes() {
    QFETCH(bool, teacherFirst);
    RunStore store(":memory:");
    json j = distillConfig();
    j["data"]["train_limit"] = 800;
    j["teacher"]["train"]["batch_size"] = 16;
    j["epochs"] = 1;
    j["log_every"] = 1;
    StopToken stop;
    StopInPhase stopper(stop, "teacher");
    const RunOutcome first = runConfig(store, j, stopper, stop);
    QCOMPARE(QString::fromStdString(toString(first.kind)), QString("cancelled"));
    const int64_t id = first.run_id;
    const int64_t teacher = store.run(id)->teacher_run_id;
    QVERIFY(teacher > 0);
    QCOMPARE(status(store, teacher), QString("cancelled"));
    QCOMPARE(store.pointCount(id), int64_t(0));
    QVERIFY(!store.loadArtifact(id, kCheckpointArtifact)); // the distill run never reached its own training

    CountingObserver observer;
    StopToken no_stop;
    if (teacherFirst) {
      const RunOutcome t = resumeRun(store, teacher, observer, no_stop);
      QVERIFY2(t.kind == RunOutcome::Kind::Success, t.message.c_str());
    }
    const RunOutcome resumed = resumeRun(store, id, observer, no_stop);
    QVERIFY2(resumed.kind == RunOutcome::Kind::Success, resumed.message.c_str());
    QCOMPARE(int(store.runs().size()), 2);
    QCOMPARE(store.run(id)->teacher_run_id, teacher);
    QCOMPARE(store.run(teacher)->parent_run_id, id);
    checkEveryStepOnce(store, teacher);
    checkEveryStepOnce(store, id);
    QVERIFY(logHas(store, id, "restarted from step 0"));
    QVERIFY(logHas(store, id, teacherFirst ? "is reused" : "resuming it from step"));
    QCOMPARE(resumed.summary["teacher_run_id"].get<int64_t>(), teacher);
  }

  void cosineScheduleDecaysTheLearningRate() {
    RunStore store(":memory:");
    CountingObserver observer;
    StopToken stop;
    json j = trainConfig();
    j["optim"]["schedule"] = "cosine";
    RunOutcome out = runConfig(store, j, observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    auto lr = store.points(out.run_id, "lr");
    QVERIFY(lr.size() >= 5);
    QVERIFY2(lr.front().value > 0.9 * 0.003, qPrintable(QString::number(lr.front().value)));
    QVERIFY2(lr.back().value < 0.05 * 0.003, qPrintable(QString::number(lr.back().value)));
    for (size_t i = 1; i < lr.size(); ++i) QVERIFY(lr[i].value <= lr[i - 1].value);
    // Constant keeps the configured rate throughout.
    RunOutcome flat = runConfig(store, trainConfig(), observer, stop);
    for (const auto& p : store.points(flat.run_id, "lr")) QCOMPARE(p.value, 0.003);
  }

  void teacherCacheComputesOnceThenEveryRunReusesIt() {
    RunStore store(":memory:");
    CountingObserver observer;
    StopToken stop;
    json teacher_config = trainConfig();
    teacher_config["model"] = {{"zoo", "cnn"}, {"channels", {8}}, {"fc", 32}};
    teacher_config["epochs"] = 1;
    RunOutcome teacher = runConfig(store, teacher_config, observer, stop);
    QVERIFY2(teacher.kind == RunOutcome::Kind::Success, teacher.message.c_str());

    const QString cache_dir = dir_.filePath("cache-reuse");
    json j = distillConfig();
    j["teacher"] = {{"run", teacher.run_id}};
    j["teacher_cache"] = {{"dir", cache_dir.toStdString()}};
    const double train = 2700, val_test = 300 + 500, epochs = 2;

    RunOutcome cold = runConfig(store, j, observer, stop);
    QVERIFY2(cold.kind == RunOutcome::Kind::Success, cold.message.c_str());
    const json& cc = cold.summary["teacher_cache"];
    QCOMPARE(cc["status"].get<std::string>(), std::string("miss (computed)"));
    QCOMPARE(cc["rows_computed"].get<double>(), train);
    QCOMPARE(cc["teacher_passes_saved"].get<double>(), epochs * train);
    QCOMPARE(cold.summary["teacher_queries"].get<double>(), train + val_test);
    const QString entry = QString::fromStdString(cc["path"].get<std::string>());
    QVERIFY2(entry.startsWith(cache_dir), qPrintable(entry));
    QCOMPARE(QFileInfo(entry).size(), qint64(cc["bytes"].get<int64_t>()));
    // The query axis starts at the cache fill, not at zero.
    QCOMPARE(store.points(cold.run_id, "train_loss").front().teacher_queries, train);
    // Issue 17 part 4: the run is charged the teacher's inference for every
    // row it uses: FLOPs inside train_flops and the points from step 0, and
    // the seconds the fill took (outside wall_s, which starts with the student).
    const double teacher_fps = cold.summary["teacher_flops_per_sample"].get<double>();
    const double student_fps = cold.summary["flops_per_sample"].get<double>();
    QVERIFY(teacher_fps > 0 && student_fps > 0);
    QCOMPARE(cold.summary["teacher_inference_flops"].get<double>(), teacher_fps * train);
    // Summed batch by batch: equal to the closed form up to rounding.
    const double expected_flops = teacher_fps * train + 3 * student_fps * epochs * train;
    QVERIFY(std::abs(cold.summary["train_flops"].get<double>() - expected_flops) < 1e-9 * expected_flops);
    QVERIFY(store.points(cold.run_id, "train_loss").front().flops > teacher_fps * train);
    QVERIFY(cold.summary["teacher_inference_s"].get<double>() > 0);
    QCOMPARE(cc["teacher_seconds"].get<double>(), cold.summary["teacher_inference_s"].get<double>());
    QCOMPARE(cc["teacher_seconds_source"].get<std::string>(), std::string("measured by this run"));
    QCOMPARE(cc["teacher_flops"].get<double>(), teacher_fps * train);

    RunOutcome warm = runConfig(store, j, observer, stop);
    QVERIFY2(warm.kind == RunOutcome::Kind::Success, warm.message.c_str());
    QCOMPARE(warm.summary["teacher_cache"]["status"].get<std::string>(), std::string("hit"));
    QCOMPARE(warm.summary["teacher_cache"]["rows_computed"].get<double>(), 0.0);
    // Still one query per training sample: the outputs were obtained once, by another run.
    QCOMPARE(warm.summary["teacher_queries"].get<double>(), train + val_test);
    // And charged the same: the teacher's FLOPs for every row, and the seconds
    // the run that filled the entry recorded beside it.
    QCOMPARE(warm.summary["train_flops"].get<double>(), cold.summary["train_flops"].get<double>());
    QCOMPARE(warm.summary["teacher_inference_flops"].get<double>(), teacher_fps * train);
    QCOMPARE(store.points(warm.run_id, "train_loss").front().flops,
             store.points(cold.run_id, "train_loss").front().flops);
    QCOMPARE(warm.summary["teacher_inference_s"].get<double>(), cold.summary["teacher_inference_s"].get<double>());
    QCOMPARE(warm.summary["teacher_cache"]["teacher_seconds_source"].get<std::string>(),
             std::string("recorded by the run that computed it"));
    // An entry without its side file (written by an older build) is estimated from
    // the teacher's measured throughput, and the summary says so.
    QVERIFY(QFile::remove(entry + ".cost"));
    RunOutcome estimated = runConfig(store, j, observer, stop);
    QVERIFY2(estimated.kind == RunOutcome::Kind::Success, estimated.message.c_str());
    QCOMPARE(estimated.summary["teacher_cache"]["status"].get<std::string>(), std::string("hit"));
    QVERIFY(estimated.summary["teacher_cache"]["teacher_seconds_source"].get<std::string>().rfind("estimated", 0) == 0);
    QVERIFY(estimated.summary["teacher_inference_s"].get<double>() > 0);
    QCOMPARE(estimated.summary["train_flops"].get<double>(), cold.summary["train_flops"].get<double>());
    // Same logits from the same entry: the very same student.
    QCOMPARE(warm.summary["test_accuracy"].get<double>(), cold.summary["test_accuracy"].get<double>());

    json off = j;
    off["teacher_cache"]["enabled"] = false;
    RunOutcome live = runConfig(store, off, observer, stop);
    QVERIFY2(live.kind == RunOutcome::Kind::Success, live.message.c_str());
    QCOMPARE(live.summary["teacher_cache"]["status"].get<std::string>(), std::string("off"));
    QCOMPARE(live.summary["teacher_queries"].get<double>(), epochs * train + val_test);
    // Live passes are inside the training steps: their FLOPs in train_flops, their time in wall_s.
    QCOMPARE(live.summary["teacher_inference_flops"].get<double>(), teacher_fps * epochs * train);
    QCOMPARE(live.summary["teacher_inference_s"].get<double>(), 0.0);
    // Live teacher passes give the same logits up to float rounding.
    QVERIFY(std::abs(live.summary["test_accuracy"].get<double>() - cold.summary["test_accuracy"].get<double>()) < 0.03);

    json augmented = j;
    augmented["data"]["augment"] = {{"horizontal_flip", true}};
    RunOutcome aug = runConfig(store, augmented, observer, stop);
    QVERIFY2(aug.kind == RunOutcome::Kind::Success, aug.message.c_str());
    QVERIFY(aug.summary["teacher_cache"]["status"].get<std::string>().rfind("off (augmented", 0) == 0);
    QCOMPARE(aug.summary["teacher_queries"].get<double>(), epochs * train + val_test);

    // Another format is another entry.
    json half = j;
    half["teacher_cache"]["fp16"] = true;
    RunOutcome fp16 = runConfig(store, half, observer, stop);
    QVERIFY2(fp16.kind == RunOutcome::Kind::Success, fp16.message.c_str());
    QCOMPARE(fp16.summary["teacher_cache"]["status"].get<std::string>(), std::string("miss (computed)"));
    QVERIFY(fp16.summary["teacher_cache"]["bytes"].get<int64_t>() < cc["bytes"].get<int64_t>());
  }

  void transferSetsTakeAFractionHideLabelsOrBorrowImages() {
    RunStore store(":memory:");
    CountingObserver observer;
    StopToken stop;
    json teacher_config = trainConfig();
    teacher_config["model"] = {{"zoo", "cnn"}, {"channels", {8}}, {"fc", 32}};
    teacher_config["epochs"] = 1;
    RunOutcome teacher = runConfig(store, teacher_config, observer, stop);
    QVERIFY2(teacher.kind == RunOutcome::Kind::Success, teacher.message.c_str());
    json base = distillConfig();
    base["teacher"] = {{"run", teacher.run_id}};
    base["epochs"] = 1;

    // A quarter of the training split, labels visible.
    json quarter = base;
    quarter["transfer"] = {{"fraction", 0.25}};
    RunOutcome q = runConfig(store, quarter, observer, stop);
    QVERIFY2(q.kind == RunOutcome::Kind::Success, q.message.c_str());
    QCOMPARE(q.summary["transfer"]["samples"].get<int64_t>(), int64_t(675)); // 2700 / 4
    QCOMPARE(q.summary["samples"].get<double>(), 675.0);
    QCOMPARE(q.summary["teacher_queries"].get<double>(), 675.0 + 300 + 500);
    // Its baseline trains on as many labelled samples.
    RunConfig baseline = RunConfig::fromJson(quarter).baseline();
    RunOutcome b = executeRun(store, queueRun(store, baseline), baseline, observer, stop);
    QVERIFY2(b.kind == RunOutcome::Kind::Success, b.message.c_str());
    QCOMPARE(b.summary["samples"].get<double>(), 675.0);

    // Labels hidden: only the teacher's answers teach, and the student still learns the task.
    json hidden = base;
    hidden["transfer"] = {{"hide_labels", true}};
    hidden["method"] = {{"name", "kd"}, {"alpha", 0.0}}; // the "label" term alone, now the teacher's answers
    RunOutcome h = runConfig(store, hidden, observer, stop);
    QVERIFY2(h.kind == RunOutcome::Kind::Success, h.message.c_str());
    QVERIFY(h.summary["transfer"]["labels_hidden"].get<bool>());
    QVERIFY2(h.summary["test_agreement"].get<double>() > 0.8, h.summary.dump().c_str());

    // Another dataset's images, labelled by the teacher.
    const QString other = dir_.filePath("other-images");
    QVERIFY(QDir().mkpath(other));
    testsupport::writeSyntheticDataset(other.toStdString(), 1000, 100);
    json borrowed = base;
    borrowed["transfer"] = {{"data", {{"path", other.toStdString()}}}};
    RunOutcome o = runConfig(store, borrowed, observer, stop);
    QVERIFY2(o.kind == RunOutcome::Kind::Success, o.message.c_str());
    QCOMPARE(o.summary["transfer"]["samples"].get<int64_t>(), int64_t(1000));
    QVERIFY(o.summary["transfer"]["source"].get<std::string>().find(other.toStdString()) != std::string::npos);

    // Images of another shape: the error names the file and both shapes.
    const QString table = dir_.filePath("table.csv");
    {
      std::ofstream csv(table.toStdString());
      csv << "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n";
    }
    json wrong = base;
    wrong["transfer"] = {{"data", {{"dataset", "csv"}, {"path", table.toStdString()}, {"label_column", "label"}}}};
    RunOutcome w = runConfig(store, wrong, observer, stop);
    QVERIFY(w.kind == RunOutcome::Kind::Failed);
    QVERIFY2(w.message.find(table.toStdString()) != std::string::npos && w.message.find("1x28x28") != std::string::npos,
             w.message.c_str());

    // A method that learns from labels alone cannot hide them.
    json none = hidden;
    none["method"] = {{"name", "none"}};
    try {
      RunConfig::fromJson(none);
      QFAIL("hidden labels with method none must be refused");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QStringLiteral("transfer.hide_labels"));
    }
  }

  // Each feature method end to end: it trains, reports agreement and KL like every method,
  // counts one teacher query per training sample (the teacher runs live, no cache).
  void featureMethodsRunEndToEnd() {
    const json cnn_student = {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}};
    const json mlp_student = {{"zoo", "mlp"}, {"hidden", {16}}};
    const std::vector<std::tuple<std::string, json, std::string>> runs = {
        {"fitnets", cnn_student, "features"}, // 4 -> 8 channels: a 1x1 conv adapter
        {"at", cnn_student, "features"},
        {"rkd", mlp_student, "layers.1"},     // vectors against the teacher's pooled map
        {"crd", mlp_student, "layers.1"}};
    for (const auto& [method, student, student_layer] : runs) {
      RunStore store(":memory:");
      CountingObserver observer;
      StopToken stop;
      json j = featureConfig(method, student);
      if (method == "fitnets") j["method"]["beta"] = 1.0;
      RunOutcome out = runConfig(store, j, observer, stop);
      QVERIFY2(out.kind == RunOutcome::Kind::Success, (method + ": " + out.message).c_str());
      const json& sum = out.summary;
      QVERIFY2(sum["val_agreement"].get<double>() >= 0.0 && sum["val_kl"].get<double>() >= 0.0, method.c_str());
      QVERIFY2(!store.points(out.run_id, "val_agreement").empty(), method.c_str());
      QCOMPARE(QString::fromStdString(sum["teacher_cache"]["status"].get<std::string>()),
               QString("unused (the method reads teacher features)"));
      QCOMPARE(QString::fromStdString(sum["teacher_layer"].get<std::string>()), QString("features"));
      QCOMPARE(QString::fromStdString(sum["student_layer"].get<std::string>()), QString::fromStdString(student_layer));
      // 300 training samples (400 less 100 for validation), each sent to the teacher once.
      const auto queries = store.points(out.run_id, "train_loss").back().teacher_queries;
      QCOMPARE(queries, 300.0);
      QCOMPARE(sum["teacher_queries"].get<double>(), 300.0 + 100.0 + 500.0);
      if (method == "fitnets" || method == "crd") QVERIFY2(sum["method_extra_params"].get<int64_t>() > 0, method.c_str());
      if (method == "at" || method == "rkd") QCOMPARE(sum["method_extra_params"].get<int64_t>(), int64_t(0));
    }
  }

  // A wrong layer name fails at once (before the teacher is trained), naming the field and the layers.
  void wrongLayerNameIsAConfigError() {
    for (const char* field : {"teacher_layer", "student_layer"}) {
      RunStore store(":memory:");
      CountingObserver observer;
      StopToken stop;
      json j = featureConfig("fitnets", {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}});
      j["method"][field] = "foo";
      RunOutcome out = runConfig(store, j, observer, stop);
      QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
      const std::string expected = std::string("method.") + field + ": no layer \"foo\"; layers: features, features.0";
      QVERIFY2(out.message.find(expected) != std::string::npos, out.message.c_str());
      QCOMPARE(observer.created.load(), 0); // no teacher run was started
    }
    // Layer names are text parameters: they survive the config's JSON round trip.
    json j = featureConfig("at", {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}});
    j["method"]["teacher_layer"] = "features.1";
    RunConfig c = RunConfig::fromJson(j);
    QCOMPARE(QString::fromStdString(c.method.text_params.at("teacher_layer")), QString("features.1"));
    QCOMPARE(QString::fromStdString(c.method.text_params.at("student_layer")), QString(""));
    QVERIFY(RunConfig::fromJson(c.toJson()).toJson() == c.toJson());
    j["method"]["teacher_layer"] = 3;
    QVERIFY_THROWS_EXCEPTION(ConfigError, RunConfig::fromJson(j));
  }

  // A TorchScript teacher made by PyTorch: its directly called submodules are its layers.
  void torchScriptTeacherIsTappedByModuleName() {
    SKIP_WITHOUT_PYTHON_TORCH();
    // torch.jit.script reads the class's source, so the model is defined in a file.
    const QString script = dir_.filePath("feature_teacher.py"), path = dir_.filePath("feature_teacher.pt");
    QFile file(script);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"(
import sys, torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(6 * 14 * 14, 10)
    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))
torch.manual_seed(0)
torch.jit.script(Net().eval()).save(sys.argv[1])
)");
    file.close();
    const testsupport::ProcessResult py = testsupport::runPython({script, path});
    QVERIFY2(py.code == 0, qPrintable(py.err));
    RunStore store(":memory:");
    CountingObserver observer;
    StopToken stop;
    json j = featureConfig("fitnets", {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}});
    j["teacher"] = {{"torchscript", path.toStdString()}};
    j["method"]["beta"] = 1.0;
    RunOutcome out = runConfig(store, j, observer, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    QCOMPARE(QString::fromStdString(out.summary["teacher_layer"].get<std::string>()), QString("features"));
    QVERIFY(out.summary["method_extra_params"].get<int64_t>() == 4 * 6 + 6); // 1x1 conv 4 -> 6
    j["method"]["teacher_layer"] = "features.0"; // called inside features' forward, not tappable
    out = runConfig(store, j, observer, stop);
    QCOMPARE(QString::fromStdString(toString(out.kind)), QString("failed"));
    QVERIFY2(out.message.find("method.teacher_layer: no layer \"features.0\"; layers: features, fc") != std::string::npos,
             out.message.c_str());
  }

  void sameSeedSameResult() {
    RunStore store(":memory:");
    CountingObserver a, b;
    StopToken stop;
    json j = trainConfig();
    j["epochs"] = 1;
    RunOutcome first = runConfig(store, j, a, stop);
    RunOutcome second = runConfig(store, j, b, stop);
    QCOMPARE(first.summary["test_accuracy"].get<double>(), second.summary["test_accuracy"].get<double>());
    QCOMPARE(store.points(first.run_id, "train_loss").back().value, store.points(second.run_id, "train_loss").back().value);
  }
};

QTEST_APPLESS_MAIN(TestEngine)
#include "tst_engine.moc"
