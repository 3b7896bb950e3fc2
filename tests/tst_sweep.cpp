// Sweeps: a grid expands into named, validated run configs; bad sweep files
// are refused naming the field; a real sweep trains its teacher once and runs
// the students on worker threads, each with its own store connection; v1
// stores gain the sweep tables in place.
#include "core/base/errors.h"
#include "core/store/run_store.h"
#include "core/training/sweep_runner.h"
#include "core/config/sweep_spec.h"
#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <mutex>
#include <set>
#include <thread>

using namespace distillery;
using json = nlohmann::json;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

json distillBase(const std::string& data_path = "/tmp/unused") {
  return {{"task", "distill"},
          {"data", {{"path", data_path}, {"val_size", 100}}},
          {"teacher", {{"zoo", "mlp"}, {"hidden", {32}}, {"train", {{"epochs", 1}}}}},
          {"student", {{"zoo", "mlp"}, {"hidden", {8}}}},
          {"method", {{"name", "kd"}, {"temperature", 3.0}, {"alpha", 0.7}}},
          {"optim", {{"name", "adam"}, {"lr", 0.003}}},
          {"batch_size", 64},
          {"epochs", 1},
          {"seed", 0},
          {"device", "cpu"},
          {"log_every", 5}};
}

// The error a sweep gives, or "" when it is accepted and expands cleanly.
std::string sweepError(const json& doc) {
  try {
    expandSweep(parseSweep(doc));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

void rawExec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

// Thread ids the runs reported from, and whether calls ever overlapped.
class ThreadRecorder : public RunObserver {
public:
  void onStarted(int64_t run_id) override { enter(run_id); }
  void onProgress(const RunProgress& p) override { enter(p.run_id); }
  void onLog(const LogEvent& e) override {
    enter(e.run_id);
    if (e.message.find("locked") != std::string::npos) locked = true;
  }

  std::mutex mutex;
  std::map<int64_t, std::set<std::thread::id>> threads;
  bool overlapped = false;
  bool locked = false;

private:
  void enter(int64_t run_id) {
    // The runner promises one call at a time; try_lock fails if not.
    if (!busy_.try_lock()) {
      overlapped = true;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      threads[run_id].insert(std::this_thread::get_id());
    }
    busy_.unlock();
  }
  std::mutex busy_;
};

} // namespace

class TestSweep : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void gridExpandsToTheCartesianProductWithNames() {
    json doc = {{"name", "fm"}, {"base", distillBase()},
                {"grid", {{"method.name", {"kd", "none"}}, {"seed", {0, 1, 2}}}}};
    SweepSpec spec = parseSweep(doc);
    QCOMPARE(int(sweepSize(spec)), 6);
    auto configs = expandSweep(spec);
    QCOMPARE(int(configs.size()), 6);
    const QStringList expected = {"fm/method.name=kd,seed=0",   "fm/method.name=kd,seed=1",
                                  "fm/method.name=kd,seed=2",   "fm/method.name=none,seed=0",
                                  "fm/method.name=none,seed=1", "fm/method.name=none,seed=2"};
    for (int i = 0; i < 6; ++i) QCOMPARE(q(configs[size_t(i)].name), expected[i]);
    QCOMPARE(q(configs[0].method.name), QStringLiteral("kd"));
    QCOMPARE(q(configs[4].method.name), QStringLiteral("none"));
    QCOMPARE(int(configs[4].seed), 1);
    // Same spec, same order.
    auto again = expandSweep(parseSweep(doc));
    for (size_t i = 0; i < configs.size(); ++i) QCOMPARE(q(again[i].name), q(configs[i].name));

    // Whole objects and nested paths; model specs get short names.
    json models = {{"name", "arch"}, {"base", distillBase()},
                   {"grid", {{"student", {{{"zoo", "mlp"}, {"hidden", {16}}},
                                          {{"zoo", "cnn"}, {"channels", {4}}, {"fc", 16}}}},
                             {"data.train_limit", {500}}}}};
    auto archs = expandSweep(parseSweep(models));
    QCOMPARE(int(archs.size()), 2);
    QCOMPARE(q(archs[0].name), QStringLiteral("arch/data.train_limit=500,student=mlp[16]"));
    QCOMPARE(q(archs[1].name), QStringLiteral("arch/data.train_limit=500,student=cnn[4]fc16"));
    QCOMPARE(q(archs[1].student.zoo), QStringLiteral("cnn"));
    // Method objects read as the method and its parameters.
    QCOMPARE(q(sweepValueText(json{{"name", "dkd"}, {"warmup", 1}, {"beta", 8.0}})), QStringLiteral("dkd(beta=8.0,warmup=1)"));
    QCOMPARE(q(sweepValueText(json{{"name", "none"}})), QStringLiteral("none"));
    QCOMPARE(int(archs[1].data.train_limit), 500);
    QCOMPARE(int(archs[1].data.val_size), 100); // the rest of data comes from the base

    // No grid: the base alone, named after the sweep.
    auto single = expandSweep(parseSweep({{"name", "one"}, {"base", distillBase()}}));
    QCOMPARE(int(single.size()), 1);
    QCOMPARE(q(single[0].name), QStringLiteral("one"));
  }

  void methodSwitchDropsParametersTheNewMethodLacks() {
    json doc = {{"name", "m"}, {"base", distillBase()},
                {"grid", {{"method.name", {"none", "kd", "topk_probs"}}}}};
    auto configs = expandSweep(parseSweep(doc));
    QCOMPARE(int(configs.size()), 3);
    QCOMPARE(q(configs[0].method.name), QStringLiteral("none"));
    QVERIFY(configs[0].method.params.empty());
    QCOMPARE(q(configs[1].method.name), QStringLiteral("kd"));
    QCOMPARE(configs[1].method.params.at("temperature"), 3.0); // the base's own method keeps its values
    // topk_probs shares temperature and alpha with kd: kept; k takes its default.
    QCOMPARE(q(configs[2].method.name), QStringLiteral("topk_probs"));
    QCOMPARE(configs[2].method.params.at("temperature"), 3.0);
    QCOMPARE(configs[2].method.params.at("alpha"), 0.7);
    QCOMPARE(configs[2].method.params.at("k"), 5.0);

    // Parameters of the base method still fail when the method stays the same.
    json bad = doc;
    bad["base"]["method"]["k"] = 3;
    bad["grid"] = {{"seed", {0}}};
    const std::string err = sweepError(bad);
    QVERIFY2(err.find("grid[seed=0]: method") == 0 && err.find("k") != std::string::npos, err.c_str());
  }

  void badSweepFilesNameTheField() {
    const json good = {{"name", "s"}, {"base", distillBase()}, {"grid", {{"seed", {0, 1}}}}};
    QVERIFY2(sweepError(good).empty(), sweepError(good).c_str());

    auto expectError = [](const std::string& err, const std::string& start) {
      QVERIFY2(err.rfind(start, 0) == 0, ("expected \"" + start + "...\", got \"" + err + "\"").c_str());
    };
    try {
      parseSweepText("{ not json");
      QFAIL("invalid JSON was accepted");
    } catch (const ConfigError& e) {
      expectError(e.what(), "sweep: not valid JSON");
    }
    expectError(sweepError(json::array({1, 2})), "sweep: expected an object");

    json no_base = good;
    no_base.erase("base");
    expectError(sweepError(no_base), "base: required");

    json base_not_object = good;
    base_not_object["base"] = "config.json";
    expectError(sweepError(base_not_object), "base: expected a run config object");

    json not_list = good;
    not_list["grid"]["seed"] = 3;
    expectError(sweepError(not_list), "grid.seed: expected a list of values, got a number");

    json empty_list = good;
    empty_list["grid"]["seed"] = json::array();
    expectError(sweepError(empty_list), "grid.seed: expected at least one value");

    json grid_not_object = good;
    grid_not_object["grid"] = json::array({1});
    expectError(sweepError(grid_not_object), "grid: expected an object");

    json unknown = good;
    unknown["grids"] = json::object();
    expectError(sweepError(unknown), "grids: unknown key");

    json name_in_grid = good;
    name_in_grid["grid"]["name"] = {"a"};
    expectError(sweepError(name_in_grid), "grid.name:");

    json bad_key = good;
    bad_key["grid"]["method..alpha"] = {0.5};
    expectError(sweepError(bad_key), "grid.method..alpha: not a config path");

    // Errors in an expanded config name the entry and the field.
    json magic = good;
    magic["grid"] = {{"method.name", {"kd", "magic"}}};
    expectError(sweepError(magic), "grid[method.name=magic]: method.name: unknown method \"magic\"");

    json range = good;
    range["grid"] = {{"method.temperature", {2.0, -1.0}}};
    expectError(sweepError(range), "grid[method.temperature=-1.0]: method.temperature:");

    json typo = good;
    typo["grid"] = {{"method.temprature", {2.0}}};
    const std::string typo_err = sweepError(typo);
    QVERIFY2(typo_err.rfind("grid[method.temprature=2.0]: method", 0) == 0 &&
                 typo_err.find("temprature") != std::string::npos,
             typo_err.c_str());

    json through_scalar = good;
    through_scalar["base"]["student"] = "mlp";
    through_scalar["grid"] = {{"student.hidden", {json::array({8})}}};
    expectError(sweepError(through_scalar), "grid[student.hidden=[8]]: student: is a string");
  }

  void sharedTeacherPlan() {
    SweepPlan plan = planSweep(parseSweep({{"name", "p"}, {"base", distillBase()},
                                           {"grid", {{"seed", {0, 1}}}}}));
    QVERIFY(plan.teacher.has_value());
    QCOMPARE(q(plan.teacher->name), QStringLiteral("p/teacher"));
    QCOMPARE(q(plan.teacher->task), QStringLiteral("train"));
    QCOMPARE(q(describe(plan.teacher->model)), QStringLiteral("mlp[32]"));
    QCOMPARE(q(plan.teacher->data.path), QStringLiteral("/tmp/unused"));
    QCOMPARE(int(plan.runs.size()), 2);

    // A grid over the teacher keeps one teacher per run.
    SweepPlan per_run = planSweep(parseSweep(
        {{"name", "p"}, {"base", distillBase()}, {"grid", {{"teacher.hidden", {json::array({16}), json::array({32})}}}}}));
    QVERIFY(!per_run.teacher.has_value());
    // A teacher given by run id needs no training.
    json by_id = distillBase();
    by_id["teacher"] = {{"run", 7}};
    QVERIFY(!planSweep(parseSweep({{"name", "p"}, {"base", by_id}})).teacher.has_value());
  }

  void versionOneStoreUpgradesInPlace() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("v1.sqlite").toStdString();
    {
      // The schema as the version 1 migration wrote it, with one finished run.
      sqlite3* db = nullptr;
      QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
      rawExec(db, "CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '',"
                  " task TEXT, status TEXT NOT NULL, config_json TEXT, created_at TEXT, started_at TEXT,"
                  " finished_at TEXT, error TEXT, teacher_run_id INTEGER, parent_run_id INTEGER,"
                  " summary_json TEXT, owner_pid INTEGER)");
      rawExec(db, "CREATE TABLE metric_points(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                  " metric TEXT NOT NULL, step INTEGER, epoch REAL, wall_s REAL, samples REAL, flops REAL,"
                  " teacher_queries REAL, value REAL)");
      rawExec(db, "CREATE INDEX metric_points_run_metric_step ON metric_points(run_id, metric, step)");
      rawExec(db, "CREATE TABLE log_events(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                  " wall_s REAL, level TEXT, message TEXT, created_at TEXT)");
      rawExec(db, "CREATE INDEX log_events_run ON log_events(run_id)");
      rawExec(db, "CREATE TABLE artifacts(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                  " name TEXT NOT NULL, data BLOB, PRIMARY KEY(run_id, name))");
      rawExec(db, "CREATE TABLE schema_version(version INTEGER NOT NULL)");
      rawExec(db, "INSERT INTO schema_version(version) VALUES (1)");
      rawExec(db, "INSERT INTO runs(name, task, status, config_json, created_at, finished_at, summary_json)"
                  " VALUES ('old-run', 'train', 'finished', '{}', '2026-01-01T00:00:00Z',"
                  " '2026-01-01T00:01:00Z', '{\"test_accuracy\": 0.5}')");
      rawExec(db, "INSERT INTO metric_points(run_id, metric, step, value) VALUES (1, 'train_loss', 1, 2.5)");
      sqlite3_close(db);
    }
    if (QTest::currentTestFailed()) return;

    {
      RunStore store(path);
      // Upgraded step by step to the latest version.
      QCOMPARE(store.schemaVersion(), int(SchemaVersion::Latest));
      QCOMPARE(int(SchemaVersion::Latest), 7);
      auto runs = store.runs();
      QCOMPARE(int(runs.size()), 1);
      QCOMPARE(q(runs[0].name), QStringLiteral("old-run"));
      QCOMPARE(q(toString(runs[0].status)), QStringLiteral("finished"));
      QCOMPARE(runs[0].sweep_id, int64_t(0));
      QVERIFY(runs[0].tags.empty());
      QVERIFY(runs[0].notes.empty());
      QVERIFY(!runs[0].starred);
      QCOMPARE(runs[0].summary["test_accuracy"].get<double>(), 0.5);
      QCOMPARE(int(store.pointCount(runs[0].id)), 1);
      QCOMPARE(store.points(runs[0].id, "train_loss").at(0).money, 0.0);
      QVERIFY(store.sweeps().empty());
      QVERIFY(store.forensicResults().empty()); // step 5 (issue 18) ran too
      QCOMPARE(runs[0].slurm_job_id, int64_t(0)); // and step 6 (issue 19)
      QVERIFY(runs[0].job_dir.empty());

      const int64_t sweep = store.createSweep("later", R"({"name":"later"})");
      QVERIFY(sweep > 0);
      store.setSweep(runs[0].id, sweep);
      QCOMPARE(store.run(runs[0].id)->sweep_id, sweep);
    }
    // Reopening finds it current and the link kept.
    RunStore again(path);
    QCOMPARE(again.schemaVersion(), int(SchemaVersion::Latest));
    QCOMPARE(int(again.sweeps().size()), 1);
    QCOMPARE(q(again.sweeps()[0].second), QStringLiteral("later"));
    QCOMPARE(again.run(1)->sweep_id, again.sweeps()[0].first);
  }

  void tinySweepTrainsOneTeacherAndRunsInParallel() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string data = dir.filePath("data").toStdString();
    QVERIFY(QDir().mkpath(q(data)));
    testsupport::writeSyntheticDataset(data, 800, 200);
    const std::string db = dir.filePath("sweep.sqlite").toStdString();

    json doc = {{"name", "tiny"}, {"base", distillBase(data)},
                {"grid", {{"method.name", {"kd", "none"}}, {"seed", {0, 1}}}}};
    SweepSpec spec = parseSweep(doc);
    ThreadRecorder observer;
    StopToken stop;
    SweepOutcome out = runSweep(db, spec, 2, observer, stop);

    QVERIFY(out.sweep_id > 0);
    QVERIFY(out.teacher_run_id > 0);
    QVERIFY2(out.teacher.kind == RunOutcome::Kind::Success, out.teacher.message.c_str());
    QCOMPARE(int(out.runs.size()), 4);
    for (const auto& r : out.runs) QVERIFY2(r.outcome.kind == RunOutcome::Kind::Success, r.outcome.message.c_str());
    QVERIFY(out.allSucceeded());
    QVERIFY(!observer.overlapped);
    QVERIFY(!observer.locked);

    RunStore store(db);
    auto runs = store.runs();
    QCOMPARE(int(runs.size()), 5);
    int teachers = 0, distills = 0;
    for (const auto& r : runs) {
      QCOMPARE(r.sweep_id, out.sweep_id);
      QVERIFY2(r.error.find("locked") == std::string::npos, r.error.c_str());
      if (r.task == "train") {
        ++teachers;
        QCOMPARE(r.id, out.teacher_run_id);
        QCOMPARE(q(r.name), QStringLiteral("tiny/teacher"));
        QCOMPARE(q(toString(r.status)), QStringLiteral("finished"));
        continue;
      }
      ++distills;
      QCOMPARE(q(toString(r.status)), QStringLiteral("finished"));
      QCOMPARE(r.teacher_run_id, out.teacher_run_id);
      QVERIFY(r.name.rfind("tiny/method.name=", 0) == 0);
      // The stored config names the teacher run instead of a zoo spec.
      const json config = json::parse(r.config_json);
      QCOMPARE(config["teacher"], json({{"run", out.teacher_run_id}}));
      QVERIFY(r.summary.contains("test_accuracy") && r.summary.contains("test_agreement"));
      QCOMPARE(r.summary["teacher_run_id"].get<int64_t>(), out.teacher_run_id);
    }
    QCOMPARE(teachers, 1);
    QCOMPARE(distills, 4);
    auto sweeps = store.sweeps();
    QCOMPARE(int(sweeps.size()), 1);
    QCOMPARE(sweeps[0].first, out.sweep_id);
    QCOMPARE(q(sweeps[0].second), QStringLiteral("tiny"));

    // The students ran on two worker threads, neither of them this one.
    std::set<std::thread::id> workers;
    for (const auto& r : out.runs)
      for (auto id : observer.threads[r.run_id]) workers.insert(id);
    QVERIFY(!workers.count(std::this_thread::get_id()));
    QCOMPARE(int(workers.size()), 2);
  }

  void stopDuringTheSweepCancelsRunningAndQueuedRuns() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string data = dir.filePath("data").toStdString();
    QVERIFY(QDir().mkpath(q(data)));
    testsupport::writeSyntheticDataset(data, 800, 200);
    const std::string db = dir.filePath("stop.sqlite").toStdString();
    SweepSpec spec = parseSweep({{"name", "s"}, {"base", distillBase(data)}, {"grid", {{"seed", {0, 1, 2, 3}}}}});

    // Stops at the first student progress report, mid-run.
    class StopAtDistill : public RunObserver {
    public:
      explicit StopAtDistill(StopToken& stop) : stop_(stop) {}
      void onProgress(const RunProgress& p) override {
        if (p.phase == "distill") stop_.requestStop();
      }

    private:
      StopToken& stop_;
    };
    StopToken stop;
    StopAtDistill observer(stop);
    SweepOutcome out = runSweep(db, spec, 2, observer, stop);
    QCOMPARE(q(toString(out.teacher.kind)), QStringLiteral("success"));
    QVERIFY(out.anyCancelled() && !out.anyFailed() && !out.allSucceeded());
    RunStore store(db);
    int before_start = 0;
    for (const auto& r : out.runs) {
      QCOMPARE(q(toString(r.outcome.kind)), QStringLiteral("cancelled"));
      const auto record = store.run(r.run_id);
      QCOMPARE(q(toString(record->status)), QStringLiteral("cancelled"));
      if (record->error == "cancelled before it started") ++before_start;
    }
    // Two workers each had one run going when the stop came; the rest never started.
    QVERIFY2(before_start >= 2, qPrintable(QString::number(before_start)));
    QVERIFY(before_start < 4);
  }

  void stopBeforeStartCancelsEveryRun() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string db = dir.filePath("cancel.sqlite").toStdString();
    const std::string data = dir.filePath("data").toStdString();
    QVERIFY(QDir().mkpath(q(data)));
    testsupport::writeSyntheticDataset(data, 300, 50);
    SweepSpec spec = parseSweep({{"name", "c"}, {"base", distillBase(data)}, {"grid", {{"seed", {0, 1, 2}}}}});
    ThreadRecorder observer;
    StopToken stop;
    stop.requestStop();
    SweepOutcome out = runSweep(db, spec, 2, observer, stop);
    QCOMPARE(q(toString(out.teacher.kind)), QStringLiteral("cancelled"));
    RunStore store(db);
    QCOMPARE(int(store.runs().size()), 4); // all queued first, so all are listed
    for (const auto& r : store.runs()) QCOMPARE(q(toString(r.status)), QStringLiteral("cancelled"));
    for (const auto& r : out.runs) QCOMPARE(q(toString(r.outcome.kind)), QStringLiteral("cancelled"));
  }

  // Issue 15.6: a sweep whose runs cannot start is refused before anything is stored.
  void sweepThatCannotStartStoresNothing() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string db = dir.filePath("refused.sqlite").toStdString();
    const std::string missing = dir.filePath("no-such-data").toStdString();
    SweepSpec spec = parseSweep({{"name", "r"}, {"base", distillBase(missing)}, {"grid", {{"seed", {0, 1}}}}});
    ThreadRecorder observer;
    StopToken stop;
    try {
      runSweep(db, spec, 2, observer, stop);
      QFAIL("a sweep on a missing data folder was accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(q(e.field()), QStringLiteral("data.path"));
      QVERIFY2(QString::fromUtf8(e.what()).contains(q(missing)), e.what());
    }
    RunStore store(db);
    QCOMPARE(int(store.runs().size()), 0);
    QCOMPARE(int(store.sweeps().size()), 0);
  }
};

QTEST_APPLESS_MAIN(TestSweep)
#include "tst_sweep.moc"
