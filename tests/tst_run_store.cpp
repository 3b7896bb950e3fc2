// The run store as a user relies on it: what goes in comes back out, after a
// restart too; crashed runs are not left "running" forever; files that are
// not ours, or are from a newer build, are refused with a message naming them;
// concurrent writers lose nothing.
#include "core/base/errors.h"
#include "core/store/checkpoint.h"
#include "core/store/run_delete.h"
#include "core/store/run_store.h"

#include "test_support.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include <unistd.h>

using namespace distillery;

namespace {

// Edits a store file behind RunStore's back, as a crash or an older/newer
// build would leave it.
void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

using testsupport::point;

// Runs f, expecting a StoreError; returns its message ("" if none was thrown).
template <class F>
std::string storeErrorOf(F&& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return {};
}

// QCOMPARE prints QStrings on failure; it cannot print std::string or
// RunStatus (whose ADL-found toString returns std::string, not char*).
QString q(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
QString word(RunStatus s) { return q(toString(s)); }
QStringList names(const std::vector<std::string>& v) {
  QStringList out;
  for (const auto& s : v) out << q(s);
  return out;
}
QByteArray bytesOf(const std::string& s) { return QByteArray(s.data(), qsizetype(s.size())); }

const QRegularExpression kIsoUtc(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"));

} // namespace

class TestRunStore : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void statusWordsRoundTrip();
  void inMemoryStoreWorks();
  void runAndPointsRoundTrip();
  void statusChangesStampTimes();
  void logsRoundTrip();
  void artifactsKeepBinaryBytes();
  void summaryTeacherAndRename();
  void runsAreNewestFirst();
  void reopenedFileStoreHasEverything();
  void crashedRunsAreMarkedInterrupted();
  void garbageFileIsRefused();
  void foreignDatabaseIsRefused();
  void unopenablePathIsRefused();
  void newerSchemaIsRefused();
  void deleteRunRemovesEverything();
  void deletingAnActiveRunIsRefused();
  void injectionLookingNameIsVerbatim();
  void concurrentWritersLoseNothing();
  void annotationsRoundTrip();
  void version3StoreGainsMoney();
  void checkpointKeepsMoney();
  void version4StoreGainsForensicResults();
  void followingReadsOnlyNewRows();
  void followingSeesAResumeThatReusedRowids();
  void followingSeesAnImportReplacingRows();
  void slurmPollerReadsOnlyRunsWithAJobOut();
};

void TestRunStore::statusWordsRoundTrip() {
  for (RunStatus s : {RunStatus::Queued, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                      RunStatus::Cancelled, RunStatus::Interrupted, RunStatus::Diverged})
    QVERIFY(runStatusFromString(toString(s)) == std::optional<RunStatus>(s));
  QCOMPARE(word(RunStatus::Cancelled), QStringLiteral("cancelled"));
  QCOMPARE(word(RunStatus::Interrupted), QStringLiteral("interrupted"));
  QCOMPARE(word(RunStatus::Diverged), QStringLiteral("diverged"));
  QVERIFY(!runStatusFromString("Running").has_value());
  QVERIFY(!runStatusFromString("").has_value());
}

void TestRunStore::inMemoryStoreWorks() {
  RunStore store(":memory:");
  QCOMPARE(store.schemaVersion(), int(SchemaVersion::Latest));
  QCOMPARE(store.recoveredInterrupted(), 0);
  QVERIFY(store.runs().empty());
  QVERIFY(!store.run(1).has_value());

  const int64_t id = store.createRun("baseline", "classify", R"({"epochs":2})");
  QVERIFY(id > 0);
  const auto r = store.run(id);
  QVERIFY(r.has_value());
  QCOMPARE(r->id, id);
  QCOMPARE(q(r->name), QStringLiteral("baseline"));
  QCOMPARE(q(r->task), QStringLiteral("classify"));
  QCOMPARE(q(r->config_json), q(std::string(R"({"epochs":2})")));
  QCOMPARE(word(r->status), QStringLiteral("queued"));
  QVERIFY2(kIsoUtc.match(QString::fromStdString(r->created_at)).hasMatch(), r->created_at.c_str());
  QVERIFY(r->started_at.empty());
  QVERIFY(r->finished_at.empty());
  QVERIFY(r->error.empty());
  QCOMPARE(r->teacher_run_id, int64_t(0));
  QCOMPARE(r->parent_run_id, int64_t(0));
  QVERIFY(r->summary.is_object() && r->summary.empty());
}

void TestRunStore::runAndPointsRoundTrip() {
  RunStore store(":memory:");
  const int64_t id = store.createRun("diverges", "distill", "{}");
  const double inf = std::numeric_limits<double>::infinity();
  // Out of step order on purpose: reads come back sorted by step.
  store.appendPoints({point(id, "loss", 2, 0.5), point(id, "loss", 1, 0.9),
                      point(id, "loss", 3, std::nan("")), point(id, "loss", 4, inf),
                      point(id, "loss", 5, -inf), point(id, "accuracy", 1, 0.25)});

  QCOMPARE(store.pointCount(id), int64_t(6));
  QCOMPARE(names(store.metricNames(id)), (QStringList{"accuracy", "loss"}));

  const auto loss = store.points(id, "loss");
  QCOMPARE(loss.size(), size_t(5));
  for (size_t i = 0; i < loss.size(); ++i) {
    QCOMPARE(loss[i].step, int64_t(i + 1));
    QCOMPARE(loss[i].run_id, id);
    QCOMPARE(q(loss[i].metric), QStringLiteral("loss"));
  }
  QCOMPARE(loss[0].value, 0.9);
  QCOMPARE(loss[1].value, 0.5);
  QVERIFY2(std::isnan(loss[2].value), "NaN must come back as NaN, not 0");
  QVERIFY(std::isinf(loss[3].value) && loss[3].value > 0);
  QVERIFY(std::isinf(loss[4].value) && loss[4].value < 0);
  // The cost counters travel with every point (testsupport::point: step 2's).
  QCOMPARE(loss[1].epoch, 0.02);
  QCOMPARE(loss[1].wall_s, 0.1);
  QCOMPARE(loss[1].samples, 128.0);
  QCOMPARE(loss[1].flops, 6.4e7);
  QCOMPARE(loss[1].teacher_queries, 64.0);
  QCOMPARE(loss[1].money, 0.25);

  const auto all = store.points(id);
  QCOMPARE(all.size(), size_t(6));
  QCOMPARE(all.front().step, int64_t(1));
  QCOMPARE(q(all.front().metric), QStringLiteral("loss")); // same step: insertion order
  QCOMPARE(q(all[1].metric), QStringLiteral("accuracy"));

  QVERIFY(store.points(id, "nope").empty());
  QCOMPARE(store.pointCount(id + 100), int64_t(0));
}

void TestRunStore::statusChangesStampTimes() {
  RunStore store(":memory:");
  const int64_t id = store.createRun("r", "classify", "{}");
  store.setStatus(id, RunStatus::Running);
  auto r = store.run(id);
  QCOMPARE(word(r->status), QStringLiteral("running"));
  QVERIFY(kIsoUtc.match(QString::fromStdString(r->started_at)).hasMatch());
  QVERIFY(r->finished_at.empty());

  store.setStatus(id, RunStatus::Failed, "out of memory");
  r = store.run(id);
  QCOMPARE(word(r->status), QStringLiteral("failed"));
  QCOMPARE(q(r->error), QStringLiteral("out of memory"));
  QVERIFY(kIsoUtc.match(QString::fromStdString(r->finished_at)).hasMatch());
  QVERIFY(!r->started_at.empty());

  // Issue 15 item 24: a resume (running again, a second later) keeps the first start.
  const std::string firstStart = r->started_at;
  QTest::qWait(1100); // timestamps have whole seconds
  store.setStatus(id, RunStatus::Running);
  r = store.run(id);
  QCOMPARE(q(r->started_at), q(firstStart));
  QVERIFY(r->finished_at.empty());

}

void TestRunStore::logsRoundTrip() {
  RunStore store(":memory:");
  const int64_t id = store.createRun("r", "classify", "{}");
  store.appendLogs({{id, 0.1, "info", "epoch 1"}, {id, 0.2, "warning", "loss rose"}});
  store.appendLogs({{id, 0.3, "error", "diverged: loss is nan"}});
  const auto logs = store.logs(id);
  QCOMPARE(logs.size(), size_t(3));
  QCOMPARE(q(logs[0].message), QStringLiteral("epoch 1"));
  QCOMPARE(q(logs[1].level), QStringLiteral("warning"));
  QCOMPARE(logs[1].wall_s, 0.2);
  QCOMPARE(q(logs[2].message), QStringLiteral("diverged: loss is nan"));
  QCOMPARE(logs[2].run_id, id);
}

void TestRunStore::artifactsKeepBinaryBytes() {
  RunStore store(":memory:");
  const int64_t id = store.createRun("r", "classify", "{}");
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes.push_back(char(i % 7 == 0 ? 0 : i & 0xff));
  store.saveArtifact(id, "model.pt", bytes);
  auto loaded = store.loadArtifact(id, "model.pt");
  QVERIFY(loaded.has_value());
  QCOMPARE(bytesOf(*loaded), bytesOf(bytes));

  store.saveArtifact(id, "model.pt", std::string("\0v2", 3)); // replaces
  QCOMPARE(bytesOf(*store.loadArtifact(id, "model.pt")), QByteArray("\0v2", 3));

  store.saveArtifact(id, "empty", "");
  loaded = store.loadArtifact(id, "empty");
  QVERIFY2(loaded.has_value(), "an empty artifact exists, it is not missing");
  QVERIFY(loaded->empty());

  QVERIFY(!store.loadArtifact(id, "missing").has_value());
  QVERIFY(!store.loadArtifact(id + 1, "model.pt").has_value());
}

void TestRunStore::summaryTeacherAndRename() {
  RunStore store(":memory:");
  const int64_t parent = store.createRun("distill", "distill", "{}");
  const int64_t teacher = store.createRun("teacher", "classify", "{}", parent);
  store.setTeacher(parent, teacher);
  store.setSummary(parent, {{"accuracy", 0.91}, {"params", 12345}, {"name", "ü"}});
  store.renameRun(parent, "renamed");

  const auto p = store.run(parent);
  QCOMPARE(p->teacher_run_id, teacher);
  QCOMPARE(q(p->name), QStringLiteral("renamed"));
  QCOMPARE(p->summary.at("accuracy").get<double>(), 0.91);
  QCOMPARE(p->summary.at("params").get<int>(), 12345);
  QCOMPARE(q(p->summary.at("name").get<std::string>()), QString::fromUtf8("ü"));
  QCOMPARE(store.run(teacher)->parent_run_id, parent);
}

void TestRunStore::runsAreNewestFirst() {
  RunStore store(":memory:");
  const int64_t a = store.createRun("a", "classify", "{}");
  const int64_t b = store.createRun("b", "classify", "{}");
  const int64_t c = store.createRun("c", "classify", "{}");
  const auto all = store.runs();
  QCOMPARE(all.size(), size_t(3));
  QCOMPARE(all[0].id, c);
  QCOMPARE(all[1].id, b);
  QCOMPARE(all[2].id, a);
}

void TestRunStore::reopenedFileStoreHasEverything() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("runs.sqlite").toStdString();
  int64_t id = 0;
  {
    RunStore store(path);
    QCOMPARE(q(store.path()), q(path));
    id = store.createRun("kept", "classify", R"({"lr":0.1})");
    store.setStatus(id, RunStatus::Running);
    store.appendPoints({point(id, "loss", 1, 1.5), point(id, "loss", 2, std::nan(""))});
    store.appendLogs({{id, 1.0, "info", "hello"}});
    store.saveArtifact(id, "model", std::string("a\0b", 3));
    store.setSummary(id, {{"accuracy", 0.5}});
    store.setStatus(id, RunStatus::Finished);
  }
  RunStore store(path);
  QCOMPARE(store.recoveredInterrupted(), 0);
  QCOMPARE(store.schemaVersion(), int(SchemaVersion::Latest));
  const auto r = store.run(id);
  QVERIFY(r.has_value());
  QCOMPARE(q(r->name), QStringLiteral("kept"));
  QCOMPARE(q(r->config_json), q(std::string(R"({"lr":0.1})")));
  QCOMPARE(word(r->status), QStringLiteral("finished"));
  QCOMPARE(r->summary.at("accuracy").get<double>(), 0.5);
  const auto pts = store.points(id, "loss");
  QCOMPARE(pts.size(), size_t(2));
  QCOMPARE(pts[0].value, 1.5);
  QVERIFY(std::isnan(pts[1].value));
  QCOMPARE(store.logs(id).size(), size_t(1));
  QCOMPARE(bytesOf(*store.loadArtifact(id, "model")), QByteArray("a\0b", 3));
}

