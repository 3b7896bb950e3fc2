// Run ▸ Forensics… (issue 18 part 4). Tiny runs trained here through the
// engine (a teacher, two students distilled from it, independent runs for the
// null and as negatives) fill a file store; the Forensics view then runs the
// tests on its worker thread. What it shows (p-value, verdict) and stores
// must be what runForensicTests gives for the same inputs; a suspect with
// another class count or input shape is refused with the reason; Cancel
// stops the work with nothing stored; SAC-m on a label-only API (a real
// distillery-cli serve) is shown as skipped; the Calibration page's AUC is rocAuc of
// the statistics each model gets from runForensicTests.
#include "core/config/run_config.h"
#include "core/data/dataset.h"
#include "core/forensics/detection_harness.h"
#include "core/forensics/detection_roc.h"
#include "core/forensics/forensic_request.h"
#include "core/forensics/forensic_model.h"
#include "core/forensics/forensic_tests.h"
#include "core/forensics/forensic_verdict.h"
#include "core/models/model_zoo.h"
#include "core/models/torchscript_export.h"
#include "core/store/run_store.h"
#include "core/training/engine.h"
#include "test_support.h"
#include "widgets/forensics_calibration_page.h"
#include "widgets/forensics_charts.h"
#include "widgets/forensics_view.h"
#include "widgets/main_window.h"
#include "widgets/run_table_model.h"

#include <QAction>
#include <QAreaSeries>
#include <QComboBox>
#include <QListWidget>
#include <QPushButton>
#include <QValueAxis>
#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QMenuBar>
#include <QMap>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>

using namespace distillery;
using namespace distillery::gui;

