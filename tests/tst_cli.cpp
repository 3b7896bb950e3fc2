// distillery-cli as scripts use it: exit codes, stdout/stderr contract, JSON and CSV output.
#include "core/base/progress_reporter.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "core/training/engine.h"
#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using json = nlohmann::json;

class TestCli : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString db() const { return dir_.filePath("cli.sqlite"); }

  using Result = testsupport::ProcessResult;
  static Result cli(const QStringList& args) { return testsupport::runCli(args); }

  QString writeConfig(const QString& name, const json& j) {
    QFile f(dir_.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QByteArray::fromStdString(j.dump(2)));
    return f.fileName();
  }

  // The keys of a command's key=value lines on stdout, in order.
  static QStringList keysOf(const QString& out) {
    QStringList keys;
    for (const QString& line : out.split(u'\n', Qt::SkipEmptyParts)) keys << line.section(u'=', 0, 0);
    return keys;
  }

  json config() const {
    json j = testsupport::smallDistillConfig(dir_.filePath("data").toStdString());
    j["name"] = "cli-kd";
    return j;
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(QDir().mkpath(dir_.filePath("data")));
    testsupport::writeSyntheticDataset(dir_.filePath("data").toStdString(), 1500, 300);
  }

  void runPrintsIdAndMetrics() {
    Result r = cli({"run", writeConfig("ok.json", config()), "--db", db()});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("run_id=1"));
    QVERIFY(r.out.contains("status=success"));
    QVERIFY(r.out.contains("test_accuracy="));
    QVERIFY(r.out.contains("test_agreement="));
    QVERIFY2(r.err.contains("distill"), qPrintable(r.err)); // progress goes to stderr
    QVERIFY(!r.out.contains("distill 100"));
    // Each progress line says what it counts (walk item h): the percentage is of the whole
    // run, the steps of the phase alone; the distill phase counts from 1, not after the teacher's.
    const QStringList progress = r.err.split(u'\n').filter(QStringLiteral("% overall;"));
    QVERIFY2(!progress.isEmpty(), qPrintable(r.err));
    QVERIFY2(!r.err.contains(QStringLiteral("% step ")), qPrintable(r.err)); // the old, ambiguous form
    QVERIFY2(r.err.contains(QRegularExpression(QStringLiteral("run 1: [0-9.]+% overall; teacher phase step [0-9]+/[0-9]+, epoch "))),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QRegularExpression(QStringLiteral("run 1: [0-9.]+% overall; distill phase step 1/[0-9]+, epoch "))),
             qPrintable(r.err));
    QVERIFY2(!progress.first().contains(QStringLiteral("eta")), qPrintable(progress.first())); // no guess from one step
  }

  // The ETA waits for a few steps: the first steps carry the set-up and gave absurd times.
  void progressGivesNoEtaFromTheFirstSteps() {
    struct Collect : distillery::RunObserver {
      std::vector<distillery::RunProgress> seen;
      void onProgress(const distillery::RunProgress& p) override { seen.push_back(p); }
    } observer;
    distillery::ProgressReporter reporter(observer, 7);
    for (int64_t step = 1; step <= 10; ++step) {
      reporter.report("distill", 40 + step, 100, 0.1 * double(step), step, 60);
      QThread::msleep(110); // past the reporter's 10-a-second limit
    }
    QCOMPARE(observer.seen.size(), size_t(10));
    for (size_t i = 0; i < 5; ++i) QVERIFY2(observer.seen[i].eta_s < 0, qPrintable(QString::number(i)));
    for (size_t i = 5; i < 10; ++i) QVERIFY2(observer.seen[i].eta_s > 0, qPrintable(QString::number(i)));
    // About 0.11 s a step since the first report, 50 steps to go.
    QVERIFY2(observer.seen[9].eta_s > 3 && observer.seen[9].eta_s < 15, qPrintable(QString::number(observer.seen[9].eta_s)));
    QCOMPARE(observer.seen[9].phase_step, int64_t(10));
    QCOMPARE(observer.seen[9].phase_steps, int64_t(60));
    QCOMPARE(observer.seen[9].step, int64_t(50));
    QCOMPARE(observer.seen[9].fraction, 0.5);
  }

  // `resume` prints the lines `run` prints (walk item g), e.g. teacher_run_id, params,
  // train_flops and teacher_queries, not a shorter list of its own.
  void resumePrintsTheSameLinesAsRun() {
    const QString store = dir_.filePath("resume.sqlite");
    Result r = cli({"run", writeConfig("for-resume.json", config()), "--db", store});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList run_keys = keysOf(r.out);
    for (const char* key : {"teacher_run_id", "params", "train_flops", "teacher_queries", "points"})
      QVERIFY2(run_keys.contains(QString::fromLatin1(key)), qPrintable(r.out));
    int64_t id = 0;
    {
      distillery::RunStore s(store.toStdString());
      id = distillery::queueRun(s, distillery::RunConfig::fromJson(config()));
      s.setStatus(id, distillery::RunStatus::Cancelled); // cancelled before its first step
    }
    r = cli({"resume", QString::number(id), "--db", store});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(keysOf(r.out), run_keys);
  }

  // `table` writes html too, and its help says so (walk item k).
  void tableHelpNamesEveryFormat() {
    const Result r = cli({"table", "--help"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("Markdown, LaTeX, CSV or HTML table")), qPrintable(r.out));
  }

  void baselineFlagTrainsTheStudentAlone() {
    Result r = cli({"run", writeConfig("base.json", config()), "--baseline", "--db", db()});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString id = r.out.section("run_id=", 1).section('\n', 0, 0);
    r = cli({"show", id, "--json", "--db", db()});
    QJsonObject run = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(run["task"].toString(), QString("train"));
    QCOMPARE(run["name"].toString(), QString("cli-kd-baseline"));
    QCOMPARE(run["summary"].toObject()["teacher_queries"].toDouble(), 0.0);
    QCOMPARE(run["config"].toObject()["model"].toObject()["hidden"].toArray().first().toInt(), 16);
  }

  void badConfigExitsWithOneLineNamingTheField() {
    json j = config();
    j["method"]["temperature"] = -1;
    Result r = cli({"run", writeConfig("bad.json", j), "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("method.temperature"), qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    j = config();
    j["optimizer"] = "adam";
    r = cli({"run", writeConfig("bad2.json", j), "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("optimizer") && r.err.contains("unknown key"), qPrintable(r.err));
    QFile broken(dir_.filePath("broken.json"));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{\"name\": ");
    broken.close();
    r = cli({"run", broken.fileName(), "--db", db()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("broken.json") && r.err.contains("JSON"), qPrintable(r.err));
  }

  void badDataExitsNonZeroNamingTheFile() {
    json j = config();
    j["data"]["path"] = dir_.filePath("missing").toStdString();
    Result r = cli({"run", writeConfig("nodata.json", j), "--db", db()});
    QCOMPARE(r.code, 2); // refused before the run is created (issue 15.6)
    QVERIFY2(r.err.contains("data.path") && r.err.contains(dir_.filePath("missing")), qPrintable(r.err));
  }

  // Issues 15.6 and 15.21: a config that cannot start is refused with the field
  // named, and leaves no run row behind (no failed run to clean up).
  void configThatCannotStartLeavesNoRow() {
    const auto runCount = [this] { return distillery::RunStore(db().toStdString()).runs().size(); };
    const size_t before = runCount();
    struct Case {
      const char* file;
      json config;
      QString field;
    };
    std::vector<Case> cases;
    json j = config();
    j["data"]["path"] = dir_.filePath("nowhere").toStdString();
    cases.push_back({"missing-data.json", j, "data.path"});
    j = config();
    j["method"] = {{"name", "fitnets"}, {"teacher_layer", "bogus"}};
    cases.push_back({"bogus-layer.json", j, "method.teacher_layer"});
    j = config();
    j["data"]["train_limit"] = 200;
    j["data"]["val_size"] = 200;
    cases.push_back({"val-size.json", j, "data.val_size"});
    j = config();
    j["name"] = "  ";
    cases.push_back({"no-name.json", j, "name"});
    j = config();
    j["teacher"] = {{"run", 4242}};
    cases.push_back({"no-teacher.json", j, "teacher.run"});
    for (const Case& c : cases) {
      Result r = cli({"run", writeConfig(c.file, c.config), "--db", db()});
      QVERIFY2(r.code == 2, qPrintable(QString(c.file) + ": " + r.err));
      QVERIFY2(r.err.contains(c.field + ": "), qPrintable(QString(c.file) + ": " + r.err));
      QCOMPARE(r.err.trimmed().count('\n'), 0);
    }
    QCOMPARE(runCount(), before);
  }

  void runsShowAndMetricsReadTheStore() {
    Result r = cli({"runs", "--json", "--db", db()});
    QCOMPARE(r.code, 0);
    QJsonArray runs = QJsonDocument::fromJson(r.out.toUtf8()).array();
    QVERIFY(runs.size() >= 2); // the distill run and its teacher at least
    QSet<QString> names;
    for (const auto& v : runs) names.insert(v.toObject()["name"].toString());
    QVERIFY(names.contains("cli-kd") && names.contains("cli-kd-teacher"));

    r = cli({"show", "1", "--json", "--db", db()});
    QCOMPARE(r.code, 0);
    QJsonObject run = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(run["status"].toString(), QString("finished"));
    QCOMPARE(run["config"].toObject()["method"].toObject()["name"].toString(), QString("kd"));
    QVERIFY(run["summary"].toObject()["test_accuracy"].toDouble() > 0.5);

    r = cli({"metrics", "1", "--csv", "--db", db()});
    QCOMPARE(r.code, 0);
    const QStringList lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.first(), QString("run_id,metric,step,epoch,wall_s,samples,flops,teacher_queries,money,value"));
    distillery::RunStore store(db().toStdString());
    QCOMPARE(qint64(lines.size() - 1), qint64(store.pointCount(1)));

    r = cli({"show", "4242", "--db", db()});
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("4242"));
  }

  // Issue 15 item 27: what the GUI annotates (tags, notes, star) is in show and runs --json too.
  void showAndRunsIncludeAnnotations() {
    {
      distillery::RunStore store(db().toStdString());
      store.setTags(1, {"paper", "kd-best"});
      store.setNotes(1, "keep this one\nteacher was undertrained");
      store.setStarred(1, true);
    }
    Result r = cli({"show", "1", "--json", "--db", db()});
    QCOMPARE(r.code, 0);
    QJsonObject run = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(run["tags"].toArray(), (QJsonArray{"paper", "kd-best"}));
    QCOMPARE(run["notes"].toString(), QString("keep this one\nteacher was undertrained"));
    QCOMPARE(run["starred"].toBool(), true);

    r = cli({"runs", "--json", "--db", db()});
    QCOMPARE(r.code, 0);
    bool seenStarred = false, seenPlain = false;
    for (const auto& v : QJsonDocument::fromJson(r.out.toUtf8()).array()) {
      const QJsonObject o = v.toObject();
      QVERIFY2(o.contains("tags") && o.contains("notes") && o.contains("starred"), qPrintable(r.out.left(400)));
      if (o["id"].toInt() == 1) {
        seenStarred = o["starred"].toBool() && o["tags"].toArray().size() == 2 && o["notes"].toString().startsWith("keep");
      } else {
        seenPlain = seenPlain || (!o["starred"].toBool() && o["tags"].toArray().isEmpty() && o["notes"].toString().isEmpty());
      }
    }
    QVERIFY(seenStarred && seenPlain);

    r = cli({"show", "1", "--db", db()});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("starred: yes\n") && r.out.contains("tags: paper, kd-best\n") &&
                 r.out.contains("notes: keep this one\n  teacher was undertrained\n"),
             qPrintable(r.out.left(600)));
    {
      distillery::RunStore store(db().toStdString());
      store.setTags(1, {});
      store.setNotes(1, "");
      store.setStarred(1, false);
    }
  }

  void methodsListsSchemas() {
    Result r = cli({"methods", "--json"});
    QCOMPARE(r.code, 0);
    QJsonArray methods = QJsonDocument::fromJson(r.out.toUtf8()).array();
    bool found = false, layers = false;
    for (const auto& m : methods) {
      if (m.toObject()["name"] == "kd") {
        found = true;
        QCOMPARE(m.toObject()["params"].toArray().size(), 2);
      }
      if (m.toObject()["name"] == "fitnets")
        for (const auto& p : m.toObject()["params"].toArray())
          if (p.toObject()["name"] == "teacher_layer") layers = p.toObject()["type"] == "layer";
    }
    QVERIFY(found);
    QVERIFY(layers); // feature methods list their layer parameters
    Result text = cli({"methods"});
    QVERIFY(text.out.contains("student_layer (layer name"));
  }

  void sweepRunsAGridWithOneTeacher() {
    json sweep = {{"name", "grid"}, {"base", config()}, {"grid", {{"method.name", {"kd", "none"}}, {"seed", {0, 1}}}}};
    const QString file = writeConfig("sweep.json", sweep);
    Result dry = cli({"sweep", file, "--dry-run", "--db", db()});
    QCOMPARE(dry.code, 0);
    QCOMPARE(dry.out.trimmed().split('\n').size(), 4);
    QVERIFY(dry.out.contains("grid/method.name=kd,seed=0"));

    const QString sweepDb = dir_.filePath("sweep.sqlite");
    Result r = cli({"sweep", file, "--parallel", "2", "--db", sweepDb});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out.count("status=finished"), 4);
    distillery::RunStore store(sweepDb.toStdString());
    int teachers = 0;
    for (const auto& run : store.runs()) teachers += run.task == "train" ? 1 : 0;
    QCOMPARE(teachers, 1);

    sweep["grid"]["seed"] = json::array();
    Result bad = cli({"sweep", writeConfig("badsweep.json", sweep), "--db", db()});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("grid") && bad.err.contains("seed"), qPrintable(bad.err));
  }

  // Issue 17 part 4: charts go against teacher queries and money too (the
  // axis says which), and a wrong word lists both.
  void exportChartTakesQueriesAndMoney() {
    const QString store_path = dir_.filePath("money.sqlite");
    {
      distillery::RunStore store(store_path.toStdString());
      const int64_t id = store.createRun("bought", "distill", "{}");
      store.appendPoints({testsupport::point(id, "train_loss", 4, 0.5), testsupport::point(id, "train_loss", 8, 0.25)});
    }
    const std::pair<const char*, const char*> cases[] = {{"queries", "Teacher queries (samples)"},
                                                         {"money", "Money spent on teacher answers"}};
    for (const auto& [word, title] : cases) {
      const QString out = dir_.filePath(QStringLiteral("by-%1.svg").arg(word));
      const Result r = cli({"export-chart", "--runs", "1", "--metric", "train_loss", "--x", word, "--out", out,
                            "--db", store_path});
      QVERIFY2(r.code == 0, qPrintable(r.err));
      QFile f(out);
      QVERIFY(f.open(QIODevice::ReadOnly));
      const QString svg = QString::fromUtf8(f.readAll());
      QVERIFY2(svg.contains(QString::fromLatin1(title)), title);
    }
    const Result bad = cli({"export-chart", "--runs", "1", "--metric", "train_loss", "--x", "dollars", "--out",
                            dir_.filePath("bad.csv"), "--db", store_path});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("--x") && bad.err.contains("queries or money"), qPrintable(bad.err));
  }

  void storeThatIsNotSqliteIsRefused() {
    QFile f(dir_.filePath("notadb.sqlite"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    Result r = cli({"runs", "--db", f.fileName()});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(f.fileName()), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