void TestRunStore::crashedRunsAreMarkedInterrupted() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("runs.sqlite").toStdString();
  int64_t crashed = 0, no_owner = 0, queued_dead = 0, alive = 0, queued_alive = 0, done = 0;
  {
    RunStore store(path);
    crashed = store.createRun("crashed", "classify", "{}");
    no_owner = store.createRun("no owner", "classify", "{}");
    queued_dead = store.createRun("queued by a dead process", "classify", "{}");
    alive = store.createRun("still running here", "classify", "{}");
    queued_alive = store.createRun("queued here", "classify", "{}");
    done = store.createRun("finished", "classify", "{}");
    for (int64_t id : {crashed, no_owner, alive}) store.setStatus(id, RunStatus::Running);
    store.setStatus(done, RunStatus::Finished);
  }
  // No pid can be this large (Linux caps pid_max at 2^22).
  const std::string dead = std::to_string(std::numeric_limits<int32_t>::max());
  rawExec(path, "UPDATE runs SET owner_pid = " + dead + " WHERE id IN (" + std::to_string(crashed) + "," +
                    std::to_string(queued_dead) + "," + std::to_string(done) + ")");
  rawExec(path, "UPDATE runs SET owner_pid = NULL WHERE id = " + std::to_string(no_owner));
  if (QTest::currentTestFailed()) return;

  RunStore store(path);
  QCOMPARE(store.recoveredInterrupted(), 3);
  for (int64_t id : {crashed, no_owner, queued_dead}) {
    const auto r = store.run(id);
    QCOMPARE(word(r->status), QStringLiteral("interrupted"));
    QVERIFY2(r->error.find("interrupted") == 0, r->error.c_str());
  }
  QCOMPARE(word(store.run(alive)->status), QStringLiteral("running"));
  QCOMPARE(word(store.run(queued_alive)->status), QStringLiteral("queued"));
  QCOMPARE(word(store.run(done)->status), QStringLiteral("finished"));

  // Nothing left to recover on the next open.
  RunStore again(path);
  QCOMPARE(again.recoveredInterrupted(), 0);
}