class TestForensicsView : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  QString data_;
  int64_t teacher_ = 0;
  QList<int64_t> students_, null_, negatives_;
  QString store() const { return dir_.filePath(QStringLiteral("runs.sqlite")); }

  int64_t train(RunConfig c) {
    c.data.path = data_.toStdString();
    c.data.val_size = 100;
    c.batch_size = 64;
    c.device = "cpu";
    c.threads = 1;
    RunStore s(store().toStdString());
    RunObserver quiet;
    StopToken stop;
    const RunOutcome out = executeRun(s, queueRun(s, c), c, quiet, stop);
    if (out.kind != RunOutcome::Kind::Success) qWarning("%s", out.message.c_str());
    return out.kind == RunOutcome::Kind::Success ? out.run_id : 0;
  }
  int64_t independent(std::vector<int> hidden, uint64_t seed) {
    RunConfig c;
    c.name = "independent";
    c.task = "train";
    c.model.zoo = "mlp";
    c.model.hidden = std::move(hidden);
    c.seed = seed;
    c.epochs = 1;
    return train(c);
  }

  // What the engine itself says for a suspect, with the view's settings.
  std::vector<ForensicOutcome> engineOutcomes(RunStore& s, int64_t suspect, const std::vector<int64_t>& null, int inputs,
                                              ForensicOptions options = {}, const std::vector<int64_t>& followers = {},
                                              const std::vector<int64_t>& refusers = {}) {
    const RunConfig tc = RunConfig::fromJsonText(s.run(teacher_)->config_json);
    const Dataset data = loadDataset(tc.data, tc.seed);
    ForensicModel teacher = forensicModelFromRun(s, teacher_, data, "teacher");
    ForensicModel model = forensicModelFromRun(s, suspect, data, "suspect");
    std::vector<ForensicModel> nullModels;
    for (int64_t id : null) nullModels.push_back(forensicModelFromRun(s, id, data, "null"));
    for (int64_t id : followers) options.fingerprint_followers.push_back(forensicModelFromRun(s, id, data, "with").local);
    for (int64_t id : refusers) options.fingerprint_refusers.push_back(forensicModelFromRun(s, id, data, "against").local);
    options.inputs = inputs;
    options.seed = 0;
    return runForensicTests(teacher.local, data, model, nullModels, options);
  }

  static std::vector<int64_t> ids(const QList<int64_t>& l) { return std::vector<int64_t>(l.begin(), l.end()); }
  static QList<int64_t> sorted(QList<int64_t> l) {
    std::sort(l.begin(), l.end());
    return l;
  }
  static QList<int64_t> listed(const QListWidget* list) {
    QList<int64_t> ids;
    for (int i = 0; i < list->count(); ++i) ids.append(list->item(i)->data(Qt::UserRole).toLongLong());
    return ids;
  }
  // A finished independent run as the store lists it (its record only: the
  // lists need no weights), through a connection of its own as a CLI would.
  int64_t addIndependentRecord(RunStatus status = RunStatus::Finished) {
    RunStore other(store().toStdString());
    const int64_t id = other.createRun("added later", "train", other.run(null_[0])->config_json);
    other.setStatus(id, status);
    return id;
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    data_ = dir_.filePath(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(data_));
    testsupport::writeSyntheticDataset(data_.toStdString(), 1000, 200);
    RunConfig t;
    t.name = "teacher";
    t.task = "train";
    t.model.zoo = "mlp";
    t.model.hidden = {64};
    t.epochs = 2;
    teacher_ = train(t);
    QVERIFY(teacher_ > 0);
    for (uint64_t seed : {1, 2}) {
      RunConfig d = RunConfig::fromJson(testsupport::smallDistillConfig(data_.toStdString()));
      d.name = "student";
      d.teacher = TeacherSource{};
      d.teacher.kind = TeacherSource::Kind::Run;
      d.teacher.run_id = teacher_;
      d.seed = seed;
      const int64_t id = train(d);
      QVERIFY(id > 0);
      students_.append(id);
    }
    for (int i = 0; i < 5; ++i) {
      null_.append(independent(i % 2 ? std::vector<int>{32} : std::vector<int>{16}, 10 + uint64_t(i)));
      QVERIFY(null_.back() > 0);
    }
    for (int i = 0; i < 2; ++i) {
      negatives_.append(independent({16}, 20 + uint64_t(i)));
      QVERIFY(negatives_.back() > 0);
    }
  }

  // The view's p-value and verdict are the engine's; the results are stored
  // as the CLI stores them, listed, and shown again from the store.
  void testsShowAndStoreTheEnginesResult() {
    RunStore s(store().toStdString());
    const size_t before = s.forensicResults().size();
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setSuspectRun(students_[0]);
    view.setNull(null_);
    view.setInputs(32);
    QSignalSpy done(&view, &ForensicsView::testsDone);
    QSignalSpy finished(&view, &ForensicsView::jobFinished);
    QVERIFY(view.runTests());
    QVERIFY(view.isBusy());
    QVERIFY(!view.runTests()); // one job at a time
    QVERIFY(finished.wait(180000));
    QCOMPARE(done.count(), 1);
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));

    const auto expected = engineOutcomes(s, students_[0], ids(null_), 32);
    QCOMPARE(expected.size(), size_t(3));
    const auto stored = s.forensicResults();
    QCOMPARE(stored.size(), before + 3);
    QMap<QString, QString> shown; // each test's verdict after the run
    for (size_t i = 0; i < expected.size(); ++i) {
      const ForensicOutcome& o = expected[i];
      const QString test = QString::fromLatin1(toString(o.test));
      const QString p = QString::number(o.p.p_value, 'g', 3);
      // A null of 5 cannot reach 0.05: its smallest p (1/6) is inconclusive, not "no evidence".
      const QString want =
          o.p.p_value <= 1.0 / 6 + 1e-12
              ? QStringLiteral("inconclusive: p = %1, the smallest a null of 5 independent models allows; "
                               "p <= 0.05 needs at least 19").arg(p)
              : QStringLiteral("no evidence of copying: p = %1 against 5 independent models").arg(p);
      QCOMPARE(view.verdictText(test), want);
      shown[test] = want;
      // A null of 5 cannot reach 0.05: the view says so.
      QVERIFY2(view.detailsText(test).contains(QStringLiteral("smallest possible p is 1/6")), qPrintable(view.detailsText(test)));
      const auto& r = stored[before + i];
      QCOMPARE(r.kind, std::string(toString(o.test)));
      QCOMPARE(r.suspect, "run:" + std::to_string(students_[0]));
      QCOMPARE(r.reference, "run:" + std::to_string(teacher_));
      QCOMPARE(r.inputs["null"], nlohmann::json(ids(null_)));
      QCOMPARE(r.inputs["inputs"].get<int64_t>(), int64_t(32));
      QCOMPARE(r.result["p_value"].get<double>(), o.p.p_value);
      QCOMPARE(r.result["statistic"].get<double>(), o.statistic);
      QCOMPARE(r.result["null_statistics"].get<std::vector<double>>(), o.null_statistics);
      // The histogram holds every null model, and the suspect's line stands at its statistic.
      auto* chart = view.findChild<QChartView*>(QStringLiteral("nullHistogram_%1").arg(test));
      QVERIFY(chart);
      QLineSeries* line = nullptr;
      for (QAbstractSeries* series : chart->chart()->series())
        if (series->name() == QStringLiteral("suspect")) line = qobject_cast<QLineSeries*>(series);
      QVERIFY(line);
      QCOMPARE(line->at(0).x(), o.statistic);
    }
    // Listed newest first, and shown again from the store alone.
    QCOMPARE(view.storedTable()->rowCount(), int(before + 3));
    QCOMPARE(view.storedTable()->item(0, 0)->text(), QString::number(stored.back().id));
    // The crafting column: how the fingerprints were crafted, "-" for the other tests.
    for (int row = 0; row < 3; ++row) {
      const QString test = view.storedTable()->item(row, 2)->text();
      QCOMPARE(view.storedTable()->horizontalHeaderItem(3)->text(), QStringLiteral("crafting"));
      QCOMPARE(view.storedTable()->item(row, 3)->text(),
               test == QStringLiteral("fingerprint") ? QStringLiteral("teacher") : QStringLiteral("-"));
    }
    QVERIFY(view.showStoredResult(stored[before + 1].id));
    QCOMPARE(view.verdictText(QStringLiteral("sac")), shown.value(QStringLiteral("sac")));
    QVERIFY(!shown.value(QStringLiteral("sac")).isEmpty());
    QVERIFY(view.verdictText(QStringLiteral("agreement")).isEmpty());
  }

  // The verdict's words on both sides of the threshold, and a skipped test.
  void verdictInPlainWords() {
    const nlohmann::json copy = {{"test", "fingerprint"}, {"statistic", 0.8}, {"p_value", 1.0 / 41.0 * 1.0},
                                 {"null_size", 40}, {"null_at_least_as_close", 0}, {"closer", "higher"}};
    QCOMPARE(gui::forensicVerdict(copy, "run:12"), QStringLiteral("distilled from #12: p = 0.0244 against 40 independent models"));
    QVERIFY(!forensicDetails(copy).contains(QStringLiteral("smallest possible")));
    nlohmann::json none = copy;
    none["p_value"] = 0.41;
    QCOMPARE(gui::forensicVerdict(none, "/models/teacher.pt"),
             QStringLiteral("no evidence of copying: p = 0.41 against 40 independent models"));
    const nlohmann::json skipped = {{"test", "sac"}, {"skipped", "sac needs probabilities; API http://x answers with labels only"}};
    QCOMPARE(gui::forensicVerdict(skipped, "run:1"),
             QStringLiteral("skipped: sac needs probabilities; API http://x answers with labels only"));
  }

  // Conferrable crafting picked in the Fingerprints row, surrogates ticked:
  // the stored result says so and is what the engine gives with the same
  // surrogates; the title and the details name the crafting and the surrogates.
  // A conferrable choice core refuses (no surrogates, a surrogate in the null,
  // the suspect as a surrogate) is said in the view, and nothing is stored.
  void conferrableCraftingFromTheWidgets() {
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTeacherRun(teacher_);
    view.setSuspectRun(students_[0]);
    view.setNull(null_);
    view.setTests({QStringLiteral("fingerprint")});
    view.setInputs(24);
    auto* crafting = view.findChild<QComboBox*>(QStringLiteral("fingerprintCrafting"));
    auto* with = view.findChild<QListWidget*>(QStringLiteral("conferWith"));
    auto* against = view.findChild<QListWidget*>(QStringLiteral("conferAgainst"));
    auto* run = view.findChild<QPushButton*>(QStringLiteral("forensicsRun"));
    QVERIFY(crafting && with && against && run);
    QCOMPARE(view.fingerprintCrafting(), QStringLiteral("teacher")); // the default, as before
    QVERIFY(!with->isVisible());
    crafting->setCurrentIndex(crafting->findData(QStringLiteral("conferrable")));
    QVERIFY(with->isVisible() && against->isVisible());
    // Both lists offer the store's finished runs; the teacher's students head the students' list.
    QVERIFY(listed(with).contains(negatives_[0]) && listed(against).contains(negatives_[0]));
    QCOMPARE(sorted(listed(with).mid(0, 2)), sorted(students_));
    auto tick = [](QListWidget* list, int64_t id, bool on) {
      for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toLongLong() == id) list->item(i)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    };
    auto runAndWait = [&] {
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QTest::mouseClick(run, Qt::LeftButton);
      return finished.wait(120000);
    };

    const size_t before = s.forensicResults().size();
    QVERIFY(runAndWait()); // nothing ticked
    QVERIFY2(view.errorText().contains(QStringLiteral("conferrable crafting needs surrogate students")), qPrintable(view.errorText()));
    tick(with, students_[1], true);
    tick(against, null_[0], true);
    QVERIFY(runAndWait()); // a reference in the null
    QVERIFY2(view.errorText().contains(QStringLiteral("run %1 is in the null").arg(null_[0])), qPrintable(view.errorText()));
    tick(against, null_[0], false);
    tick(against, negatives_[0], true);
    tick(with, students_[0], true);
    QVERIFY(runAndWait()); // the suspect as a surrogate student
    QVERIFY2(view.errorText().contains(QStringLiteral("run %1 is in the null, the suspect").arg(students_[0])),
             qPrintable(view.errorText()));
    QCOMPARE(s.forensicResults().size(), before);

    tick(with, students_[0], false);
    QCOMPARE(view.surrogateStudents(), QList<int64_t>{students_[1]});
    QCOMPARE(view.surrogateReferences(), QList<int64_t>{negatives_[0]});
    QSignalSpy done(&view, &ForensicsView::testsDone);
    QVERIFY(runAndWait());
    QCOMPARE(done.count(), 1);
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));
    const auto stored = s.forensicResults();
    QCOMPARE(stored.size(), before + 1);
    const auto& r = stored.back();
    QCOMPARE(r.kind, std::string("fingerprint"));
    QCOMPARE(r.inputs["fingerprint"]["crafting"].get<std::string>(), std::string("conferrable"));
    QCOMPARE(r.inputs["fingerprint"]["confer_with"], nlohmann::json(std::vector<int64_t>{students_[1]}));
    QCOMPARE(r.inputs["fingerprint"]["confer_against"], nlohmann::json(std::vector<int64_t>{negatives_[0]}));
    QCOMPARE(r.result["notes"]["crafting"].get<std::string>(), std::string("conferrable"));
    QCOMPARE(view.storedTable()->item(0, 0)->text(), QString::number(r.id)); // newest first
    QCOMPARE(view.storedTable()->item(0, 3)->text(), QStringLiteral("conferrable"));

    ForensicOptions options;
    options.tests = {ForensicTest::Fingerprint};
    options.fingerprint.crafting = FingerprintCrafting::Conferrable;
    const auto expected = engineOutcomes(s, students_[0], ids(null_), 24, options, {students_[1]}, {negatives_[0]});
    QCOMPARE(expected.size(), size_t(1));
    QCOMPARE(r.result["statistic"].get<double>(), expected[0].statistic);
    QCOMPARE(r.result["p_value"].get<double>(), expected[0].p.p_value);
    QCOMPARE(r.result["null_statistics"].get<std::vector<double>>(), expected[0].null_statistics);

    const QString named = QStringLiteral("fingerprints crafted conferrable with surrogate students #%1 and surrogate "
                                         "references #%2").arg(students_[1]).arg(negatives_[0]);
    QVERIFY2(view.resultTitleText().contains(named), qPrintable(view.resultTitleText()));
    const QString kept = QStringLiteral("conferrable crafting kept %1 of %2 crafted, mean conferrability")
                             .arg(expected[0].notes["kept"].get<int64_t>())
                             .arg(expected[0].notes["crafted"].get<int64_t>());
    QVERIFY2(view.detailsText(QStringLiteral("fingerprint")).contains(kept), qPrintable(view.detailsText(QStringLiteral("fingerprint"))));
    // Shown again from the store alone.
    QVERIFY(view.showStoredResult(r.id));
    QVERIFY2(view.resultTitleText().contains(named), qPrintable(view.resultTitleText()));
    QVERIFY(view.detailsText(QStringLiteral("fingerprint")).contains(kept));

    // Back to teacher crafting: the hidden ticks do not reach the request.
    crafting->setCurrentIndex(crafting->findData(QStringLiteral("teacher")));
    QVERIFY(!with->isVisible());
    const ForensicRequest plain = view.request();
    QCOMPARE(plain.fingerprint.crafting, std::string("teacher"));
    QVERIFY(plain.fingerprint.confer_with.empty() && plain.fingerprint.confer_against.empty());
    // Crafting is the fingerprint test's: idle while that test is unticked.
    QVERIFY(crafting->isEnabled());
    view.setTests({QStringLiteral("agreement")});
    QVERIFY(!crafting->isEnabled());
  }

  // Another class count, another input shape: refused with the reason, nothing stored, nothing crashes.
  void mismatchedSuspectIsRefused() {
    RunStore s(store().toStdString());
    const size_t before = s.forensicResults().size();
    ModelSpec mlp8;
    mlp8.hidden = {8};
    const std::string five = dir_.filePath(QStringLiteral("five.pt")).toStdString();
    std::ofstream(five, std::ios::binary) << exportTorchScriptBytes(buildModel(mlp8, {1, 28, 28}, 5), {1, 28, 28});
    const std::string small = dir_.filePath(QStringLiteral("small.pt")).toStdString();
    std::ofstream(small, std::ios::binary) << exportTorchScriptBytes(buildModel(mlp8, {1, 8, 8}, 10), {1, 8, 8});
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setNull(null_);
    view.setInputs(16);
    for (const auto& [file, why] : {std::pair{five, QStringLiteral("10 classes")}, std::pair{small, QStringLiteral("")}}) {
      view.setSuspectFile(QString::fromStdString(file));
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QVERIFY(view.runTests());
      QVERIFY(finished.wait(120000));
      const QString error = view.errorText();
      QVERIFY2(error.contains(QFileInfo(QString::fromStdString(file)).fileName()) && error.contains(why), qPrintable(error));
      QVERIFY(!view.isBusy());
    }
    QCOMPARE(s.forensicResults().size(), before);
    // An empty choice is said, not run.
    view.setSuspectFile(QString());
    QVERIFY(!view.runTests());
    QVERIFY(view.errorText().contains(QStringLiteral("suspect")));
  }

  // Cancel stops the tests before they finish: nothing stored, the view ready again.
  void cancelStopsTheTests() {
    RunStore s(store().toStdString());
    const size_t before = s.forensicResults().size();
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setSuspectRun(students_[1]);
    view.setNull(null_);
    view.setInputs(64);
    QSignalSpy done(&view, &ForensicsView::testsDone);
    QSignalSpy finished(&view, &ForensicsView::jobFinished);
    QVERIFY(view.runTests());
    view.cancel();
    QVERIFY(finished.wait(120000));
    QCOMPARE(done.count(), 0);
    QVERIFY2(view.statusText().contains(QStringLiteral("Cancelled")), qPrintable(view.statusText()));
    QCOMPARE(s.forensicResults().size(), before);
    QVERIFY(!view.isBusy());
    QVERIFY(view.verdictText(QStringLiteral("agreement")).isEmpty());
  }

  // Preselection (null: the independent runs; positives: the teacher's
  // students; negatives: independent runs not in the null), then the ROC: the
  // page's AUC per test is rocAuc of the statistics runForensicTests gives
  // each positive and negative, oriented so that higher is closer.
  void calibrationAucMatchesRocAuc() {
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    QList<int64_t> all = null_ + negatives_;
    std::sort(all.begin(), all.end());
    QList<int64_t> preselected = view.nullRuns();
    std::sort(preselected.begin(), preselected.end());
    QCOMPARE(preselected, all);
    view.setNull(null_);
    view.setInputs(32);
    ForensicsCalibrationPage* page = view.calibrationPage();
    view.reload();
    QList<int64_t> positives = page->positives(), negatives = page->negatives();
    std::sort(positives.begin(), positives.end());
    std::sort(negatives.begin(), negatives.end());
    QCOMPARE(positives, students_);
    QCOMPARE(negatives, negatives_);

    QSignalSpy done(&view, &ForensicsView::calibrationDone);
    QSignalSpy finished(&view, &ForensicsView::jobFinished);
    QVERIFY(view.runCalibration());
    QVERIFY(finished.wait(180000));
    QVERIFY2(done.count() == 1, qPrintable(page->errorText()));

    std::map<std::string, std::vector<double>> pos, neg;
    auto collect = [&](const QList<int64_t>& models, std::map<std::string, std::vector<double>>& into) {
      for (int64_t id : models)
        for (const ForensicOutcome& o : engineOutcomes(s, id, ids(null_), 32))
          into[toString(o.test)].push_back(o.closeness == Closeness::HigherIsCloser ? o.statistic : -o.statistic);
    };
    collect(students_, pos);
    collect(negatives_, neg);
    for (const char* test : {"agreement", "sac", "fingerprint"}) {
      const double want = rocAuc(pos[test], neg[test]);
      const double got = page->auc(QString::fromLatin1(test));
      QVERIFY2(std::abs(got - want) < 1e-12, qPrintable(QStringLiteral("%1: %2 vs %3").arg(test).arg(got).arg(want)));
    }
    // One ROC series per test, plus chance; the table's pooled rows say the same AUC.
    QCOMPARE(page->chartView()->chart()->series().size(), 4);
    QTableWidget* table = page->table();
    bool found = false;
    for (int row = 0; row < table->rowCount(); ++row)
      if (table->item(row, 0)->text() == QStringLiteral("sac")) {
        QCOMPARE(table->item(row, 4)->text(), QString::number(rocAuc(pos["sac"], neg["sac"]), 'f', 3));
        found = true;
      }
    QVERIFY(found);
  }

  // The crafting row is both pages': the Calibration page crafts the
  // fingerprints conferrable with the ticked surrogates, and its ROC rows are
  // the harness's own with the same surrogates; a refused choice (no
  // surrogates, a surrogate that is a positive) shows core's reason and
  // stores nothing. The title names the crafting and surrogates.
  void calibrationWithConferrableCrafting() {
    RunStore s(store().toStdString());
    const size_t stored = s.forensicResults().size();
    ForensicsView view(s);
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setTeacherRun(teacher_);
    view.setNull(null_);
    view.setTests({QStringLiteral("fingerprint")});
    view.setInputs(64); // fewer: these tiny students follow no fingerprint of either crafting
    ForensicsCalibrationPage* page = view.calibrationPage();
    view.pages()->setCurrentWidget(page);
    page->setPositives({students_[0]});
    page->setNegatives({negatives_[0]});
    auto* crafting = view.findChild<QComboBox*>(QStringLiteral("fingerprintCrafting"));
    auto* with = view.findChild<QListWidget*>(QStringLiteral("conferWith"));
    auto* evaluate = page->findChild<QPushButton*>(QStringLiteral("calibrationEvaluate"));
    QVERIFY(crafting && with && evaluate);
    QVERIFY(crafting->isVisible()); // reachable from the Calibration page
    crafting->setCurrentIndex(crafting->findData(QStringLiteral("conferrable")));
    QVERIFY(with->isVisible());
    auto evaluateAndWait = [&] {
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QTest::mouseClick(evaluate, Qt::LeftButton);
      return finished.wait(120000);
    };

    QVERIFY(evaluateAndWait()); // no surrogates ticked
    QVERIFY2(page->errorText().contains(QStringLiteral("conferrable crafting needs surrogate students")),
             qPrintable(page->errorText()));
    QVERIFY(page->rows().empty());
    QVERIFY(page->resultTitleText().isEmpty());
    view.setSurrogateStudents({students_[0]}); // a positive as a surrogate: refused, as forensics-roc refuses it
    view.setSurrogateReferences({negatives_[1]});
    QVERIFY(evaluateAndWait());
    QVERIFY2(page->errorText().contains(QStringLiteral("run %1 is a positive").arg(students_[0])), qPrintable(page->errorText()));
    QVERIFY(page->rows().empty());
    QCOMPARE(s.forensicResults().size(), stored);

    view.setSurrogateStudents({students_[1]});
    QSignalSpy done(&view, &ForensicsView::calibrationDone);
    QVERIFY(evaluateAndWait());
    QCOMPARE(done.count(), 1);
    QVERIFY2(page->errorText().isEmpty(), qPrintable(page->errorText()));
    QCOMPARE(s.forensicResults().size(), stored); // a calibration is shown, not stored

    // The harness itself, on the same models and surrogates.
    CalibrationRequest asked;
    page->fillRequest(asked); // the positive's kind, as the page labels it
    QCOMPARE(asked.positives.size(), size_t(1));
    const RunConfig tc = RunConfig::fromJsonText(s.run(teacher_)->config_json);
    const Dataset data = loadDataset(tc.data, tc.seed);
    ForensicModel teacher = forensicModelFromRun(s, teacher_, data, "teacher");
    std::vector<ForensicModel> null;
    for (int64_t id : null_) null.push_back(forensicModelFromRun(s, id, data, "null"));
    std::vector<LabelledModel> positives{{asked.positives[0].first, forensicModelFromRun(s, students_[0], data, "pos")}};
    std::vector<LabelledModel> negatives{{"independent", forensicModelFromRun(s, negatives_[0], data, "neg")}};
    ForensicOptions options;
    options.tests = {ForensicTest::Fingerprint};
    options.inputs = 64;
    options.seed = 0;
    options.fingerprint.crafting = FingerprintCrafting::Conferrable;
    options.fingerprint_followers.push_back(forensicModelFromRun(s, students_[1], data, "with").local);
    options.fingerprint_refusers.push_back(forensicModelFromRun(s, negatives_[1], data, "against").local);
    const std::vector<HarnessRow> want =
        evaluateForensicTests(teacher.local, data, positives, negatives, null, options, {8, 16, 32, 64});
    // The crafting makes a difference here, so rows of the teacher-only crafting would not pass below.
    ForensicOptions plain = options;
    plain.fingerprint.crafting = FingerprintCrafting::Teacher;
    plain.fingerprint_followers.clear();
    plain.fingerprint_refusers.clear();
    const std::vector<HarnessRow> teacherOnly =
        evaluateForensicTests(teacher.local, data, positives, negatives, null, plain, {8, 16, 32, 64});
    QVERIFY(teacherOnly.size() == 1 && want.size() == 1);
    QVERIFY(teacherOnly[0].positive_scores != want[0].positive_scores ||
            teacherOnly[0].negative_scores != want[0].negative_scores);
    const nlohmann::json& got = page->rows();
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      nlohmann::json w = want[i].toJson();
      w["positive_scores"] = want[i].positive_scores;
      w["negative_scores"] = want[i].negative_scores;
      QVERIFY2(got[i] == w, qPrintable(QString::fromStdString(got[i].dump() + "\nvs " + w.dump())));
    }
    const QString named = QStringLiteral("fingerprints crafted conferrable with surrogate students #%1 and surrogate "
                                         "references #%2").arg(students_[1]).arg(negatives_[1]);
    QVERIFY2(page->resultTitleText().contains(named), qPrintable(page->resultTitleText()));
  }

  // A suspect behind a label-only API (distillery-cli serve, output "label",
  // serving a student): SAC-m is shown as skipped, saying why; the others run
  // on the API's answers, and the key is read from the variable named in the view.
  void labelOnlyApiSkipsSac() {
    const std::string log = dir_.filePath(QStringLiteral("requests.sqlite")).toStdString();
    const nlohmann::json config = {
        {"keys", {{{"name", "probe"}, {"key", "forensics-key-0001"}, {"budget", 100000}, {"rate_per_s", 100000}, {"burst", 100000}}}},
        {"max_batch", 256},
        {"output", {{"mode", "label"}}},
        {"log", log}};
    const QString configPath = dir_.filePath(QStringLiteral("serve.json"));
    std::ofstream(configPath.toStdString()) << config.dump();
    auto server = testsupport::startServe(DISTILLERY_CLI, {QString::number(students_[0]), QStringLiteral("--config"), configPath,
                                                           QStringLiteral("--db"), store()});
    QVERIFY(server->port > 0);
    qputenv("FORENSICS_VIEW_TEST_KEY", "forensics-key-0001");

    RunStore s(store().toStdString());
    const size_t before = s.forensicResults().size();
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setSuspectApi(QString::fromStdString(server->url()), QStringLiteral("FORENSICS_VIEW_TEST_KEY"));
    view.setNull(null_);
    view.setInputs(16);
    QSignalSpy finished(&view, &ForensicsView::jobFinished);
    QVERIFY(view.runTests());
    QVERIFY(finished.wait(180000));
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));
    const QString sac = view.verdictText(QStringLiteral("sac"));
    QVERIFY2(sac.startsWith(QStringLiteral("skipped: sac needs probabilities")) && sac.contains(QStringLiteral("labels only")),
             qPrintable(sac));
    QVERIFY(view.verdictText(QStringLiteral("agreement")).contains(QStringLiteral("against 5 independent models")));
    const auto stored = s.forensicResults();
    QCOMPARE(stored.size(), before + 3);
    QCOMPARE(stored[before].suspect, server->url());
    QVERIFY(stored[before + 1].result.contains("skipped"));
  }

  // The tab's run lists follow the store: F5, a run finishing (the run
  // table's refresh), picking the tab again and "Select the independent runs"
  // all bring in runs trained since; a null ticked by hand stays as ticked.
  void runListsFollowTheStore() {
    RunStore s(store().toStdString());
    MainWindow window(s);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    ForensicsView* view = window.showForensics();
    auto* nullList = view->findChild<QListWidget*>(QStringLiteral("nullRuns"));
    auto* suspects = view->findChild<QComboBox*>(QStringLiteral("suspectRun"));
    QVERIFY(nullList && suspects);
    QAction* refresh = nullptr;
    for (QAction* a : window.findChildren<QAction*>())
      if (a->text().remove(u'&') == QStringLiteral("Refresh")) refresh = a;
    QVERIFY(refresh);
    QCOMPARE(sorted(view->nullRuns()), sorted(null_ + negatives_)); // preselected
    // Nothing new: the list is left as it is (the window re-reads the store every few seconds while runs train).
    const QListWidgetItem* firstItem = nullList->item(0);
    nullList->setCurrentItem(nullList->item(1));
    refresh->trigger();
    QTest::qWait(20);
    QCOMPARE(nullList->item(0), firstItem);
    QCOMPARE(nullList->currentRow(), 1);

    // F5: a new independent run is listed, and joins the preselected null.
    const int64_t a = addIndependentRecord();
    QVERIFY(!listed(nullList).contains(a));
    refresh->trigger();
    QTRY_VERIFY(listed(nullList).contains(a));
    QVERIFY(view->nullRuns().contains(a));
    QVERIFY(suspects->findData(qint64(a)) >= 0);
    // The surrogate lists follow too; a tick stays while its run does.
    QVERIFY(listed(view->surrogateStudentList()).contains(a) && listed(view->surrogateReferenceList()).contains(a));
    view->setSurrogateReferences({a, negatives_[1]});

    // Untick one by hand: from now on the null is the user's.
    for (int i = 0; i < nullList->count(); ++i)
      if (nullList->item(i)->data(Qt::UserRole).toLongLong() == negatives_[0]) nullList->item(i)->setCheckState(Qt::Unchecked);
    const QList<int64_t> chosen = sorted(view->nullRuns());
    QVERIFY(!chosen.contains(negatives_[0]));

    // A run finishing: listed once the run table hears of it, left unticked.
    const int64_t b = addIndependentRecord(RunStatus::Running);
    auto* model = window.findChild<RunTableModel*>();
    QVERIFY(model);
    model->refresh();
    QTest::qWait(50);
    QVERIFY(!listed(nullList).contains(b)); // not finished: not a model yet
    RunStore(store().toStdString()).setStatus(b, RunStatus::Finished);
    model->refresh();
    QTRY_VERIFY(listed(nullList).contains(b));
    QCOMPARE(sorted(view->nullRuns()), chosen);

    // Another tab, a run trained meanwhile, the Forensics tab again: listed at once.
    window.tabs()->setCurrentIndex(0);
    const int64_t c = addIndependentRecord();
    window.tabs()->setCurrentWidget(view);
    QVERIFY(listed(nullList).contains(c));
    QCOMPARE(sorted(view->nullRuns()), chosen);
    // Run > Forensics... again keeps the choice too.
    window.showForensics();
    QCOMPARE(sorted(view->nullRuns()), chosen);

    // "Select the independent runs" reads the store first.
    const int64_t d = addIndependentRecord();
    QPushButton* again = nullptr;
    for (QPushButton* button : view->findChildren<QPushButton*>())
      if (button->text() == QStringLiteral("Select the independent runs")) again = button;
    QVERIFY(again);
    again->click();
    QCOMPARE(sorted(view->nullRuns()), sorted(null_ + negatives_ + QList<int64_t>{a, b, c, d}));

    RunStore cleanup(store().toStdString()); // the other tests count the store's independent runs
    for (int64_t id : {a, b, c, d}) cleanup.deleteRun(id);
    refresh->trigger();
    QTRY_VERIFY(!listed(nullList).contains(a));
    QCOMPARE(sorted(view->nullRuns()), sorted(null_ + negatives_));
    QVERIFY(!listed(view->surrogateReferenceList()).contains(a));
    QCOMPARE(view->surrogateReferences(), QList<int64_t>{negatives_[1]});
  }

  // The null histogram agrees with "k of n as close or closer": the suspect's
  // statistic is a bin edge, no bar spans it, and the bars on the closer side
  // hold exactly the null models at least as close (ties included).
  void nullHistogramBarsDoNotStraddleTheSuspect() {
    struct Case {
      double suspect;
      std::vector<double> null;
      bool higher;
    };
    std::vector<Case> cases;
    std::vector<double> reported; // the user's case: SAC-m 0.0718, 21 null models from 0.0768 up
    for (int i = 0; i < 21; ++i) reported.push_back(0.0768 + 0.0013 * i * i / 4.0);
    cases.push_back({0.0718, reported, false});
    cases.push_back({0.42, {0.1, 0.3, 0.42, 0.5, 0.55, 0.61, 0.7, 0.9}, true});  // a tie, values both sides
    cases.push_back({0.42, {0.1, 0.3, 0.42, 0.5, 0.55, 0.61, 0.7, 0.9}, false});
    cases.push_back({0.99, {0.61, 0.64, 0.66, 0.7}, true});                      // a copy far above the null
    cases.push_back({0.5, {0.5, 0.5, 0.5}, true});                               // every value the suspect's
    for (const Case& k : cases) {
      const NullHistogramBins bins = nullHistogramBins(k.null, k.suspect, k.higher);
      QVERIFY(std::find(bins.edges.begin(), bins.edges.end(), k.suspect) != bins.edges.end());
      QCOMPARE(bins.counts.size() + 1, bins.edges.size());
      int closer = 0, total = 0, asClose = 0;
      for (double v : k.null) asClose += k.higher ? v >= k.suspect : v <= k.suspect;
      for (size_t b = 0; b < bins.counts.size(); ++b) {
        const double lo = bins.edges[b], hi = bins.edges[b + 1];
        QVERIFY2(!(lo < k.suspect && k.suspect < hi), qPrintable(QStringLiteral("bar %1..%2 spans %3").arg(lo).arg(hi).arg(k.suspect)));
        int inside = 0; // counted here, independently of the binning code
        for (double v : k.null) inside += k.higher ? (lo <= v && v < hi) : (lo < v && v <= hi);
        QCOMPARE(bins.counts[b], inside);
        total += bins.counts[b];
        if (k.higher ? lo >= k.suspect : hi <= k.suspect) closer += bins.counts[b];
      }
      QCOMPARE(total, int(k.null.size()));
      QCOMPARE(closer, asClose);
    }

    // As drawn: no step of the outline with models in it crosses the suspect's line.
    const nlohmann::json result = {{"test", "sac"}, {"statistic", 0.0718}, {"closer", "lower"}, {"null_size", 21},
                                   {"null_at_least_as_close", 0}, {"p_value", 1.0 / 22}, {"null_statistics", reported}};
    QVERIFY(forensicDetails(result).contains(QStringLiteral("0 of 21")));
    QChart chart;
    drawNullHistogram(&chart, result);
    QAreaSeries* area = nullptr;
    for (QAbstractSeries* series : chart.series())
      if (auto* a = qobject_cast<QAreaSeries*>(series)) area = a;
    QVERIFY(area);
    const QList<QPointF> outline = area->upperSeries()->points();
    for (int i = 1; i < outline.size(); ++i)
      if (outline[i].y() > 0 && outline[i].y() == outline[i - 1].y())
        QVERIFY(outline[i - 1].x() >= 0.0718); // every bar lies above the suspect's statistic
  }

  // One number for "how many null models reach p <= 0.05": 19 (1/(19+1) = 0.05),
  // in the null's note and in the verdict alike.
  void nullNeededIsSaidOnce() {
    QVERIFY(1.0 / (19 + 1) <= kForensicLevel && 1.0 / (18 + 1) > kForensicLevel);
    QCOMPARE(forensicNullNeeded(), int64_t(19));
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.setNull(null_);
    QVERIFY2(view.nullNoteText().contains(QStringLiteral("select at least 19.")), qPrintable(view.nullNoteText()));
    const nlohmann::json small = {{"test", "agreement"}, {"statistic", 0.9}, {"p_value", 1.0 / 6}, {"null_size", 5},
                                  {"null_at_least_as_close", 0}, {"closer", "higher"}};
    QVERIFY(gui::forensicVerdict(small, "run:1").endsWith(QStringLiteral("needs at least 19")));
    view.setNull(null_ + negatives_ + students_); // 9
    QVERIFY(view.nullNoteText().startsWith(QStringLiteral("9 selected: the smallest possible p is 1/10 = 0.1.")));
    QVERIFY(view.nullNoteText().contains(QStringLiteral("at least 19")));
  }

  // The Calibration page: the null's runs are not offered as positives; too
  // few positives or negatives are warned about; the red "Tick…" error goes
  // once the user ticks what it asked for; the ROC axes reach past 0 and 1.
  void calibrationPageGuidesTheUser() {
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setNull(null_);
    ForensicsCalibrationPage* page = view.calibrationPage();
    auto* positives = page->findChild<QListWidget*>(QStringLiteral("calibrationPositives"));
    auto* negatives = page->findChild<QListWidget*>(QStringLiteral("calibrationNegatives"));
    QVERIFY(positives && negatives);
    for (int64_t id : null_) {
      QVERIFY(!listed(positives).contains(id));
      QVERIFY(!listed(negatives).contains(id));
    }
    QVERIFY(listed(positives).contains(students_[0]));

    // 2 students against 2 held-out runs: the AUC moves in quarters.
    QCOMPARE(sorted(page->positives()), students_);
    QVERIFY2(page->warningText().contains(QStringLiteral("1/4")) && page->warningText().contains(QStringLiteral("at least 5")),
             qPrintable(page->warningText()));
    // Enough on both sides (with an empty null every other run may be either): no warning.
    view.setNull({});
    const QList<int64_t> others = null_ + negatives_;
    page->setPositives(students_ + others.mid(0, 3));
    page->setNegatives(others.mid(2, 5));
    QVERIFY2(page->warningText().isEmpty(), qPrintable(page->warningText()));

    // The error asks for negatives, and goes once one is ticked by hand.
    view.setNull(null_);
    page->setNegatives({});
    QVERIFY(!view.runCalibration());
    QVERIFY(page->errorText().startsWith(QStringLiteral("Tick the negatives")));
    negatives->item(0)->setCheckState(Qt::Checked);
    QVERIFY2(page->errorText().isEmpty(), qPrintable(page->errorText()));
    QVERIFY(!page->warningText().isEmpty()); // 1 negative: still coarse

    // A perfect test's curve runs along the frame: the axes leave room around it.
    QChart chart;
    drawRocCurves(&chart, {RocSeries{QStringLiteral("sac"), {{0, 0}, {0, 1}, {1, 1}}}});
    for (QAbstractAxis* axis : chart.axes()) {
      auto* v = qobject_cast<QValueAxis*>(axis);
      QVERIFY(v);
      QVERIFY(v->min() < 0 && v->max() > 1);
    }
  }

  // The positives and negatives keep the user's ticks when the null changes;
  // the defaults leave out the crafting's surrogates (which core refuses as
  // positives or negatives), while a surrogate the user ticks stays ticked.
  void calibrationTicksSurviveTheNull() {
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setNull(null_);
    view.setFingerprintCrafting(QStringLiteral("conferrable"));
    view.setSurrogateStudents({students_[1]});
    view.setSurrogateReferences({negatives_[1]});
    ForensicsCalibrationPage* page = view.calibrationPage();
    QCOMPARE(page->positives(), QList<int64_t>{students_[0]});
    QCOMPARE(page->negatives(), QList<int64_t>{negatives_[0]});

    auto* positives = page->findChild<QListWidget*>(QStringLiteral("calibrationPositives"));
    auto* negatives = page->findChild<QListWidget*>(QStringLiteral("calibrationNegatives"));
    auto* null = view.findChild<QListWidget*>(QStringLiteral("nullRuns"));
    QVERIFY(positives && negatives && null);
    auto tick = [](QListWidget* list, int64_t id, bool on) {
      for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toLongLong() == id) {
          list->item(i)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
          return true;
        }
      return false;
    };
    QVERIFY(tick(positives, students_[0], false)); // by hand
    QVERIFY(tick(negatives, negatives_[1], true));  // a surrogate ticked on purpose: stays, for core to refuse
    QVERIFY(tick(null, null_[0], false));           // the null changes by hand
    QVERIFY(page->positives().isEmpty());
    // The kept ticks, and the run that left the null takes the default (independent: a negative).
    QCOMPARE(sorted(page->negatives()), sorted({null_[0], negatives_[0], negatives_[1]}));
    view.reload(); // a refill keeps them too
    QVERIFY(page->positives().isEmpty());
    QCOMPARE(sorted(page->negatives()), sorted({null_[0], negatives_[0], negatives_[1]}));
    // A new teacher: other copies, the defaults again.
    view.setTeacherRun(students_[0]);
    view.setTeacherRun(teacher_);
    QVERIFY(!page->positives().isEmpty());
  }

  // Each page shows its own job's error, and an error goes once the inputs it
  // complained about change.
  void eachPageShowsItsOwnError() {
    RunStore s(store().toStdString());
    ForensicsView view(s);
    view.setTeacherRun(teacher_);
    view.setSuspectRun(students_[0]);
    view.setNull(null_);
    view.setTests({QStringLiteral("fingerprint")});
    view.setInputs(16);
    view.setFingerprintCrafting(QStringLiteral("conferrable")); // no surrogates: refused
    ForensicsCalibrationPage* page = view.calibrationPage();
    const QString refused = QStringLiteral("conferrable crafting needs surrogate students");
    {
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QVERIFY(view.runCalibration());
      QVERIFY(finished.wait(120000));
    }
    QVERIFY2(page->errorText().contains(refused), qPrintable(page->errorText()));
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));
    view.setSurrogateStudents({students_[1]}); // the crafting row changed: the complaint is stale
    QVERIFY2(page->errorText().isEmpty(), qPrintable(page->errorText()));

    view.setSurrogateStudents({});
    {
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QVERIFY(view.runTests());
      QVERIFY(finished.wait(120000));
    }
    QVERIFY2(view.errorText().contains(refused), qPrintable(view.errorText()));
    QVERIFY2(page->errorText().isEmpty(), qPrintable(page->errorText()));
    view.setFingerprintCrafting(QStringLiteral("teacher"));
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));

    // A page's own list: a refused calibration's error goes when a positive is ticked or unticked.
    view.setFingerprintCrafting(QStringLiteral("conferrable"));
    {
      QSignalSpy finished(&view, &ForensicsView::jobFinished);
      QVERIFY(view.runCalibration());
      QVERIFY(finished.wait(120000));
    }
    QVERIFY(page->errorText().contains(refused));
    auto* positives = page->findChild<QListWidget*>(QStringLiteral("calibrationPositives"));
    positives->item(0)->setCheckState(positives->item(0)->checkState() == Qt::Checked ? Qt::Unchecked : Qt::Checked);
    QVERIFY2(page->errorText().isEmpty(), qPrintable(page->errorText()));
  }

  // Run ▸ Forensics… opens the tab once.
  void menuOpensTheForensicsTab() {
    RunStore s(store().toStdString());
    MainWindow window(s);
    QAction* action = nullptr;
    for (QAction* menu : window.menuBar()->actions())
      if (menu->menu())
        for (QAction* a : menu->menu()->actions())
          if (a->text().remove(u'&') == QStringLiteral("Forensics…")) action = a;
    QVERIFY(action);
    action->trigger();
    QVERIFY(window.forensicsView());
    QCOMPARE(window.tabs()->currentWidget(), window.forensicsView());
    const int tabs = window.tabs()->count();
    action->trigger();
    QCOMPARE(window.tabs()->count(), tabs);
  }
};

QTEST_MAIN(TestForensicsView)
#include "tst_forensics_view.moc"
