// Reliability (issue 8): runs killed with SIGKILL keep every committed point
// and resume from their last checkpoint; GUI threads and CLI processes write
// to one store without losing points; a full disk, a read-only store and an
// unreadable data folder end in clear errors that leave the store as it was.
//
// The runs are distillery-cli and distillery processes, as a researcher
// starts them, on a small generated dataset and a small text corpus.
#include "core/store/checkpoint.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "test_support.h"
#include "widgets/run_controller.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <map>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

using json = nlohmann::json;
using namespace distillery;
using namespace distillery::gui;

namespace {

using Result = testsupport::ProcessResult;

QByteArray fileHash(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

} // namespace

class TestReliability : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString dataDir() const { return dir_.filePath("data"); }
  // Root reads and writes through any permission bit; permission tests then
  // run the CLI as nobody (setpriv) to see what a normal user sees.
  static bool isRoot() { return geteuid() == 0; }
  // A folder anyone may write, for stores the unprivileged CLI creates.
  QString sharedDir() const { return dir_.filePath("shared"); }
  QString corpusPath() const { return dir_.filePath("corpus.txt"); }

  json trainConfig(int epochs, int batch, const QString& name = "rel") const {
    return {{"name", name.toStdString()}, {"task", "train"},
            {"data", {{"path", dataDir().toStdString()}, {"val_size", 200}}},
            {"model", {{"zoo", "mlp"}, {"hidden", {64}}}},
            {"optim", {{"name", "adam"}, {"lr", 0.002}}},
            {"batch_size", batch}, {"epochs", epochs}, {"seed", 0}, {"device", "cpu"}, {"threads", 1},
            {"log_every", 1}, {"evals_per_epoch", 1}};
  }

  QString writeConfig(const QString& name, const json& j) {
    QFile f(dir_.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QByteArray::fromStdString(j.dump(2)));
    f.setPermissions(f.permissions() | QFileDevice::ReadOther);
    return f.fileName();
  }