void TestRunStore::garbageFileIsRefused() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("notes.sqlite").toStdString();
  {
    std::ofstream f(path);
    for (int i = 0; i < 200; ++i) f << "this is a text file, not a database\n";
  }
  const std::string msg = storeErrorOf([&] { RunStore store(path); });
  QVERIFY2(!msg.empty(), "opening a text file must throw StoreError");
  QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
  QVERIFY2(msg.find("not a Distillery store") != std::string::npos, msg.c_str());
}

void TestRunStore::foreignDatabaseIsRefused() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("other.sqlite").toStdString();
  rawExec(path, "CREATE TABLE contacts(name TEXT)");
  if (QTest::currentTestFailed()) return;
  const std::string msg = storeErrorOf([&] { RunStore store(path); });
  QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
  QVERIFY2(msg.find("not a Distillery store") != std::string::npos, msg.c_str());
}

void TestRunStore::unopenablePathIsRefused() {
  const std::string path = "/nonexistent-distillery-dir/sub/runs.sqlite";
  const std::string msg = storeErrorOf([&] { RunStore store(path); });
  QVERIFY2(!msg.empty(), "a store in a missing directory must throw StoreError");
  QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
}

void TestRunStore::newerSchemaIsRefused() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("runs.sqlite").toStdString();
  { RunStore store(path); }
  rawExec(path, "UPDATE schema_version SET version = 99");
  if (QTest::currentTestFailed()) return;
  const std::string msg = storeErrorOf([&] { RunStore store(path); });
  QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
  QVERIFY2(msg.find("newer Distillery") != std::string::npos, msg.c_str());
  QVERIFY2(msg.find("99") != std::string::npos, msg.c_str());
}

