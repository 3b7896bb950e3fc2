// Issue 19 part 3, the app's "Run on": the New Run dialogs' group (its fields
// checked by the core code the CLI uses, remembered), a run on 2 local
// processes started from the main window (distillery-cli launch) that
// finishes, shows its ranks and its curves, and one that Cancel ends
// cancelled; a run submitted to a one-node Slurm cluster of the suite's own
// (slurm_test_cluster.h), its job in the run table, cancelled with scancel.
#include "core/base/errors.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "slurm_test_cluster.h"
#include "test_support.h"
#include "widgets/external_run_controller.h"
#include "widgets/lm_run_dialog.h"
#include "widgets/main_window.h"
#include "widgets/metric_chart_view.h"
#include "widgets/new_run_dialog.h"
#include "widgets/run_on_group.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"

#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>

using namespace distillery;
using namespace distillery::gui;

namespace {

// A small mlp on the synthetic data: a second or two per rank.
RunConfig trainConfig(const std::string& data, const std::string& name, int batch, int epochs) {
  const nlohmann::json j = {{"name", name}, {"task", "train"}, {"data", {{"path", data}, {"val_size", 100}}},
                            {"model", {{"zoo", "mlp"}, {"hidden", {32}}}}, {"optim", {{"name", "sgd"}, {"lr", 0.05}}},
                            {"batch_size", batch}, {"epochs", epochs}, {"seed", 3}, {"device", "cpu"}, {"threads", 1},
                            {"select_best", false}};
  return RunConfig::fromJson(j);
}

template <typename T> T* child(QWidget* parent, const char* name) {
  T* w = parent->findChild<T*>(QString::fromLatin1(name));
  if (!w) qWarning("no child %s", name);
  return w;
}

// The POSIX locks this process holds on the store's files (/proc/locks): a
// connection in WAL mode keeps one on -shm while it is open. Closing any
// other descriptor of those files in this process would drop them
// (docs/architecture.md, "Sharing a store").
int locksHeld(const std::string& store) {
  std::set<std::string> inodes;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    if (::stat((store + suffix).c_str(), &st) == 0) inodes.insert(std::to_string(st.st_ino));
  }
  std::ifstream locks("/proc/locks");
  const std::string pid = std::to_string(::getpid());
  int held = 0;
  for (std::string line; std::getline(locks, line);) {
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    if (w.size() < 6 || w[1] != "POSIX" || w[4] != pid) continue;
    const std::string inode = w[5].substr(w[5].rfind(':') + 1);
    if (inodes.count(inode)) ++held;
  }
  return held;
}

RunPlacement localProcesses(int n) {
  RunPlacement p;
  p.kind = RunPlacement::Kind::LocalProcesses;
  p.nproc = n;
  return p;
}

// A process's parent, from /proc/PID/stat (0 when it is gone).
pid_t parentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t close = text.rfind(')'); // the name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string state;
  long long ppid = 0;
  rest >> state >> ppid;
  return pid_t(ppid);
}

// The rank process of a launch this test started (the launcher is our child,
// its ranks our grandchildren): the one whose environment says RANK=rank.
pid_t rankPid(int rank) {
  const std::string want = "RANK=" + std::to_string(rank);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stoll(name));
    const pid_t parent = parentOf(pid);
    if (parent <= 1 || parentOf(parent) != ::getpid()) continue;
    std::ifstream env(entry.path() / "environ");
    for (std::string var; std::getline(env, var, '\0');)
      if (var == want) return pid;
  }
  return 0;
}

// A distill run of the mlp student: its teacher a stored run, or a zoo mlp trained first (teacher_epochs).
RunConfig distillConfig(const std::string& data, const std::string& name, int64_t teacherRun, int teacherEpochs,
                        int batch, int epochs) {
  nlohmann::json j = trainConfig(data, name, batch, epochs).toJson();
  j["task"] = "distill";
  j.erase("model");
  j["student"] = {{"zoo", "mlp"}, {"hidden", {16}}};
  j["method"] = {{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}};
  if (teacherRun > 0) j["teacher"] = {{"run", teacherRun}};
  else j["teacher"] = {{"zoo", "mlp"}, {"hidden", {32}}, {"train", {{"epochs", teacherEpochs}}}};
  return RunConfig::fromJson(j);
}

} // namespace