  void startCli(QProcess& p, const QStringList& args, bool asNobody = false) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISTILLERY_DB");
    env.insert("OMP_NUM_THREADS", "1");
    p.setProcessEnvironment(env);
    if (asNobody && isRoot())
      p.start("setpriv", QStringList{"--reuid=65534", "--regid=65534", "--clear-groups", DISTILLERY_CLI} + args);
    else
      p.start(DISTILLERY_CLI, args);
  }

  Result cli(const QStringList& args, bool asNobody = false) {
    QProcess p;
    startCli(p, args, asNobody);
    return testsupport::waitForResult(p, 300000);
  }

  // Waits until process p has committed more than min_loss_points train_loss
  // points of run id (0: the store's only run, found on the way) and a
  // checkpoint, kills it with SIGKILL, and checks what a researcher would
  // after the crash: the store is intact, every point committed before the
  // kill is still there, the run shows as interrupted, and it kept a
  // checkpoint from before the kill to resume from. Adds the points lost
  // and the steps a resume will redo. The caller checks currentTestFailed().
  void killAfterProgress(QProcess& p, const QString& db, int64_t& id, size_t min_loss_points, int64_t& lost,
                         int64_t& redone, TrainingCheckpoint* kept = nullptr) {
    QVERIFY(p.waitForStarted());
    int64_t seen = 0;
    QElapsedTimer clock;
    clock.start();
    for (;;) {
      QVERIFY2(clock.elapsed() < 120000, "the run recorded no progress");
      QVERIFY2(p.state() == QProcess::Running, qPrintable(p.readAllStandardError()));
      QTest::qWait(100);
      RunStore store(db.toStdString());
      if (id == 0 && !store.runs().empty()) id = store.runs().front().id;
      if (id == 0) continue;
      if (store.points(id, "train_loss").size() > min_loss_points && store.loadArtifact(id, kCheckpointArtifact)) {
        seen = store.pointCount(id);
        break;
      }
    }
    p.kill(); // SIGKILL
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);

    RunStore store(db.toStdString());
    QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
    QCOMPARE(QString::fromStdString(toString(store.run(id)->status)), QString("interrupted"));
    const int64_t now = store.pointCount(id);
    QVERIFY2(now >= seen, qPrintable(QString("%1 points before the kill, %2 after").arg(seen).arg(now)));
    lost += std::max<int64_t>(0, seen - now);
    const auto bytes = store.loadArtifact(id, kCheckpointArtifact);
    QVERIFY(bytes);
    const TrainingCheckpoint c = decodeCheckpoint(*bytes, "checkpoint");
    const auto loss = store.points(id, "train_loss");
    QVERIFY(c.step > 0 && c.step <= loss.back().step);
    redone += loss.back().step - c.step;
    if (kept) *kept = c;
  }

  // Starts config_path with `distillery-cli run`, kills it `kills` times,
  // each time after points_per_round more train_loss points, restarting it
  // with `distillery-cli resume` in between, then resumes it to the end.
  // after_kill sees the checkpoint each resume starts from.
  void killAndResumeWithTheCli(const QString& config_path, const QString& db, int kills, size_t points_per_round,
                               int64_t& id, int64_t& lost, int64_t& redone,
                               const std::function<void(const TrainingCheckpoint&)>& after_kill) {
    for (int round = 0; round < kills; ++round) {
      QProcess p;
      if (round == 0)
        startCli(p, {"run", config_path, "--db", db});
      else
        startCli(p, {"resume", QString::number(id), "--db", db});
      TrainingCheckpoint kept;
      killAfterProgress(p, db, id, points_per_round * size_t(round + 1), lost, redone, &kept);
      if (QTest::currentTestFailed()) return;
      after_kill(kept);
      if (QTest::currentTestFailed()) return;
    }
    // The CLI's check command sees the interrupted run.
    Result check = cli({"check", "--db", db});
    QCOMPARE(check.code, 0);
    QVERIFY2(check.out.contains("integrity: ok") && check.out.contains("interrupted: 1"), qPrintable(check.out));
    Result last = cli({"resume", QString::number(id), "--db", db});
    QVERIFY2(last.code == 0, qPrintable(last.err));
    checkFinishedWithEveryStepOnce(db, id);
  }

  // After the last resume: the run finished with one train_loss point per
  // step (log_every 1), steps 1..N, each once: the curve continued where it
  // stopped, without gaps or repeats.
  void checkFinishedWithEveryStepOnce(const QString& db, int64_t id) {
    RunStore store(db.toStdString());
    QCOMPARE(QString::fromStdString(toString(store.run(id)->status)), QString("finished"));
    const auto loss = store.points(id, "train_loss");
    const int64_t total = store.run(id)->summary["steps"].get<int64_t>();
    QCOMPARE(int64_t(loss.size()), total);
    for (size_t i = 0; i < loss.size(); ++i) QCOMPARE(loss[i].step, int64_t(i + 1));
  }

  // Polls the store every 10 ms until `ready` holds, then kills p with
  // SIGKILL (or asks it to stop with SIGTERM, as Ctrl+C does, when `cancel`).
  void stopWhen(QProcess& p, const QString& db, const std::function<bool(RunStore&)>& ready, bool cancel = false) {
    QVERIFY(p.waitForStarted());
    QElapsedTimer clock;
    clock.start();
    for (;;) {
      QVERIFY2(clock.elapsed() < 120000, "the run never reached the moment to stop it");
      QVERIFY2(p.state() == QProcess::Running, qPrintable(p.readAllStandardError()));
      RunStore store(db.toStdString());
      if (ready(store)) break;
      QTest::qWait(10);
    }
    if (cancel) {
      p.terminate(); // SIGTERM: the CLI stops the run after its current batch
      QVERIFY(p.waitForFinished(60000));
      QCOMPARE(p.exitStatus(), QProcess::NormalExit);
      QCOMPARE(p.exitCode(), 130);
    } else {
      p.kill();
      QVERIFY(p.waitForFinished(10000));
      QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    }
  }

  static bool logHas(RunStore& store, int64_t id, const QString& text) {
    for (const auto& e : store.logs(id))
      if (QString::fromStdString(e.message).contains(text)) return true;
    return false;
  }

  // The first run of the store (0: none yet) and its teacher child (0: none yet).
  static int64_t firstRun(RunStore& store) {
    const auto runs = store.runs();
    return runs.empty() ? 0 : runs.back().id;
  }
  static int64_t teacherOf(RunStore& store, int64_t id) {
    const auto run = id ? store.run(id) : std::nullopt;
    return run ? run->teacher_run_id : 0;
  }

  // A distill run (image or LM) stopped in its teacher phase is resumed with
  // `distillery-cli resume` (after its teacher run, when teacher_first): no
  // second teacher is trained, and both runs finish with every step's point once.
  void resumeTeacherPhaseWithTheCli(const QString& db, int64_t id, int64_t teacher, bool teacher_first) {
    {
      RunStore store(db.toStdString());
      QCOMPARE(QString::fromStdString(toString(store.run(id)->status)),
               QString::fromStdString(toString(store.run(teacher)->status)));
      QVERIFY(!store.loadArtifact(id, kCheckpointArtifact));
      QCOMPARE(store.pointCount(id), int64_t(0));
    }
    if (teacher_first) {
      Result t = cli({"resume", QString::number(teacher), "--db", db});
      QVERIFY2(t.code == 0, qPrintable(t.err));
    }
    Result r = cli({"resume", QString::number(id), "--db", db});
    QVERIFY2(r.code == 0, qPrintable(QString("exit %1: %2").arg(r.code).arg(r.err.right(2000))));
    QVERIFY2(r.out.contains(QString("run_id=%1\n").arg(id)), qPrintable(r.out));
    RunStore store(db.toStdString());
    QCOMPARE(int(store.runs().size()), 2);
    QCOMPARE(store.run(id)->teacher_run_id, teacher);
    QCOMPARE(store.run(id)->summary["teacher_run_id"].get<int64_t>(), teacher);
    QVERIFY(logHas(store, id, "restarted from step 0"));
    QVERIFY(logHas(store, id, teacher_first ? "is reused" : "its teacher, run #" + QString::number(teacher)));
    checkFinishedWithEveryStepOnce(db, teacher);
    if (QTest::currentTestFailed()) return;
    checkFinishedWithEveryStepOnce(db, id);
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(dataDir()));
    testsupport::writeSyntheticDataset(dataDir().toStdString(), 6000, 300);
    // Let an unprivileged CLI (the permission tests) reach the data and configs.
    QVERIFY(QDir().mkpath(sharedDir()));
    QVERIFY(::chmod(sharedDir().toLocal8Bit().constData(), 0777) == 0);
    QFile::setPermissions(dir_.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                           QFileDevice::ReadOther | QFileDevice::ExeOther);
    // A small text corpus for the language-model run.
    QFile corpus(corpusPath());
    QVERIFY(corpus.open(QIODevice::WriteOnly));
    const char* lines[] = {"the cat sat on the mat. ", "a dog ran to the park. ", "we like tea and cake. "};
    for (int i = 0; i < 3000; ++i) corpus.write(lines[i % 3]);
  }

  // kill -9 three times during one run, resuming after each: the store stays
  // intact, no committed point is lost, the run shows as interrupted, and the
  // resumed curves continue without gaps or repeats. The epoch is longer than
  // the whole test, so only the time-bounded checkpoints (checkpoint_minutes)
  // make resuming possible.
  void killNineKeepsCommittedPointsAndResumes() {
    const QString db = dir_.filePath("kill.sqlite");
    json config = trainConfig(1, 1, "kill-9");
    config["checkpoint_minutes"] = 0.001; // every 60 ms
    int64_t id = 0, lost_points = 0, redone_steps = 0;
    // The whole run is one epoch: each checkpoint is a mid-epoch one, which
    // only the time bound can have written.
    killAndResumeWithTheCli(writeConfig("kill.json", config), db, 3, 200, id, lost_points, redone_steps,
                            [](const TrainingCheckpoint& c) { QVERIFY(c.epoch < 1.0); });
    if (QTest::currentTestFailed()) return;
    qInfo("kill -9 (CLI): 3 kills, %lld committed points lost, %lld steps redone after resuming",
          static_cast<long long>(lost_points), static_cast<long long>(redone_steps));
    QCOMPARE(lost_points, int64_t(0));
  }

  // The desktop app, started on a run (distillery --run CONFIG), is killed
  // with SIGKILL; the run is then resumed the way Run > Resume does it, by a
  // RunController on a worker thread.
  void killNineOfTheAppKeepsPointsAndResumesInTheApp() {
    const QString db = dir_.filePath("gui-kill.sqlite");
    json config = trainConfig(1, 1, "gui-kill-9");
    config["checkpoint_minutes"] = 0.001;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISTILLERY_DB");
    env.insert("OMP_NUM_THREADS", "1");
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(DISTILLERY_GUI, {"--db", db, "--run", writeConfig("gui-kill.json", config)});
    int64_t id = 0, lost_points = 0, redone_steps = 0;
    killAfterProgress(p, db, id, 200, lost_points, redone_steps);
    if (QTest::currentTestFailed()) return;

    RunStore guiStore(db.toStdString());
    RunController controller(guiStore);
    QSignalSpy finished(&controller, &RunController::runFinished);
    controller.resumeRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 300000);
    QVERIFY2(finished.at(0).at(1).toString() == "finished", qPrintable(finished.at(0).at(2).toString()));
    checkFinishedWithEveryStepOnce(db, id);
    qInfo("kill -9 (app): 1 kill, %lld committed points lost, %lld steps redone after resuming",
          static_cast<long long>(lost_points), static_cast<long long>(redone_steps));
    QCOMPARE(lost_points, int64_t(0));
  }

  // A language-model run keeps checkpoints too: killed twice, resumed twice,
  // it ends with every step's point once.
  void killNineOfALanguageModelRunResumes() {
    const QString db = dir_.filePath("lm-kill.sqlite");
    const json config = {{"name", "lm-kill-9"}, {"task", "lm"},
                         {"corpus", {{"path", corpusPath().toStdString()}, {"val_fraction", 0.1}}},
                         {"student", {{"zoo", "gpt"}, {"layers", 1}, {"heads", 1}, {"embed", 16}, {"context", 16}}},
                         {"method", {{"name", "none"}}},
                         {"steps", 4000}, {"batch_size", 4}, {"eval_every", 1000}, {"eval_tokens", 512},
                         {"optim", {{"name", "adam"}, {"lr", 0.003}}}, {"log_every", 1},
                         {"checkpoint_minutes", 0.001}, {"seed", 0}, {"device", "cpu"}, {"threads", 1}};
    int64_t id = 0, lost_points = 0, redone_steps = 0;
    // Validation (and its checkpoint) comes every 1000 steps: the first
    // kill's checkpoint, earlier, is one the time bound wrote.
    int round = 0;
    killAndResumeWithTheCli(writeConfig("lm-kill.json", config), db, 2, 150, id, lost_points, redone_steps,
                            [&round](const TrainingCheckpoint& c) {
                              if (round++ == 0) QVERIFY2(c.step < 1000, qPrintable(QString::number(c.step)));
                              QVERIFY(!c.rng_state.empty());
                            });
    if (QTest::currentTestFailed()) return;
    qInfo("kill -9 (language model): 2 kills, %lld committed points lost, %lld steps redone after resuming",
          static_cast<long long>(lost_points), static_cast<long long>(redone_steps));
    QCOMPARE(lost_points, int64_t(0));
  }

  // Issue 23: a run killed with SIGKILL while loading its data, before its
  // first checkpoint, or after it, resumes to finished under the same id:
  // without a checkpoint it starts again from step 0 (its partial points
  // replaced, its log saying so), with one it continues from it. Either way
  // every step's point is there exactly once.
  void killedRunResumesFromAnyMoment_data() {
    QTest::addColumn<QString>("moment");
    QTest::newRow("during data loading") << "loading";
    QTest::newRow("before the first checkpoint") << "before";
    QTest::newRow("after the first checkpoint") << "after";
  }
  void killedRunResumesFromAnyMoment() {
    QFETCH(QString, moment);
    const QString db = dir_.filePath("moment-" + moment + ".sqlite");
    json config = trainConfig(1, 1, "moment-" + moment);
    std::function<bool(RunStore&)> ready;
    if (moment == "loading") {
      // Fashion-MNIST's 60000 gzipped images take a while to read (the
      // issue's case); the synthetic set loads too fast to be caught at it.
      const QString fm = "/usr/share/datasets/fashion-mnist";
      if (!QFileInfo::exists(fm + "/train-images-idx3-ubyte.gz")) QSKIP("Fashion-MNIST is not installed");
      config = trainConfig(1, 64, "moment-loading");
      config["data"] = {{"dataset", "fashion-mnist"}, {"path", fm.toStdString()}, {"train_limit", 2000},
                        {"test_limit", 500}, {"val_size", 200}};
      // Running, but no "dataset ..." line in its log yet: still loading.
      ready = [](RunStore& store) {
        const int64_t id = firstRun(store);
        return id && store.run(id)->status == RunStatus::Running;
      };
    } else if (moment == "before") {
      config["checkpoint_every"] = 0; // at the epoch's end, later than the kill
      ready = [](RunStore& store) {
        const int64_t id = firstRun(store);
        return id && store.points(id, "train_loss").size() > 50;
      };
    } else {
      config["checkpoint_every"] = 25;
      ready = [](RunStore& store) {
        const int64_t id = firstRun(store);
        return id && store.hasArtifact(id, kCheckpointArtifact) && store.points(id, "train_loss").size() > 50;
      };
    }
    QProcess p;
    startCli(p, {"run", writeConfig("moment-" + moment + ".json", config), "--db", db});
    stopWhen(p, db, ready);
    if (QTest::currentTestFailed()) return;
    int64_t id = 0;
    {
      RunStore store(db.toStdString());
      id = firstRun(store);
      QCOMPARE(QString::fromStdString(toString(store.run(id)->status)), QString("interrupted"));
      QCOMPARE(store.hasArtifact(id, kCheckpointArtifact), moment == "after");
      if (moment == "loading") {
        QCOMPARE(store.pointCount(id), int64_t(0));
        QVERIFY2(!logHas(store, id, "dataset "), "killed after the data had loaded");
      }
    }
    Result check = cli({"check", "--db", db});
    QVERIFY2(check.out.contains(QString("resume with: distillery-cli resume ID (%1)").arg(id)), qPrintable(check.out));
    Result r = cli({"resume", QString::number(id), "--db", db});
    QVERIFY2(r.code == 0, qPrintable(QString("exit %1: %2").arg(r.code).arg(r.err.right(2000))));
    QVERIFY2(r.out.contains(QString("run_id=%1\n").arg(id)), qPrintable(r.out));
    checkFinishedWithEveryStepOnce(db, id);
    RunStore store(db.toStdString());
    QCOMPARE(int(store.runs().size()), 1);
    QCOMPARE(logHas(store, id, "restarted from step 0"), moment != "after");
    QCOMPARE(logHas(store, id, "resumed at step"), moment == "after");
  }

  // Issue 23 / issue 15 item 4: a distill run killed (SIGKILL) or cancelled
  // (SIGTERM) while its teacher trains as a child run resumes by resuming
  // that teacher run, from its checkpoint or from step 0, or, once the
  // teacher run was resumed on its own, by reusing it; then it distils.
  void distillStoppedInItsTeacherPhaseResumes_data() {
    QTest::addColumn<QString>("how");
    QTest::addColumn<bool>("teacherFirst");
    QTest::newRow("killed before the teacher's first checkpoint") << "kill-before" << false;
    QTest::newRow("killed after the teacher's checkpoint") << "kill-after" << false;
    QTest::newRow("cancelled") << "cancel" << false;
    QTest::newRow("cancelled, the teacher run resumed first") << "cancel" << true;
  }
  void distillStoppedInItsTeacherPhaseResumes() {
    QFETCH(QString, how);
    QFETCH(bool, teacherFirst);
    const QString tag = how + (teacherFirst ? "-tf" : "");
    const QString db = dir_.filePath("teacher-phase-" + tag + ".sqlite");
    json config = trainConfig(1, 64, "teacher-phase-" + tag);
    config["task"] = "distill";
    config.erase("model");
    config["teacher"] = {{"zoo", "mlp"}, {"hidden", {32}}, {"train", {{"epochs", 1}, {"batch_size", 1}}}};
    config["student"] = {{"zoo", "mlp"}, {"hidden", {16}}};
    config["method"] = {{"name", "kd"}};
    config["teacher_cache"] = {{"dir", dir_.filePath("teacher-cache").toStdString()}};
    config["checkpoint_every"] = 0;
    if (how == "kill-after") config["checkpoint_minutes"] = 0.001;
    QProcess p;
    startCli(p, {"run", writeConfig("teacher-phase-" + tag + ".json", config), "--db", db});
    stopWhen(
        p, db,
        [&](RunStore& store) {
          const int64_t teacher = teacherOf(store, firstRun(store));
          if (!teacher || store.points(teacher, "train_loss").size() <= 50) return false;
          return how != "kill-after" || store.hasArtifact(teacher, kCheckpointArtifact);
        },
        how == "cancel");
    if (QTest::currentTestFailed()) return;
    int64_t id = 0, teacher = 0;
    {
      RunStore store(db.toStdString());
      id = firstRun(store);
      teacher = teacherOf(store, id);
      QCOMPARE(QString::fromStdString(toString(store.run(id)->status)),
               QString(how == "cancel" ? "cancelled" : "interrupted"));
      // Killed before its first checkpoint, the teacher run starts again from step 0.
      QCOMPARE(store.hasArtifact(teacher, kCheckpointArtifact), how != "kill-before");
    }
    resumeTeacherPhaseWithTheCli(db, id, teacher, teacherFirst);
    if (QTest::currentTestFailed() || how != "kill-before") return;
    RunStore store(db.toStdString());
    QVERIFY(logHas(store, teacher, "restarted from step 0"));
  }

  // The same for a language-model run whose GPT teacher trains as a child run.
  void languageModelDistillKilledInItsTeacherPhaseResumes() {
    const QString db = dir_.filePath("lm-teacher-phase.sqlite");
    const json gpt = {{"zoo", "gpt"}, {"layers", 1}, {"heads", 1}, {"embed", 16}, {"context", 16}};
    json teacher = gpt;
    teacher["train"] = {{"steps", 1500}, {"batch_size", 4}};
    const json config = {{"name", "lm-teacher-phase"}, {"task", "lm"},
                         {"corpus", {{"path", corpusPath().toStdString()}, {"val_fraction", 0.1}}},
                         {"teacher", teacher}, {"student", gpt},
                         {"method", {{"name", "forward_kl"}}},
                         {"steps", 40}, {"batch_size", 4}, {"eval_every", 1000}, {"eval_tokens", 256},
                         {"optim", {{"name", "adam"}, {"lr", 0.003}}}, {"log_every", 1},
                         {"checkpoint_minutes", 0.001}, {"seed", 0}, {"device", "cpu"}, {"threads", 1}};
    QProcess p;
    startCli(p, {"run", writeConfig("lm-teacher-phase.json", config), "--db", db});
    stopWhen(p, db, [](RunStore& store) {
      const int64_t teacher = teacherOf(store, firstRun(store));
      return teacher && store.points(teacher, "train_loss").size() > 100;
    });
    if (QTest::currentTestFailed()) return;
    RunStore store(db.toStdString());
    const int64_t id = firstRun(store);
    resumeTeacherPhaseWithTheCli(db, id, teacherOf(store, id), false);
  }

  // Two CLI processes and two GUI worker threads write runs into one store at
  // once: every run finishes, none reports a locked database, and every point
  // each writer produced is in the store.
  void guiThreadsAndCliProcessesShareOneStore() {
    const QString db = dir_.filePath("shared.sqlite");
    RunStore guiStore(db.toStdString());
    RunController controller(guiStore);
    std::map<int64_t, int64_t> delivered; // points each writer reported committed
    connect(&controller, &RunController::pointsArrived, this, [&](const MetricPointBatch& batch) {
      for (const auto& p : *batch) ++delivered[p.run_id];
    });
    QSignalSpy finished(&controller, &RunController::runFinished);

    QProcess a, b;
    startCli(a, {"run", writeConfig("cli-a.json", trainConfig(2, 16, "cli-a")), "--db", db});
    startCli(b, {"run", writeConfig("cli-b.json", trainConfig(2, 16, "cli-b")), "--db", db});
    RunConfig g1 = RunConfig::fromJson(trainConfig(2, 16, "gui-1"));
    RunConfig g2 = RunConfig::fromJson(trainConfig(2, 16, "gui-2"));
    const int64_t gui1 = controller.startRun(g1);
    const int64_t gui2 = controller.startRun(g2);
    QVERIFY(a.waitForFinished(300000));
    QVERIFY(b.waitForFinished(300000));
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 300000);
    for (QProcess* p : {&a, &b}) {
      const QString err = QString::fromUtf8(p->readAllStandardError());
      const QString out = QString::fromUtf8(p->readAllStandardOutput());
      QVERIFY2(p->exitStatus() == QProcess::NormalExit && p->exitCode() == 0, qPrintable(err));
      QVERIFY2(!err.contains("locked"), qPrintable(err));
      // "run_id=N" and "points=M": the points the process saw committed.
      const auto id = QRegularExpression("run_id=(\\d+)").match(out).captured(1).toLongLong();
      const auto points = QRegularExpression("points=(\\d+)").match(out).captured(1).toLongLong();
      QVERIFY2(id > 0 && points > 0, qPrintable(out));
      delivered[id] = points;
    }
    for (int i = 0; i < 2; ++i)
      QVERIFY2(finished.at(i).at(1).toString() == "finished", qPrintable(finished.at(i).at(2).toString()));

    RunStore store(db.toStdString());
    QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
    int64_t written = 0, stored = 0;
    QCOMPARE(int(store.runs().size()), 4);
    QVERIFY(delivered.count(gui1) && delivered.count(gui2));
    for (const auto& run : store.runs()) {
      QCOMPARE(QString::fromStdString(toString(run.status)), QString("finished"));
      // One train_loss point per step (log_every 1): none missing.
      QCOMPARE(int64_t(store.points(run.id, "train_loss").size()), run.summary["steps"].get<int64_t>());
      QVERIFY(delivered.count(run.id));
      QCOMPARE(store.pointCount(run.id), delivered[run.id]);
      written += delivered[run.id];
      stored += store.pointCount(run.id);
    }
    QCOMPARE(stored, written);
    qInfo("concurrency: 2 CLI processes + 2 GUI threads, %lld points written, %lld stored",
          static_cast<long long>(written), static_cast<long long>(stored));
  }

  // The store's disk fills up during a run (a file-size limit on the CLI
  // process stands in for the full disk): the run ends with an error naming
  // the store, nothing crashes, and the runs stored before are intact.
  void fullDiskEndsTheRunAndKeepsTheStore() {
    const QString db = dir_.filePath("full.sqlite");
    Result first = cli({"run", writeConfig("before.json", trainConfig(1, 64, "before")), "--db", db});
    QVERIFY2(first.code == 0, qPrintable(first.err));
    int64_t points_before = 0;
    {
      RunStore store(db.toStdString());
      points_before = store.pointCount(store.runs().front().id);
    } // the last connection to close folds the WAL into the file
    QVERIFY(points_before > 0);
    const qint64 size = QFileInfo(db).size();
    // Room for a few more pages, not for a run's points and model.
    const QString limit_kb = QString::number(size / 1024 + 24);
    const QString big = writeConfig("big.json", trainConfig(3, 4, "too-big"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISTILLERY_DB");
    p.setProcessEnvironment(env);
    // SIGXFSZ ignored: writes past the limit then fail with EFBIG, as they
    // fail with ENOSPC on a full disk, instead of killing the process.
    p.start("bash", {"-c", QString("trap '' XFSZ; ulimit -f %1; exec \"%2\" run \"%3\" --db \"%4\"")
                               .arg(limit_kb, DISTILLERY_CLI, big, db)});
    QVERIFY(p.waitForFinished(300000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit); // no crash
    QVERIFY2(p.exitCode() != 0, qPrintable(err));
    QVERIFY2(err.contains(db) && (err.contains("size limit") || err.contains("disk is full")), qPrintable(err));

    RunStore store(db.toStdString());
    QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
    const auto runs = store.runs();
    const RunRecord& before = runs.back(); // newest first
    QCOMPARE(QString::fromStdString(before.name), QString("before"));
    QCOMPARE(QString::fromStdString(toString(before.status)), QString("finished"));
    QCOMPARE(store.pointCount(before.id), points_before);
    QVERIFY(store.loadArtifact(before.id, "model.pt"));
    if (runs.size() == 2) {
      const QString status = QString::fromStdString(toString(runs.front().status));
      QVERIFY2(status == "failed" || status == "interrupted", qPrintable(status));
    }
  }

  // A write-protected store is refused before any work, and left untouched.
  void readOnlyStoreIsRefused() {
    const QString db = sharedDir() + "/readonly.sqlite";
    Result first = cli({"run", writeConfig("ro.json", trainConfig(1, 64, "kept")), "--db", db});
    QVERIFY2(first.code == 0, qPrintable(first.err));
    QCOMPARE(QFileInfo(db + "-wal").size(), qint64(0)); // folded in and emptied when the CLI closed the store
    QVERIFY(QFile::setPermissions(db, QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    const QByteArray hash = fileHash(db);
    Result r = cli({"run", writeConfig("ro2.json", trainConfig(1, 64, "refused")), "--db", db}, true);
    QVERIFY2(r.code == 1, qPrintable(r.err));
    QVERIFY2(r.err.contains(db) && r.err.contains("read-only"), qPrintable(r.err));
    QCOMPARE(fileHash(db), hash);
    QFile::setPermissions(db, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    RunStore store(db.toStdString());
    QCOMPARE(int(store.runs().size()), 1);
  }

  // A data folder the user may not read: the error names the folder.
  void unreadableDataFolderIsNamed() {
    const QString locked = dir_.filePath("locked-data");
    QVERIFY(QDir().mkpath(locked));
    testsupport::writeSyntheticDataset(locked.toStdString(), 300, 100);
    QVERIFY(::chmod(locked.toLocal8Bit().constData(), 0) == 0);
    json j = trainConfig(1, 64, "locked");
    j["data"]["path"] = locked.toStdString();
    const QString db = sharedDir() + "/locked.sqlite";
    Result r = cli({"run", writeConfig("locked.json", j), "--db", db}, true);
    ::chmod(locked.toLocal8Bit().constData(), 0755);
    QVERIFY2(r.code == 2, qPrintable(r.out + r.err));
    // Issue 15 regression: the folder exists, so "not found" would send the user looking in vain.
    QVERIFY2(r.err.contains(locked + ": cannot read the folder (Permission denied"), qPrintable(r.err));
    QVERIFY2(!r.err.contains("not found"), qPrintable(r.err));
  }

  // A data file the user may not read: named, with why, not called missing.
  void unreadableDataFileIsNamed() {
    const QString data = dir_.filePath("locked-file-data");
    QVERIFY(QDir().mkpath(data));
    testsupport::writeSyntheticDataset(data.toStdString(), 300, 100);
    const QString file = data + "/train-labels-idx1-ubyte.gz";
    QVERIFY(QFile::exists(file));
    QVERIFY(::chmod(file.toLocal8Bit().constData(), 0) == 0);
    json j = trainConfig(1, 64, "locked-file");
    j["data"]["path"] = data.toStdString();
    Result r = cli({"run", writeConfig("locked-file.json", j), "--db", sharedDir() + "/locked-file.sqlite"}, true);
    ::chmod(file.toLocal8Bit().constData(), 0644);
    QVERIFY2(r.code == 2, qPrintable(r.out + r.err));
    QVERIFY2(r.err.contains("data.path: " + file + ": cannot be read (Permission denied)"), qPrintable(r.err));
  }
};

QTEST_MAIN(TestReliability)
#include "tst_reliability.moc"