void TestRunStore::deleteRunRemovesEverything() {
  RunStore store(":memory:");
  const int64_t gone = store.createRun("gone", "classify", "{}");
  const int64_t kept = store.createRun("kept", "classify", "{}");
  for (int64_t id : {gone, kept}) {
    store.appendPoints({point(id, "loss", 1, 1.0), point(id, "loss", 2, 0.5)});
    store.appendLogs({{id, 0.0, "info", "x"}});
    store.saveArtifact(id, "model", "bytes");
  }
  store.deleteRun(gone);
  QVERIFY(!store.run(gone).has_value());
  QCOMPARE(store.pointCount(gone), int64_t(0));
  QVERIFY(store.logs(gone).empty());
  QVERIFY(!store.loadArtifact(gone, "model").has_value());
  QCOMPARE(store.runs().size(), size_t(1));
  QCOMPARE(store.pointCount(kept), int64_t(2));
  QCOMPARE(store.logs(kept).size(), size_t(1));
  QVERIFY(store.loadArtifact(kept, "model").has_value());
}

// The data-loss trap: a run another process still writes (a distillery-cli
// launch, shown by the GUI as running) must not be deleted under it.
void TestRunStore::deletingAnActiveRunIsRefused() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore writer(path); // the launching process
  const int64_t running = writer.createRun("launched", "distill", "{}");
  writer.setStatus(running, RunStatus::Running);
  const int64_t queued = writer.createRun("waiting", "distill", "{}");
  const int64_t done = writer.createRun("done", "distill", "{}");
  writer.setStatus(done, RunStatus::Running);
  writer.setStatus(done, RunStatus::Finished);
  writer.appendPoints({point(running, "loss", 1, 1.0), point(done, "loss", 1, 1.0)});

  RunStore gui(path); // another connection: the window
  QVERIFY(deleteRefusal(gui, {done}).empty());
  const std::string why = deleteRefusal(gui, {done, running, queued});
  QVERIFY2(why.find("#" + std::to_string(running) + " \"launched\" (running)") != std::string::npos, why.c_str());
  QVERIFY2(why.find("#" + std::to_string(queued) + " \"waiting\" (queued)") != std::string::npos, why.c_str());
  QVERIFY2(why.find("#" + std::to_string(done)) == std::string::npos, why.c_str());
  QVERIFY2(why.find("Cancel them first, or stop them where they run") != std::string::npos, why.c_str());
  QVERIFY2(deleteRefusal(gui, {running}).find("Cancel it first") != std::string::npos, why.c_str());

  // A mix deletes none: the finished run stays too.
  try {
    deleteStoppedRuns(gui, {done, running});
    QFAIL("deleting a running run was not refused");
  } catch (const StoreError& e) {
    QVERIFY2(std::string(e.what()).find("Nothing was deleted") != std::string::npos, e.what());
  }
  QVERIFY(gui.run(done) && gui.run(running) && gui.run(queued));
  QCOMPARE(gui.pointCount(running), int64_t(1));
  QCOMPARE(gui.pointCount(done), int64_t(1));
  // The launcher goes on writing.
  writer.appendPoints({point(running, "loss", 2, 0.5)});
  writer.setStatus(running, RunStatus::Finished);

  QCOMPARE(deleteStoppedRuns(gui, {done}), 1);
  QVERIFY(!gui.run(done));
  QCOMPARE(deleteStoppedRuns(gui, {running}), 1); // stopped now: it goes
  QVERIFY(!gui.run(running));
  QCOMPARE(gui.pointCount(running), int64_t(0));
}

void TestRunStore::injectionLookingNameIsVerbatim() {
  RunStore store(":memory:");
  const std::string name = "x'); DROP TABLE runs; --";
  const int64_t id = store.createRun(name, "classify\"; --", "{}");
  store.appendPoints({point(id, name, 1, 1.0)});
  QCOMPARE(q(store.run(id)->name), q(name));
  QCOMPARE(q(store.run(id)->task), q(std::string("classify\"; --")));
  QCOMPARE(names(store.metricNames(id)), QStringList{q(name)});
  store.renameRun(id, name + name);
  QCOMPARE(q(store.run(id)->name), q(name + name));
  QCOMPARE(store.runs().size(), size_t(1));
}