class TestRunOn : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  std::string data_;
  std::unique_ptr<testsupport::OneNodeCluster> cluster_;

  std::string store(const char* name) const { return tmp_.filePath(QString::fromLatin1(name)).toStdString(); }

  // The window's launches use the distillery-cli of this build.
  static void useThisBuild(MainWindow& window) {
    window.externalRuns()->setCliPath(QStringLiteral(DISTILLERY_CLI));
  }

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true); // QSettings in a test folder, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("DistilleryTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_run_on"));
    QSettings().remove(QStringLiteral("runOn"));
    QVERIFY(tmp_.isValid());
    data_ = tmp_.filePath(QStringLiteral("data")).toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(data_)));
    testsupport::writeSyntheticDataset(data_, 700, 100); // 600 to train on after the 100 of validation
  }
  void cleanupTestCase() {
    if (cluster_) cluster_->stop();
  }

  // The group's fields make the placement; a bad one is refused under the
  // form naming its field, with the words of the CLI's own check; the choice
  // is remembered for the next dialog.
  void dialogPlacesTheRunAndRefusesBadFields() {
    RunStore runs(store("dialog.sqlite"));
    NewRunDialog dialog(runs);
    dialog.setConfig(trainConfig(data_, "placed", 64, 1));
    QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
    QCOMPARE(int(dialog.placement().kind), int(RunPlacement::Kind::ThisMachine)); // the default
    QPushButton* start = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);

    child<QRadioButton>(&dialog, "runOnLocalProcesses")->setChecked(true);
    child<QSpinBox>(&dialog, "runOnNproc")->setValue(3);
    QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
    QCOMPARE(dialog.placement().nproc, 3);
    QCOMPARE(dialog.placement().placedConfig(dialog.config()).distributed.world_size, 3);
    // A config that asks for 2 ranks cannot run on 3: the launcher's words, naming the key.
    RunConfig two = trainConfig(data_, "two", 64, 1);
    two.distributed.world_size = 2;
    dialog.setConfig(two);
    QVERIFY2(dialog.validationError().contains(QStringLiteral("distributed.world_size")) &&
                 dialog.validationError().contains(QStringLiteral("--nproc starts 3")),
             qPrintable(dialog.validationError()));
    QVERIFY(!start->isEnabled());
    dialog.setConfig(trainConfig(data_, "placed", 64, 1));
    // A run the engine cannot make data-parallel is refused with the config's own words.
    nlohmann::json api = RunConfig::defaultDistill().toJson();
    api["teacher"] = {{"api", {{"url", "http://127.0.0.1:8311"}, {"max_queries", 1000}}}};
    api["select_best"] = false;
    try {
      localProcesses(2).placedConfig(RunConfig::fromJson(api));
      QFAIL("an API teacher's run was placed on 2 ranks");
    } catch (const ConfigError& e) {
      QVERIFY2(e.field() == "distributed.world_size", e.what());
      QVERIFY2(placementErrorText(e).startsWith(QStringLiteral("Run on: distributed.world_size: runs with an API teacher")),
               qPrintable(placementErrorText(e)));
    }

    child<QRadioButton>(&dialog, "runOnSlurm")->setChecked(true);
    child<QSpinBox>(&dialog, "slurmNodes")->setValue(2);
    child<QSpinBox>(&dialog, "slurmTasksPerNode")->setValue(4);
    child<QSpinBox>(&dialog, "slurmGpusPerTask")->setValue(1);
    child<QLineEdit>(&dialog, "slurmTime")->setText(QStringLiteral("2h"));
    QVERIFY2(dialog.validationError().startsWith(QStringLiteral("Run on ▸ Time limit: expected HH:MM:SS")),
             qPrintable(dialog.validationError()));
    QVERIFY(!start->isEnabled());
    child<QLineEdit>(&dialog, "slurmTime")->setText(QStringLiteral("01:30:00"));
    child<QLineEdit>(&dialog, "slurmPartition")->setText(QStringLiteral("gpu a100"));
    QVERIFY2(dialog.validationError().startsWith(QStringLiteral("Run on ▸ Partition:")), qPrintable(dialog.validationError()));
    child<QLineEdit>(&dialog, "slurmPartition")->setText(QStringLiteral("gpu"));
    child<QSpinBox>(&dialog, "slurmNodes")->setValue(0);
    QVERIFY2(dialog.validationError().startsWith(QStringLiteral("Run on ▸ Nodes: needs at least 1 node")),
             qPrintable(dialog.validationError()));
    child<QSpinBox>(&dialog, "slurmNodes")->setValue(2);
    child<QLineEdit>(&dialog, "slurmAccount")->setText(QStringLiteral("lab"));
    QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
    QVERIFY(start->isEnabled());
    const RunPlacement p = dialog.placement();
    QCOMPARE(p.slurm.tasks(), 8);
    QCOMPARE(p.slurm.gpus_per_task, 1);
    QCOMPARE(p.slurm.time, std::string("01:30:00"));
    QCOMPARE(p.slurm.partition, std::string("gpu"));
    QCOMPARE(p.placedConfig(dialog.config()).distributed.world_size, 8); // one rank per task, as submit sets it
    dialog.accept(); // Start: the choice is remembered
    QCOMPARE(dialog.result(), int(QDialog::Accepted));

    NewRunDialog next(runs);
    QCOMPARE(int(next.placement().kind), int(RunPlacement::Kind::Slurm));
    QCOMPARE(next.placement().slurm.ntasks_per_node, 4);
    QCOMPARE(next.placement().slurm.account, std::string("lab"));
    // The language-model dialog shares the group and the remembered choice.
    LmRunDialog lm(runs);
    QVERIFY(lm.findChild<RunOnGroup*>());
    QCOMPARE(int(lm.placement().kind), int(RunPlacement::Kind::Slurm));
    QCOMPARE(lm.placement().slurm.time, std::string("01:30:00"));
    QSettings().remove(QStringLiteral("runOn"));
  }

  // Start on 2 local processes from the main window: the run appears, reads
  // "running on 2 ranks" while rank 0 trains it in another process, and ends
  // finished with its curves in the charts, both ranks having trained.
  void localRunFinishesWithItsRanks() {
    RunStore runs(store("local.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    const int locks = locksHeld(store("local.sqlite"));
    QVERIFY(locks > 0);
    // 600 samples, batch 4, 3 epochs: 450 steps, a few seconds.
    QCOMPARE(window.startRun(trainConfig(data_, "two-local", 4, 3), localProcesses(2)), int64_t(0));
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    QCOMPARE(launched.at(0).at(1).toInt(), 2);
    QVERIFY(id > 0);
    QCOMPARE(window.runView()->shownRuns(), QList<int64_t>{id}); // selected when it appeared
    QTRY_VERIFY_WITH_TIMEOUT(window.runModel()->statusText(id) == QStringLiteral("running on 2 ranks") ||
                                 !finished.isEmpty(),
                             30000);
    QVERIFY2(finished.isEmpty(), "the run ended before the table showed it running on its ranks");
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.at(0).at(0).toLongLong(), id);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("finished"));
    QCOMPARE(window.runModel()->statusText(id), QStringLiteral("finished"));
    QCOMPARE(window.runModel()->ranks(id), 2);
    // Rank 0 wrote the points in its own process; the charts read them.
    QVERIFY(window.runView()->lossChart()->pointCount(id, QStringLiteral("train_loss")) > 0);
    const auto record = runs.run(id);
    QCOMPARE(record->summary.value("steps", 0), 450);
    bool both = false;
    for (const auto& log : runs.logs(id)) both = both || log.message.find("samples trained per rank: 900, 900") != std::string::npos;
    QVERIFY2(both, "rank 0's log does not say both ranks trained 900 samples each");
    QCOMPARE(window.externalRuns()->activeCount(), 0);
    // The window's connections kept their locks on the store while other processes wrote
    // it (the launcher, forked from here, closes none of them), and an edit made here
    // after the run is what a fresh connection reads.
    QCOMPARE(locksHeld(store("local.sqlite")), locks);
    QVERIFY(window.runModel()->setNotes(id, QStringLiteral("kept")));
    QCOMPARE(RunStore(store("local.sqlite")).run(id)->notes, std::string("kept"));
  }

  // Cancel in the window interrupts the launcher: every rank stops at the
  // step they agree on, rank 0 checkpoints, the run ends cancelled.
  void cancelEndsALocalRunCancelled() {
    RunStore runs(store("cancel.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy progress(window.externalRuns(), &ExternalRunController::progressChanged);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    RunConfig config = trainConfig(data_, "long-local", 2, 40); // 12,000 steps: minutes if left alone
    config.checkpoint_every = 40;
    window.startRun(config, localProcesses(2));
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    // Rank 0's progress lines reach the table.
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 30000);
    QCOMPARE(progress.last().at(0).value<RunProgress>().run_id, id);
    QTRY_VERIFY_WITH_TIMEOUT(window.runModel()
                                 ->data(window.runModel()->index(window.runModel()->rowOf(id), RunTableModel::ProgressColumn))
                                 .toString()
                                 .startsWith(QStringLiteral("train ")),
                             10000);
    window.selectRun(id);
    window.cancelSelected();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
    QCOMPARE(int(runs.run(id)->status), int(RunStatus::Cancelled));
    QVERIFY(runs.hasArtifact(id, "checkpoint"));
    QCOMPARE(window.runModel()->statusText(id), QStringLiteral("cancelled"));

    // Resume continues it on as many local processes as it had, from the checkpoint.
    window.selectRun(id);
    QVERIFY(window.resumeAction()->isEnabled());
    progress.clear();
    window.resumeSelected();
    QCOMPARE(launched.size(), 2);
    QCOMPARE(launched.last().at(0).toLongLong(), id);
    QCOMPARE(launched.last().at(1).toInt(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 30000);
    window.cancelSelected();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.last().at(1).toString(), QStringLiteral("cancelled"));
    bool resumed = false;
    for (const auto& log : runs.logs(id)) resumed = resumed || log.message.find("resumed at step") != std::string::npos;
    QVERIFY2(resumed, "rank 0's log does not say the run resumed from its checkpoint");
  }

  // A rank that dies: the run reads the launcher's reason (which rank, how,
  // the end of its log) in its error and log, and the table shows it ended
  // without a Refresh; it is resumable.
  void failedRankIsNamedInTheRun() {
    RunStore runs(store("rank-fails.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy progress(window.externalRuns(), &ExternalRunController::progressChanged);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    RunConfig config = trainConfig(data_, "rank-fails", 2, 40);
    config.checkpoint_every = 40;
    config.distributed.timeout_s = 5; // rank 0 notices the lost rank within seconds
    window.startRun(config, localProcesses(2));
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 30000); // both ranks train
    const pid_t rank1 = rankPid(1);
    QVERIFY(rank1 > 0);
    QCOMPARE(::kill(rank1, SIGKILL), 0);
    QVERIFY(finished.wait(60000));
    QVERIFY2(finished.at(0).at(2).toString().contains(QStringLiteral("rank 1 failed: it was killed by signal 9")),
             qPrintable(finished.at(0).at(2).toString()));
    QCOMPARE(window.runModel()->statusText(id), QStringLiteral("interrupted")); // no Refresh asked
    const auto record = runs.run(id);
    QCOMPARE(int(record->status), int(RunStatus::Interrupted));
    QVERIFY2(record->error.rfind("launch: rank 1 failed: it was killed by signal 9", 0) == 0, record->error.c_str());
    bool logged = false;
    for (const auto& log : runs.logs(id))
      logged = logged || (log.level == "error" && log.message.find("rank 1 failed") != std::string::npos);
    QVERIFY2(logged, "the run's log does not name the rank that failed");
    window.selectRun(id);
    QVERIFY(window.resumeAction()->isEnabled());
  }

  // Cancel while rank 0 waits on a rank that died (its timeout a minute away):
  // the first Cancel ends the launch within seconds, and the run says why.
  void cancelWhileWaitingOnADeadRank() {
    RunStore runs(store("cancel-dead.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy progress(window.externalRuns(), &ExternalRunController::progressChanged);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    RunConfig config = trainConfig(data_, "cancel-dead", 2, 40);
    config.checkpoint_every = 40;
    config.distributed.timeout_s = 60;
    QSignalSpy failedRank(window.externalRuns(), &ExternalRunController::rankFailed);
    window.startRun(config, localProcesses(2));
    // Rank 1 dies before it reaches the rendezvous (as one that cannot load
    // its config does): rank 0 waits there for it, up to its minute.
    pid_t rank1 = 0;
    QElapsedTimer spawn;
    spawn.start();
    while (rank1 == 0 && spawn.elapsed() < 10000) rank1 = rankPid(1);
    QVERIFY(rank1 > 0);
    QCOMPARE(::kill(rank1, SIGKILL), 0);
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    QTest::qWait(2000); // rank 0 is now blocked on the dead rank
    QVERIFY(finished.isEmpty());
    // The launcher said which rank failed and what it waits for; the status bar shows it.
    QCOMPARE(failedRank.size(), 1);
    QVERIFY2(failedRank.at(0).at(1).toString().startsWith(QStringLiteral("rank 1 was killed by signal 9")),
             qPrintable(failedRank.at(0).at(1).toString()));
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("Cancel stops the other ranks now")),
             qPrintable(window.statusBar()->currentMessage()));
    QVERIFY(progress.isEmpty()); // it never trained
    QElapsedTimer t;
    t.start();
    window.selectRun(id);
    window.cancelSelected(); // once
    QVERIFY(finished.wait(30000));
    QVERIFY2(t.elapsed() < 10000, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(window.runModel()->statusText(id), QStringLiteral("interrupted"));
    const auto record = runs.run(id);
    QVERIFY2(record->error.find("rank 1 failed: it was killed by signal 9") != std::string::npos, record->error.c_str());
    QCOMPARE(window.externalRuns()->activeCount(), 0);
  }

  // A 2-rank distill whose teacher is a finished run (the ranks > 0 get it in
  // their scratch stores) finishes; its baseline starts on 2 local processes,
  // as the run trained, and finishes too.
  void storedTeacherDistillAndItsBaseline() {
    RunStore runs(store("stored-teacher.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    const int64_t teacher = window.startRun(trainConfig(data_, "teacher", 32, 1)); // on this machine
    QVERIFY(teacher > 0);
    QTRY_COMPARE_WITH_TIMEOUT(window.runModel()->statusText(teacher), QStringLiteral("finished"), 60000);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    window.startRun(distillConfig(data_, "kd-stored", teacher, 0, 8, 1), localProcesses(2));
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    QVERIFY(finished.wait(120000));
    QVERIFY2(finished.at(0).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(0).at(2).toString()));
    QCOMPARE(runs.run(id)->teacher_run_id, teacher);

    window.selectRun(id);
    QVERIFY(window.baselineAction()->isEnabled());
    window.trainBaseline();
    QVERIFY(launched.wait(60000));
    const int64_t baseline = launched.at(1).at(0).toLongLong();
    QCOMPARE(launched.at(1).at(1).toInt(), 2);
    QVERIFY(finished.wait(120000));
    QVERIFY2(finished.at(1).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(1).at(2).toString()));
    const auto record = runs.run(baseline);
    const RunConfig config = RunConfig::fromJsonText(record->config_json);
    QCOMPARE(record->task, std::string("train"));
    QCOMPARE(config.distributed.world_size, 2);
    QCOMPARE(window.runModel()->ranks(baseline), 2);
    QCOMPARE(record->summary.value("steps", 0), runs.run(id)->summary.value("steps", -1)); // the same schedule
  }

  // A 2-rank distill with a zoo teacher trained in the run, cancelled in its
  // distill phase and resumed (launch --resume, the window's Resume): every
  // rank reads the teacher the run trained, and the run finishes.
  void zooTeacherRunResumesOnItsRanks() {
    RunStore runs(store("zoo-resume.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    QSignalSpy launched(window.externalRuns(), &ExternalRunController::runLaunched);
    QSignalSpy progress(window.externalRuns(), &ExternalRunController::progressChanged);
    QSignalSpy finished(window.externalRuns(), &ExternalRunController::runFinished);
    RunConfig config = distillConfig(data_, "kd-zoo", 0, 1, 2, 6); // 1,800 distill steps
    config.checkpoint_every = 40;
    config.distributed.timeout_s = 20;
    window.startRun(config, localProcesses(2));
    QVERIFY(launched.wait(60000));
    const int64_t id = launched.at(0).at(0).toLongLong();
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty() && progress.last().at(0).value<RunProgress>().phase == "distill" &&
                                 progress.last().at(0).value<RunProgress>().phase_step > 40,
                             60000);
    window.selectRun(id);
    window.cancelSelected();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
    const auto teacherRuns = runs.runs();
    QCOMPARE(int(teacherRuns.size()), 2); // the run and the teacher it trained
    int64_t teacher = 0;
    for (const auto& r : teacherRuns)
      if (r.parent_run_id == id) teacher = r.id;
    QVERIFY(teacher > 0);
    QCOMPARE(int(runs.run(teacher)->status), int(RunStatus::Finished));

    window.selectRun(id);
    QVERIFY(window.resumeAction()->isEnabled());
    window.resumeSelected();
    QCOMPARE(launched.size(), 2);
    QVERIFY(finished.wait(120000));
    QVERIFY2(finished.at(1).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(1).at(2).toString()));
    QCOMPARE(int(runs.runs().size()), 2); // no second teacher
    QCOMPARE(runs.run(id)->teacher_run_id, teacher);
    bool resumed = false;
    for (const auto& log : runs.logs(id)) resumed = resumed || log.message.find("resumed at step") != std::string::npos;
    QVERIFY2(resumed, "rank 0's log does not say the run resumed from its checkpoint");
  }

  // The Status column's words for a run's job, as the poller's states say
  // (a pending job is hard to keep pending on an idle cluster, so here it is told).
  void tableShowsJobsAndRanks() {
    RunStore runs(store("table.sqlite"));
    RunConfig four = trainConfig(data_, "four", 64, 1);
    four.distributed.world_size = 4;
    const int64_t slurm = runs.createRun("on-slurm", "train", four.toJson().dump());
    runs.setSlurmJob(slurm, 77, "/shared/jobs/run-1");
    const int64_t local = runs.createRun("on-two", "train", RunConfig::fromJson([&] {
                                                                 nlohmann::json j = four.toJson();
                                                                 j["distributed"]["world_size"] = 2;
                                                                 return j;
                                                               }()).toJson().dump());
    runs.setStatus(local, RunStatus::Running);
    const int64_t plain = runs.createRun("plain", "train", trainConfig(data_, "plain", 64, 1).toJson().dump());
    runs.setStatus(plain, RunStatus::Running);
    RunTableModel model(runs);
    model.refresh();
    QCOMPARE(model.statusText(local), QStringLiteral("running on 2 ranks"));
    QCOMPARE(model.statusText(plain), QStringLiteral("running"));
    QCOMPARE(model.statusText(slurm), QStringLiteral("queued (job 77)")); // not asked yet
    SlurmStates states;
    states[slurm] = SlurmJobState{"PENDING", "squeue", ""};
    model.setSlurmStates(states);
    QCOMPARE(model.statusText(slurm), QStringLiteral("queued in Slurm (job 77)"));
    states[slurm] = SlurmJobState{"RUNNING", "squeue", ""};
    model.setSlurmStates(states);
    QCOMPARE(model.statusText(slurm), QStringLiteral("running on 4 ranks (job 77)"));
    const QString tip = model.data(model.index(model.rowOf(slurm), RunTableModel::StatusColumn), Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("Slurm job 77: RUNNING")) && tip.contains(QStringLiteral("/shared/jobs/run-1")),
             qPrintable(tip));
    states[slurm] = SlurmJobState{"", "", "squeue: error: Unable to contact slurm controller"};
    model.setSlurmStates(states);
    QCOMPARE(model.statusText(slurm), QStringLiteral("queued (job 77)"));
    QVERIFY(model.data(model.index(model.rowOf(slurm), RunTableModel::StatusColumn), Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("state unknown (squeue: error: Unable to contact slurm controller)")));
    // Once imported the run reads as its stored status.
    runs.setStatus(slurm, RunStatus::Finished);
    model.refresh();
    QCOMPARE(model.statusText(slurm), QStringLiteral("finished"));
  }

  // A missing distillery-cli is named, and nothing is queued.
  void missingCliIsNamed() {
    RunStore runs(store("missing.sqlite"));
    MainWindow window(runs);
    window.externalRuns()->setCliPath(tmp_.filePath(QStringLiteral("no-such-cli")));
    try {
      window.externalRuns()->launchLocal(trainConfig(data_, "x", 64, 1), 2);
      QFAIL("a launch without distillery-cli was accepted");
    } catch (const DistilleryError& e) {
      QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("no-such-cli")), e.what());
    }
    QVERIFY(runs.runs().empty());
  }

  // Submitted from the app to a one-node cluster: the table shows the job
  // (queued in Slurm, then running, with its id); Cancel is scancel, and the
  // run comes back from the job cancelled.
  void slurmRunIsFollowedAndCancelled() {
    if (!QFile::exists(QString::fromLatin1(testsupport::kSlurmctld)))
      QSKIP("slurmctld is not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)");
    cluster_ = std::make_unique<testsupport::OneNodeCluster>();
    const QString error = cluster_->start();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    RunStore runs(store("slurm.sqlite"));
    MainWindow window(runs);
    useThisBuild(window);
    window.externalRuns()->setSlurmPollInterval(500);
    RunPlacement slurm;
    slurm.kind = RunPlacement::Kind::Slurm;
    slurm.slurm.time = "00:10:00";
    slurm.slurm.job_dir = tmp_.filePath(QStringLiteral("job")).toStdString();
    // A bad field is refused before anything is queued, naming the option.
    RunPlacement bad = slurm;
    bad.slurm.time = "ten minutes";
    try {
      window.externalRuns()->submitToSlurm(trainConfig(data_, "bad", 64, 1), bad.slurm);
      QFAIL("a bad --time was submitted");
    } catch (const ConfigError& e) {
      QCOMPARE(e.field(), std::string("--time"));
    }
    QVERIFY(runs.runs().empty());

    const int64_t id = window.startRun(trainConfig(data_, "slurm-long", 64, 400), slurm);
    QVERIFY(id > 0);
    const int64_t job = runs.run(id)->slurm_job_id;
    QVERIFY(job > 0);
    const QString jobText = QStringLiteral("(job %1)").arg(job);
    QVERIFY2(window.runModel()->statusText(id).contains(jobText), qPrintable(window.runModel()->statusText(id)));
    // The poller's answer: queued in Slurm while pending, then running.
    QTRY_VERIFY_WITH_TIMEOUT(window.runModel()->statusText(id) == QStringLiteral("running ") + jobText, 60000);
    QVERIFY(window.externalRuns()->isCancellable(id));
    // Let the task train before the cancel (its progress reaches the job's output).
    const QString out = QString::fromStdString(runs.run(id)->job_dir) + QStringLiteral("/slurm-%1.out").arg(job);
    QTRY_VERIFY_WITH_TIMEOUT(testsupport::readText(out).contains(QStringLiteral("% overall")), 60000);
    window.selectRun(id);
    window.cancelSelected();
    // The job ends, the poller imports its store: cancelled, with its checkpoint.
    QTRY_COMPARE_WITH_TIMEOUT(window.runModel()->statusText(id), QStringLiteral("cancelled"), 60000);
    QCOMPARE(int(runs.run(id)->status), int(RunStatus::Cancelled));
    QVERIFY(runs.hasArtifact(id, "checkpoint"));
    QVERIFY(!window.externalRuns()->isCancellable(id));
  }
};

QTEST_MAIN(TestRunOn)
#include "tst_run_on.moc"