void TestRunStore::concurrentWritersLoseNothing() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("runs.sqlite").toStdString();
  int64_t id = 0;
  {
    RunStore store(path);
    id = store.createRun("shared", "classify", "{}");
  }
  // QTest macros are not thread-safe: each writer reports an error string.
  std::string errors[2];
  auto writer = [&](int w) {
    try {
      RunStore store(path); // one connection per thread, opened on it
      for (int batch = 0; batch < 20; ++batch) {
        std::vector<MetricPoint> pts;
        for (int i = 0; i < 100; ++i)
          pts.push_back(point(id, "w" + std::to_string(w), batch * 100 + i, double(i)));
        store.appendPoints(pts);
        store.appendLogs({{id, double(batch), "info", "batch"}});
      }
    } catch (const std::exception& e) {
      errors[w] = e.what();
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  QVERIFY2(errors[0].empty(), errors[0].c_str());
  QVERIFY2(errors[1].empty(), errors[1].c_str());

  RunStore store(path);
  QCOMPARE(store.pointCount(id), int64_t(4000));
  QCOMPARE(store.points(id, "w0").size(), size_t(2000));
  QCOMPARE(store.points(id, "w1").size(), size_t(2000));
  QCOMPARE(store.logs(id).size(), size_t(40));
}


void TestRunStore::annotationsRoundTrip() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("runs.sqlite").toStdString();
  int64_t id = 0, other = 0;
  {
    RunStore store(path);
    id = store.createRun("tagged", "train", "{}");
    other = store.createRun("plain", "train", "{}");
    store.setTags(id, {" baseline ", "cifar, v2", "baseline", "", "<script>x</script>"});
    store.setNotes(id, "lr too high?\nsecond line");
    store.setStarred(id, true);
  }
  RunStore store(path);
  const auto r = store.run(id);
  QVERIFY(r.has_value());
  // Trimmed, deduplicated, empty dropped; a comma stays inside its tag.
  QCOMPARE(int(r->tags.size()), 3);
  QCOMPARE(q(r->tags[0]), QStringLiteral("baseline"));
  QCOMPARE(q(r->tags[1]), QStringLiteral("cifar, v2"));
  QCOMPARE(q(r->tags[2]), QStringLiteral("<script>x</script>"));
  QCOMPARE(q(r->notes), QStringLiteral("lr too high?\nsecond line"));
  QVERIFY(r->starred);
  const auto o = store.run(other);
  QVERIFY(o->tags.empty() && o->notes.empty() && !o->starred);
  store.setStarred(id, false);
  store.setTags(id, {});
  QVERIFY(!store.run(id)->starred);
  QVERIFY(store.run(id)->tags.empty());
}

// A store as version 3 left it (annotations, no money) upgrades in place:
// its points keep their figures and cost no money; new points carry money.
void TestRunStore::version3StoreGainsMoney() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("v3.sqlite").toStdString();
  rawExec(path,
          "CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '', task TEXT,"
          " status TEXT NOT NULL, config_json TEXT, created_at TEXT, started_at TEXT, finished_at TEXT, error TEXT,"
          " teacher_run_id INTEGER, parent_run_id INTEGER, summary_json TEXT, owner_pid INTEGER,"
          " sweep_id INTEGER, tags_json TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '',"
          " starred INTEGER NOT NULL DEFAULT 0);"
          "CREATE TABLE metric_points(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " metric TEXT NOT NULL, step INTEGER, epoch REAL, wall_s REAL, samples REAL, flops REAL,"
          " teacher_queries REAL, value REAL);"
          "CREATE INDEX metric_points_run_metric_step ON metric_points(run_id, metric, step);"
          "CREATE TABLE log_events(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " wall_s REAL, level TEXT, message TEXT, created_at TEXT);"
          "CREATE INDEX log_events_run ON log_events(run_id);"
          "CREATE TABLE artifacts(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " name TEXT NOT NULL, data BLOB, PRIMARY KEY(run_id, name));"
          "CREATE TABLE sweeps(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, spec_json TEXT, created_at TEXT);"
          "CREATE TABLE schema_version(version INTEGER NOT NULL);"
          "INSERT INTO schema_version(version) VALUES (3);"
          "INSERT INTO runs(name, task, status, config_json, tags_json, starred)"
          " VALUES ('old', 'distill', 'finished', '{}', '[\"kept\"]', 1);"
          "INSERT INTO metric_points(run_id, metric, step, epoch, wall_s, samples, flops, teacher_queries, value)"
          " VALUES (1, 'train_loss', 7, 0.5, 1.5, 448, 2.5e9, 224, 0.75)");
  if (QTest::currentTestFailed()) return;
  {
    RunStore store(path);
    QCOMPARE(store.schemaVersion(), int(SchemaVersion::Latest));
    const auto r = store.run(1);
    QVERIFY(r.has_value());
    QCOMPARE(q(r->name), QStringLiteral("old"));
    QVERIFY(r->starred);
    QCOMPARE(int(r->tags.size()), 1);
    const auto old = store.points(1, "train_loss");
    QCOMPARE(old.size(), size_t(1));
    QCOMPARE(old[0].step, int64_t(7));
    QCOMPARE(old[0].flops, 2.5e9);
    QCOMPARE(old[0].teacher_queries, 224.0);
    QCOMPARE(old[0].value, 0.75);
    QCOMPARE(old[0].money, 0.0);
    MetricPoint bought = point(1, "train_loss", 8, 0.5);
    bought.money = 0.0375;
    store.appendPoints({bought});
  }
  RunStore again(path);
  QCOMPARE(again.schemaVersion(), int(SchemaVersion::Latest));
  const auto points = again.points(1, "train_loss");
  QCOMPARE(points.size(), size_t(2));
  QCOMPARE(points[1].money, 0.0375);
  QCOMPARE(points[1].teacher_queries, 8 * 32.0);
}

// A checkpoint carries the money spent so far (a resumed run goes on from
// it); one written before money existed reads as having spent none.
void TestRunStore::checkpointKeepsMoney() {
  TrainingCheckpoint c;
  c.step = 12;
  c.teacher_queries = 384;
  c.money = 1.25;
  c.optimizer_name = "adam";
  const std::string bytes = encodeCheckpoint(c);
  QCOMPARE(decodeCheckpoint(bytes, "test").money, 1.25);

  // The same checkpoint with its header as an older build wrote it.
  const std::string magic = "DISTILLERY-CHECKPOINT 1\n";
  QVERIFY(bytes.compare(0, magic.size(), magic) == 0);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[magic.size() + size_t(i)])) << (8 * i);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(magic.size() + 8, size_t(n)));
  QVERIFY(header.erase("money") == 1);
  const std::string old_header = header.dump();
  std::string older = magic;
  for (int i = 0; i < 8; ++i) older.push_back(char((uint64_t(old_header.size()) >> (8 * i)) & 0xff));
  older += old_header + bytes.substr(magic.size() + 8 + size_t(n));
  const TrainingCheckpoint back = decodeCheckpoint(older, "old");
  QCOMPARE(back.money, 0.0);
  QCOMPARE(back.teacher_queries, 384.0);
  QCOMPARE(back.step, int64_t(12));
}

// Issue 18 part 1: a store as version 4 left it (money, no forensics)
// upgrades one step to 5, keeps its runs and points, and then stores and
// lists forensic results with what they were computed from.
void TestRunStore::version4StoreGainsForensicResults() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath("v4.sqlite").toStdString();
  rawExec(path,
          "CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '', task TEXT,"
          " status TEXT NOT NULL, config_json TEXT, created_at TEXT, started_at TEXT, finished_at TEXT, error TEXT,"
          " teacher_run_id INTEGER, parent_run_id INTEGER, summary_json TEXT, owner_pid INTEGER,"
          " sweep_id INTEGER, tags_json TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '',"
          " starred INTEGER NOT NULL DEFAULT 0);"
          "CREATE TABLE metric_points(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " metric TEXT NOT NULL, step INTEGER, epoch REAL, wall_s REAL, samples REAL, flops REAL,"
          " teacher_queries REAL, value REAL, money REAL NOT NULL DEFAULT 0);"
          "CREATE INDEX metric_points_run_metric_step ON metric_points(run_id, metric, step);"
          "CREATE TABLE log_events(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " wall_s REAL, level TEXT, message TEXT, created_at TEXT);"
          "CREATE INDEX log_events_run ON log_events(run_id);"
          "CREATE TABLE artifacts(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
          " name TEXT NOT NULL, data BLOB, PRIMARY KEY(run_id, name));"
          "CREATE TABLE sweeps(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, spec_json TEXT, created_at TEXT);"
          "CREATE TABLE schema_version(version INTEGER NOT NULL);"
          "INSERT INTO schema_version(version) VALUES (4);"
          "INSERT INTO runs(name, task, status, config_json) VALUES ('teacher', 'train', 'finished', '{}');"
          "INSERT INTO metric_points(run_id, metric, step, epoch, wall_s, samples, flops, teacher_queries, value,"
          " money) VALUES (1, 'test_acc', 3, 1.0, 2.0, 96, 1e6, 0, 0.875, 0.5)");
  if (QTest::currentTestFailed()) return;
  {
    RunStore store(path);
    QCOMPARE(store.schemaVersion(), int(SchemaVersion::RowsGeneration));
    QCOMPARE(int(SchemaVersion::Latest), 7);
    QCOMPARE(store.run(1)->slurm_job_id, int64_t(0)); // step 6 (issue 19) ran too
    const auto r = store.run(1);
    QVERIFY(r.has_value());
    QCOMPARE(q(r->name), QStringLiteral("teacher"));
    const auto old = store.points(1, "test_acc");
    QCOMPARE(old.size(), size_t(1));
    QCOMPARE(old[0].value, 0.875);
    QCOMPARE(old[0].money, 0.5);
    QVERIFY(store.forensicResults().empty());
    const nlohmann::json inputs = {{"null", {2, 3}}, {"seed", 7}, {"inputs", 64}};
    const nlohmann::json result = {{"statistic", 0.25}, {"p_value", 1.0 / 3.0}, {"null_size", 2}};
    const int64_t id = store.addForensicResult("sac", "run:4", "run:1", inputs, result);
    QVERIFY(id > 0);
    store.addForensicResult("agreement", "/tmp/suspect.pt", "run:1", nlohmann::json::object(),
                            {{"statistic", 0.9}});
  }
  RunStore again(path);
  QCOMPARE(again.schemaVersion(), 7);
  const auto results = again.forensicResults();
  QCOMPARE(results.size(), size_t(2));
  QCOMPARE(q(results[0].kind), QStringLiteral("sac"));
  QCOMPARE(q(results[0].suspect), QStringLiteral("run:4"));
  QCOMPARE(q(results[0].reference), QStringLiteral("run:1"));
  QVERIFY(!results[0].created_at.empty());
  QCOMPARE(results[0].inputs.at("null"), nlohmann::json({2, 3}));
  QCOMPARE(results[0].inputs.at("seed").get<int>(), 7);
  QCOMPARE(results[0].result.at("p_value").get<double>(), 1.0 / 3.0);
  QCOMPARE(results[0].result.at("null_size").get<int>(), 2);
  QCOMPARE(q(results[1].kind), QStringLiteral("agreement"));
  QCOMPARE(q(results[1].suspect), QStringLiteral("/tmp/suspect.pt"));
  QVERIFY(results[0].id < results[1].id);
}

// A reader following a run another connection writes (the GUI following a
// `distillery-cli launch`) gets the points written since its cursor, and
// nothing it already holds.
void TestRunStore::followingReadsOnlyNewRows() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore writer(path);
  RunStore reader(path);
  const int64_t id = writer.createRun("followed", "distill", "{}");
  const int64_t other = writer.createRun("neighbour", "distill", "{}");
  std::vector<MetricPoint> first;
  for (int step = 1; step <= 4; ++step) first.push_back(point(id, "train_loss", step, 1.0 / step));
  first.push_back(point(other, "train_loss", 1, 9.0)); // another run's rows between ours
  writer.appendPoints(first);
  writer.appendLogs({{id, 0.5, "info", "epoch 1"}});

  const PointsSince all = reader.pointsSince(id, RowCursor{});
  QVERIFY(!all.restarted); // nothing was held
  QCOMPARE(all.rows.size(), size_t(4));
  for (size_t i = 0; i < 4; ++i) {
    QCOMPARE(all.rows[i].run_id, id);
    QCOMPARE(all.rows[i].step, int64_t(i + 1));
    QCOMPARE(all.rows[i].value, 1.0 / double(i + 1));
  }
  QCOMPARE(all.rows[2].flops, point(id, "train_loss", 3, 0).flops); // every column comes back
  QCOMPARE(all.rows[2].money, point(id, "train_loss", 3, 0).money);
  QVERIFY(all.next.generation >= 0);

  // Nothing new: no rows, same cursor.
  const int64_t readBefore = reader.pointRowsRead();
  const PointsSince none = reader.pointsSince(id, all.next);
  QVERIFY(none.rows.empty() && !none.restarted);
  QCOMPARE(none.next.rowid, all.next.rowid);
  QCOMPARE(reader.pointRowsRead(), readBefore);

  writer.appendPoints({point(other, "train_loss", 2, 8.0), point(id, "train_loss", 5, 0.2),
                       point(id, "val_accuracy", 5, 0.6)});
  const PointsSince news = reader.pointsSince(id, none.next);
  QVERIFY(!news.restarted);
  QCOMPARE(news.rows.size(), size_t(2));
  QCOMPARE(q(news.rows[0].metric), QStringLiteral("train_loss"));
  QCOMPARE(news.rows[0].step, int64_t(5));
  QCOMPARE(q(news.rows[1].metric), QStringLiteral("val_accuracy"));
  QCOMPARE(reader.pointRowsRead() - readBefore, int64_t(2)); // the new rows only, not the run's 6

  // Log lines follow the same way.
  const LogsSince logs = reader.logsSince(id, RowCursor{});
  QCOMPARE(logs.rows.size(), size_t(1));
  QCOMPARE(q(logs.rows[0].message), QStringLiteral("epoch 1"));
  writer.appendLogs({{other, 0.7, "info", "not ours"}, {id, 0.9, "warning", "epoch 2"}});
  const LogsSince moreLogs = reader.logsSince(id, logs.next);
  QVERIFY(!moreLogs.restarted);
  QCOMPARE(moreLogs.rows.size(), size_t(1));
  QCOMPARE(q(moreLogs.rows[0].message), QStringLiteral("epoch 2"));
  QCOMPARE(q(moreLogs.rows[0].level), QStringLiteral("warning"));

  // A run deleted meanwhile reads as nothing, not as an error.
  writer.deleteRun(id);
  const PointsSince gone = reader.pointsSince(id, news.next);
  QVERIFY(gone.rows.empty() && !gone.restarted);
}

// A resume deletes the points after its checkpoint and writes the steps again.
// SQLite gives the new rows the deleted rows' rowids when they were the last
// of the table, so the point count and the largest rowid can both come back to
// what the reader saw: only the generation tells it to start over.
void TestRunStore::followingSeesAResumeThatReusedRowids() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore writer(path);
  RunStore reader(path);
  const int64_t id = writer.createRun("resumed", "distill", "{}");
  std::vector<MetricPoint> points;
  for (int step = 1; step <= 10; ++step) points.push_back(point(id, "train_loss", step, 1.0));
  writer.appendPoints(points);
  const PointsSince before = reader.pointsSince(id, RowCursor{});
  QCOMPARE(before.rows.size(), size_t(10));

  writer.deletePointsAfter(id, 6); // the checkpoint was at step 6
  std::vector<MetricPoint> redone;
  for (int step = 7; step <= 10; ++step) redone.push_back(point(id, "train_loss", step, 0.5));
  writer.appendPoints(redone);
  QCOMPARE(writer.pointCount(id), int64_t(10)); // the count a count-keyed reader saw

  const PointsSince after = reader.pointsSince(id, before.next);
  QVERIFY(after.restarted);
  QCOMPARE(after.next.rowid, before.next.rowid); // the rowids were reused
  QVERIFY(after.next.generation != before.next.generation);
  QCOMPARE(after.rows.size(), size_t(10)); // all of the run, to replace what the reader holds
  for (size_t i = 0; i < 10; ++i) {
    QCOMPARE(after.rows[i].step, int64_t(i + 1));
    QCOMPARE(after.rows[i].value, i < 6 ? 1.0 : 0.5);
  }
  // From the new cursor on, following is incremental again.
  const PointsSince quiet = reader.pointsSince(id, after.next);
  QVERIFY(quiet.rows.empty() && !quiet.restarted);
  // A resume that deleted nothing (its checkpoint was the last step) changes nothing.
  writer.deletePointsAfter(id, 10);
  QVERIFY(!reader.pointsSince(id, after.next).restarted);
}

// A Slurm job's import replaces the run's points and log lines with the job
// store's: a reader that held some starts over.
void TestRunStore::followingSeesAnImportReplacingRows() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  const std::string jobPath = dir.filePath(QStringLiteral("job.sqlite")).toStdString();
  RunStore store(path);
  const int64_t id = store.createRun("slurm", "distill", "{}");
  store.setSlurmJob(id, 42, dir.path().toStdString());
  store.appendPoints({point(id, "train_loss", 1, 3.0)}); // e.g. written before it was handed to Slurm
  store.appendLogs({{id, 0.1, "info", "local line"}});
  {
    RunStore job(jobPath, StoreJournal::Delete); // the job's own store, seeded with the run
    store.exportRunsTo(jobPath, {id});
    job.appendPoints({point(id, "train_loss", 1, 2.0), point(id, "train_loss", 2, 1.0)});
    job.appendLogs({{id, 0.2, "info", "job line"}});
    job.setStatus(id, RunStatus::Finished);
  }
  RunStore reader(path);
  const PointsSince held = reader.pointsSince(id, RowCursor{});
  const LogsSince heldLogs = reader.logsSince(id, RowCursor{});
  QCOMPARE(held.rows.size(), size_t(1));
  store.importRunFrom(jobPath, id, "unfinished");
  const PointsSince after = reader.pointsSince(id, held.next);
  QVERIFY(after.restarted);
  QCOMPARE(after.rows.size(), size_t(2));
  QCOMPARE(after.rows[0].value, 2.0);
  const LogsSince afterLogs = reader.logsSince(id, heldLogs.next);
  QVERIFY(afterLogs.restarted);
  QCOMPARE(afterLogs.rows.size(), size_t(1));
  QCOMPARE(q(afterLogs.rows[0].message), QStringLiteral("job line"));
}

// The GUI's Slurm poller reads the runs with a job out, not every run.
void TestRunStore::slurmPollerReadsOnlyRunsWithAJobOut() {
  RunStore store(":memory:");
  const int64_t plain = store.createRun("plain", "distill", "{}");
  const int64_t queued = store.createRun("queued in slurm", "distill", "{}");
  const int64_t running = store.createRun("running in slurm", "distill", "{}");
  const int64_t imported = store.createRun("imported", "distill", "{}");
  store.setSlurmJob(queued, 11, "/tmp/a");
  store.setSlurmJob(running, 12, "/tmp/b");
  store.setSlurmJob(imported, 13, "/tmp/c");
  store.setStatus(running, RunStatus::Running);
  store.setStatus(imported, RunStatus::Finished); // its job id stays as provenance
  store.setStatus(plain, RunStatus::Running);
  std::vector<int64_t> ids;
  for (const RunRecord& r : store.runsWithSlurmJobOut()) ids.push_back(r.id);
  QCOMPARE(ids, (std::vector<int64_t>{running, queued}));
  // The same runs as the filter the CLI applies to runs().
  std::vector<int64_t> filtered;
  for (const RunRecord& r : store.runs())
    if (r.slurm_job_id && (r.status == RunStatus::Queued || r.status == RunStatus::Running)) filtered.push_back(r.id);
  QCOMPARE(filtered, ids);
  QCOMPARE(store.runsWithSlurmJobOut()[0].slurm_job_id, int64_t(12));
}

QTEST_GUILESS_MAIN(TestRunStore)
#include "tst_run_store.moc"
