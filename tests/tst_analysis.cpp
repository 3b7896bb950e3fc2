// The analyses behind the run table and the charts, without a GUI (links
// distillery_base only): the run filter's syntax and matching, and the cost
// chart's points, Pareto front, ranges and export (core/export/cost_chart.h),
// checked against values worked out by hand. Runs are synthetic: written
// straight into an in-memory store.
#include "core/analysis/copy_name.h"
#include "core/analysis/defense_tradeoff.h"
#include "core/analysis/run_filter.h"
#include "core/config/run_config.h"
#include "core/export/cost_chart.h"
#include "core/export/axis_ticks.h"
#include "core/export/defense_chart.h"
#include "core/export/point_export.h"
#include "core/export/run_palette.h"
#include "core/store/run_provenance.h"
#include "core/store/run_store.h"
#include "test_support.h"

#include <QSet>
#include <QtTest>

#include <map>
#include <sstream>

using namespace distillery;
using testsupport::addRun;
using testsupport::SyntheticRun;

namespace {

QSet<int64_t> matching(const std::string& filter, const std::vector<RunRecord>& runs) {
  const RunFilter f = RunFilter::parse(filter);
  QSet<int64_t> ids;
  for (const RunRecord& r : runs)
    if (f.matches(runFilterSubject(r))) ids.insert(r.id);
  return ids;
}

// A distill run whose config is given as JSON (teacher and student specs as a user writes them).
int64_t addDistillRun(RunStore& store, const std::string& name, const nlohmann::json& teacher,
                      const nlohmann::json& summary = nlohmann::json::object()) {
  nlohmann::json c = RunConfig::defaultDistill().toJson();
  c["name"] = name;
  c["teacher"] = teacher;
  const int64_t id = store.createRun(name, "distill", c.dump());
  store.setSummary(id, summary);
  store.setStatus(id, RunStatus::Running);
  store.setStatus(id, RunStatus::Finished);
  return id;
}

} // namespace

class TestAnalysis : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void provenanceOfAnApiCloneNamesTheApi();
  void provenanceNamesTheDevicesHardware();
  // run filter (moved from tst_compare: core code, tested without widgets)
  void filterParsesTerms();
  void filterMatchesFieldsTagsAndText();
  void filterModelFamilyAndTooltipExamples();
  void filterReportsMalformedTerms();
  void copiesGetTheFirstFreeNumber();
  // cost chart
  void costChartAddsTeachersAndFindsTheFront();
  void costChartLeavesOutRunsWithoutFigures();
  void costChartSpecDrawsDotsAndAStaircase();
  void costChartCsvHoldsTheStoredFigures();
  // defense trade-off (issue 17 part 5)
  void defenseTradeoffComputesBenignCostAndGroupsPerDefense();
  void defenseTradeoffSurvivesMissingAndMistypedFields();
  void defenseChartsPlotEachRunOnceWithItsFigures();
  // Defenses tab review (issue 17, part 5 follow-up)
  void defenseSeriesSplitByQueryStrategy();
  void defenseCostAxisSpansAPointWhenEveryCostIsZero();
  void defenseCostLabelsOfOneSpotAreJoined();
};

void TestAnalysis::filterParsesTerms() {
  const RunFilter f = RunFilter::parse("kd method=kd,dkd -tag:old \"two words\" acc>=80% !starred name~swe");
  QCOMPARE(int(f.terms().size()), 7);
  const auto& t = f.terms();
  QVERIFY(t[0].kind == RunFilterTerm::Kind::Text && t[0].values[0] == "kd");
  QVERIFY(t[1].kind == RunFilterTerm::Kind::Field && t[1].field == "method");
  QCOMPARE(t[1].values, (std::vector<std::string>{"kd", "dkd"}));
  QVERIFY(t[2].kind == RunFilterTerm::Kind::Tag && t[2].negated);
  QVERIFY(t[3].kind == RunFilterTerm::Kind::Text && t[3].values[0] == "two words");
  QVERIFY(t[4].op == RunFilterTerm::Op::GreaterEqual && t[4].values[0] == "80%");
  QVERIFY(t[5].kind == RunFilterTerm::Kind::Starred && t[5].negated);
  QVERIFY(t[6].op == RunFilterTerm::Op::Contains && t[6].field == "name");
  // Not a field term: an operator without a field name before it, or a quoted operator.
  QVERIFY(RunFilter::parse("=5").terms()[0].kind == RunFilterTerm::Kind::Text);
  QVERIFY(RunFilter::parse("\"a=b\"").terms()[0].kind == RunFilterTerm::Kind::Text);
  QVERIFY(RunFilter::parse("name=\"kd, T=4\"").terms()[0].values.size() == 1); // quoted comma
  QVERIFY(RunFilter::parse("hidden=[128,64]").terms()[0].values.size() == 1);  // JSON array
  QVERIFY(RunFilter::parse("   ").empty());
}


void TestAnalysis::filterMatchesFieldsTagsAndText() {
  RunStore store(":memory:");
  SyntheticRun a;
  a.name = "kd-T4";
  a.best = 0.85;
  SyntheticRun b;
  b.name = "dkd-hot";
  b.method = "dkd";
  b.hidden = {64};
  b.temperature = 8;
  b.lr = 0.01;
  b.status = RunStatus::Failed; // as stores written before the "diverged" status kept it
  b.error = "diverged: the training loss became NaN at step 12";
  SyntheticRun c;
  c.name = "teacher";
  c.train = true;
  c.best = 0.9;
  const int64_t ia = addRun(store, a), ib = addRun(store, b), ic = addRun(store, c);
  store.setTags(ia, {"baseline", "paper"});
  store.setStarred(ia, true);
  store.setNotes(ib, "try a lower lr next time");
  const std::vector<RunRecord> runs = store.runs();

  QCOMPARE(matching("method=kd", runs), (QSet<int64_t>{ia}));
  QCOMPARE(matching("method=KD,dkd", runs), (QSet<int64_t>{ia, ib}));
  QCOMPARE(matching("student=mlp", runs), (QSet<int64_t>{ia, ib}));        // zoo name
  QCOMPARE(matching("student=mlp[64]", runs), (QSet<int64_t>{ib}));        // full label
  QCOMPARE(matching("model=cnn", runs), (QSet<int64_t>{ic}));
  QCOMPARE(matching("status!=failed", runs), (QSet<int64_t>{ia, ic}));
  QCOMPARE(matching("status:failed", runs), (QSet<int64_t>{ib}));
  QCOMPARE(matching("acc>0.8", runs), (QSet<int64_t>{ia, ic}));
  QCOMPARE(matching("acc>=86%", runs), (QSet<int64_t>{ic}));
  // As the table shows them: a bare number over 1 is a percentage for accuracies and agreements.
  QCOMPARE(matching("acc>80", runs), (QSet<int64_t>{ia, ic}));
  QCOMPARE(matching("acc>=86", runs), (QSet<int64_t>{ic}));
  QCOMPARE(matching("acc<86", runs), matching("acc<0.86", runs));
  QCOMPARE(matching("lr<5", runs), (QSet<int64_t>{ia, ib, ic})); // not an accuracy: no scaling
  QCOMPARE(matching("lr<0.005", runs), (QSet<int64_t>{ia, ic}));
  QCOMPARE(matching("lr=1e-3 task=distill", runs), (QSet<int64_t>{ia}));  // numeric equality
  QCOMPARE(matching("temperature=8", runs), (QSet<int64_t>{ib}));         // last part of method.temperature
  QCOMPARE(matching("summary.best_val_accuracy>0.86", runs), (QSet<int64_t>{ic}));
  QCOMPARE(matching("tag:baseline", runs), (QSet<int64_t>{ia}));
  QCOMPARE(matching("-tag:baseline", runs), (QSet<int64_t>{ib, ic}));
  QCOMPARE(matching("starred", runs), (QSet<int64_t>{ia}));
  QCOMPARE(matching("diverged", runs), (QSet<int64_t>{ib}));
  QCOMPARE(matching("\"lower lr\"", runs), (QSet<int64_t>{ib}));          // notes, as a phrase
  QCOMPARE(matching("PAPER", runs), (QSet<int64_t>{ia}));                 // tags are free text too
  QCOMPARE(matching("name=*T4", runs), (QSet<int64_t>{ia}));
  QCOMPARE(matching("name~hot", runs), (QSet<int64_t>{ib}));
  QCOMPARE(matching(QStringLiteral("#%1").arg(ic).toStdString(), runs), (QSet<int64_t>{ic}));
  QCOMPARE(matching("notes=", runs), (QSet<int64_t>{ia, ic}));
  QCOMPARE(matching("", runs), (QSet<int64_t>{ia, ib, ic}));
  QCOMPARE(matching("kd status=finished", runs), (QSet<int64_t>{ia}));

  // A typo matches nothing, and is reported as such.
  QVERIFY(matching("methd=kd", runs).isEmpty());
  std::vector<RunFilterSubject> subjects;
  for (const RunRecord& r : runs) subjects.push_back(runFilterSubject(r));
  std::vector<const RunFilterSubject*> pointers;
  for (const auto& s : subjects) pointers.push_back(&s);
  QCOMPARE(RunFilter::parse("methd=kd lr<1").unknownFields(pointers), std::vector<std::string>{"methd"});
}


void TestAnalysis::filterModelFamilyAndTooltipExamples() {
  RunStore store(":memory:");
  const nlohmann::json cnn = {{"zoo", "cnn"}, {"channels", {8, 16}}, {"fc", 64}, {"train", {{"epochs", 1}}}};
  const int64_t a = addDistillRun(store, "sweep-a", cnn);
  const int64_t b = addDistillRun(store, "sweep-b", cnn);
  // Taught by a stored run: the finished run's summary names the teacher's model.
  const int64_t byRun =
      addDistillRun(store, "ablation-run-teacher", {{"run", a}}, {{"teacher_model", "cnn[8,16]fc64"}});
  const int64_t mlpTaught = addDistillRun(store, "mlp-teacher", {{"zoo", "mlp"}, {"hidden", {256}}, {"train", {{"epochs", 1}}}});
  const std::vector<RunRecord> runs = store.runs();

  // "=" on a model field is the model family, or the exact model; "~" contains.
  QCOMPARE(matching("teacher=cnn", runs), (QSet<int64_t>{a, b, byRun}));
  QCOMPARE(matching("teacher=cnn[8,16]fc64", runs), (QSet<int64_t>{a, b, byRun}));
  QCOMPARE(matching("teacher=cnn[8,16]fc32", runs), QSet<int64_t>{});
  QCOMPARE(matching("teacher=mlp", runs), (QSet<int64_t>{mlpTaught}));
  QCOMPARE(matching("teacher!=cnn", runs), (QSet<int64_t>{mlpTaught}));
  QCOMPARE(matching("teacher~16", runs), (QSet<int64_t>{a, b, byRun}));
  QCOMPARE(matching("student=mlp", runs), (QSet<int64_t>{a, b, byRun, mlpTaught}));
  // A family is a whole name, not any prefix; other fields stay exact.
  QCOMPARE(matching("teacher=cn", runs), QSet<int64_t>{});
  QCOMPARE(matching("name=sweep", runs), QSet<int64_t>{});

  // Every example of the tooltip parses, and each does what the tooltip says on these runs.
  const std::string help = runFilterHelp();
  QVERIFY(help.find("teacher=cnn") != std::string::npos);
  store.setTags(b, {"baseline"});
  store.setStarred(b, true);
  SyntheticRun failed;
  failed.name = "failed-dkd";
  failed.method = "dkd";
  failed.status = RunStatus::Failed;
  failed.error = "diverged: the training loss became NaN at step 3";
  const int64_t f = addRun(store, failed);
  nlohmann::json cifar = RunConfig::defaultDistill().toJson();
  cifar["data"]["dataset"] = "cifar10";
  cifar["method"] = {{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}};
  const int64_t c10 = store.createRun("cifar", "distill", cifar.dump());
  store.setSummary(c10, {{"best_val_accuracy", 0.85}, {"test_kl", 0.2}});
  const std::vector<RunRecord> all = store.runs();
  QSet<int64_t> ids;
  for (const RunRecord& r : all) ids.insert(r.id);
  const std::map<std::string, QSet<int64_t>> expected = {
      {"method=kd", ids - QSet<int64_t>{f}},
      {"method=kd,dkd", ids},
      {"student=mlp", ids},
      {"teacher=cnn", ids - QSet<int64_t>{mlpTaught}},
      {"dataset=cifar10", {c10}},
      {"status!=failed", ids - QSet<int64_t>{f}},
      {"name=sweep*", {a, b}},
      {"name~ablation", {byRun}},
      {"acc>0.8", {c10}},
      {"acc>=80%", {c10}},
      {"acc>80", {c10}},
      {"lr<1e-3", {}},
      {"lr<1e-2", ids},
      {"temperature=4", ids},
      {"summary.test_kl<0.3", {c10}},
      {"tag:baseline", {b}},
      {"starred", {b}},
      {"diverged", {f}},
      {"#" + std::to_string(a), {a}},
      {"-tag:baseline", ids - QSet<int64_t>{b}},
  };
  for (const auto& [text, want] : expected) {
    const RunFilter filter = RunFilter::parse(text);
    QVERIFY2(filter.errors().empty(), text.c_str());
    QVERIFY2(matching(text, all) == want, text.c_str());
    // Each example term (before its #id) appears in the tooltip.
    if (text[0] != '#' && text[0] != '-' && text != "lr<1e-2")
      QVERIFY2(help.find(text) != std::string::npos, text.c_str());
  }
}


void TestAnalysis::copiesGetTheFirstFreeNumber() {
  QCOMPARE(copyName("gui-kd-1", {"gui-kd-1"}), std::string("gui-kd-1 (2)"));
  QCOMPARE(copyName("gui-kd-1", {"gui-kd-1", "gui-kd-1 (2)", "gui-kd-1 (3)"}), std::string("gui-kd-1 (4)"));
  // A copy of a copy counts on from its number; gaps are not refilled below it.
  QCOMPARE(copyName("kd (2)", {"kd", "kd (2)"}), std::string("kd (3)"));
  QCOMPARE(copyName("kd (5)", {"kd (5)"}), std::string("kd (6)"));
  // Parentheses that are not a copy number stay part of the name.
  QCOMPARE(copyName("resnet (cifar)", {"resnet (cifar)"}), std::string("resnet (cifar) (2)"));
  QCOMPARE(copyName("", {}), std::string("copy (2)"));
}

void TestAnalysis::filterReportsMalformedTerms() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.best = 0.9;
  const int64_t id = addRun(store, r);
  const std::vector<RunRecord> runs = store.runs();
  struct Case {
    const char* text;
    const char* says; // part of the message
  };
  for (const Case& c : {Case{"acc>abc", "\"abc\" is not a number"}, Case{"acc>", "a value is missing after \">\""},
                        Case{"acc=>0.8", "one operator per term"}, Case{"name~", "a value is missing"},
                        Case{"status=runing", "no status \"runing\""}, Case{"\"two words", "quote is not closed"},
                        Case{"lr<=1e-3,x", "\"x\" is not a number"}}) {
    const RunFilter f = RunFilter::parse(c.text);
    QVERIFY2(f.errors().size() == 1, c.text);
    QVERIFY2(f.errors()[0].find(c.says) != std::string::npos, f.errors()[0].c_str());
  }
  // The message names the term; the malformed term is left out, the rest still filters.
  const RunFilter f = RunFilter::parse("acc>abc method=kd");
  QVERIFY(f.errors()[0].find("\"acc>abc\"") != std::string::npos);
  QCOMPARE(int(f.terms().size()), 1);
  QCOMPARE(matching("acc>abc method=kd", runs), QSet<int64_t>{id});
  QCOMPARE(matching("acc>abc method=dkd", runs), QSet<int64_t>{});
  // Well-formed terms report nothing, including an empty "notes=" and a status wildcard.
  for (const char* ok : {"acc>0.8", "acc>=80%", "notes=", "status=fin*", "is:running", "tag:x", "name=\"a b\"", "kd"})
    QVERIFY2(RunFilter::parse(ok).errors().empty(), ok);
}


using CostRuns = testsupport::TeacherAndStudents;
using testsupport::addTeacherAndStudents;

void TestAnalysis::costChartAddsTeachersAndFindsTheFront() {
  RunStore store(":memory:");
  const CostRuns r = addTeacherAndStudents(store);
  const CostChart chart = costChartFromStore(store, {r.student, r.worse}, CostKind::InferenceFlops, CostAccuracy::Test, true);
  // The compared runs in order, then the teacher they name.
  QCOMPARE(int(chart.points.size()), 3);
  QCOMPARE(chart.points[0].run_id, r.student);
  QCOMPARE(chart.points[1].run_id, r.worse);
  QCOMPARE(chart.points[2].run_id, r.teacher);
  QVERIFY(!chart.points[0].teacher && !chart.points[1].teacher && chart.points[2].teacher);
  QCOMPARE(chart.points[0].teacher_run_id, r.teacher);
  QCOMPARE(chart.points[0].cost, 1e6);
  QCOMPARE(chart.points[0].accuracy, 0.86);
  QCOMPARE(QString::fromStdString(chart.points[2].label), QStringLiteral("#%1 teacher").arg(r.teacher));
  // student (1e6, 86%) and teacher (1e8, 90%) are optimal; worse (2e6, 80%) is beaten by student.
  QCOMPARE(chart.frontRunIds(), (std::vector<int64_t>{r.student, r.teacher}));
  QVERIFY(chart.missing.empty());
  // The compared runs keep their curves' colours; the teacher takes another.
  const auto colours = runRgbs({r.student, r.worse});
  QCOMPARE(chart.points[0].rgb, colours.at(r.student));
  QCOMPARE(chart.points[1].rgb, colours.at(r.worse));
  QVERIFY(chart.points[2].rgb != chart.points[0].rgb && chart.points[2].rgb != chart.points[1].rgb);

  // Each student against its teacher: 0.86 / 0.90 of the accuracy at 1e6 / 1e8 of the cost.
  const std::vector<CostComparison> cmp = teacherComparisons(chart);
  QCOMPARE(int(cmp.size()), 2);
  QCOMPARE(cmp[0].student, size_t(0));
  QCOMPARE(cmp[0].teacher, size_t(2));
  QVERIFY(std::abs(cmp[0].kept - 0.86 / 0.90) < 1e-15);
  QVERIFY(std::abs(cmp[0].cost_ratio - 0.01) < 1e-15);
  QVERIFY(std::abs(cmp[1].kept - 0.80 / 0.90) < 1e-15);

  // Training compute turns the order round: the teacher is cheapest and best.
  const CostChart train = costChartFromStore(store, {r.student, r.worse}, CostKind::TrainingFlops, CostAccuracy::Test, true);
  QCOMPARE(train.frontRunIds(), (std::vector<int64_t>{r.teacher}));
  // A compared run that teaches another compared run is a teacher too, and is not added twice.
  const CostChart both = costChartFromStore(store, {r.teacher, r.student}, CostKind::InferenceFlops,
                                            CostAccuracy::BestValidation, false);
  QCOMPARE(int(both.points.size()), 2);
  QVERIFY(both.points[0].teacher);
  QCOMPARE(both.points[1].accuracy, 0.87);
}

void TestAnalysis::costChartLeavesOutRunsWithoutFigures() {
  RunStore store(":memory:");
  const CostRuns r = addTeacherAndStudents(store);
  SyntheticRun running;
  running.name = "no-test-yet";
  running.status = RunStatus::Running;
  const int64_t noTest = addRun(store, running); // no test_accuracy in its summary
  SyntheticRun zero;
  zero.name = "free";
  zero.test = 0.5;
  zero.wall_s = 0;
  const int64_t free = addRun(store, zero);
  const CostChart log = costChartFromStore(store, {r.student, noTest, free}, CostKind::WallTime, CostAccuracy::Test, true);
  QCOMPARE(log.missing, (std::vector<int64_t>{noTest, free})); // no accuracy; a zero cost on a log axis
  const CostChart linear = costChartFromStore(store, {r.student, noTest, free}, CostKind::WallTime, CostAccuracy::Test, false);
  QCOMPARE(linear.missing, (std::vector<int64_t>{noTest}));
  QCOMPARE(int(linear.points.size()), 3); // student, free, and the teacher
  // A run the store lacks is skipped, not an error.
  QCOMPARE(int(costChartFromStore(store, {999}, CostKind::WallTime, CostAccuracy::Test, false).points.size()), 0);
}

void TestAnalysis::costChartSpecDrawsDotsAndAStaircase() {
  RunStore store(":memory:");
  const CostRuns r = addTeacherAndStudents(store);
  const CostChart chart = costChartFromStore(store, {r.student, r.worse}, CostKind::InferenceFlops, CostAccuracy::Test, true);
  // The visible range: a factor 1.8 around the costs on a log axis; accuracy
  // 80..90% padded by 8% of the span.
  const ChartBounds range = costChartRange(chart);
  QCOMPARE(range.x_min, 1e6 / 1.8);
  QCOMPARE(range.x_max, 1e8 * 1.8);
  QVERIFY(std::abs(range.y_min - 79.2) < 1e-9);
  QVERIFY(std::abs(range.y_max - 90.8) < 1e-9);

  const ChartSpec spec = costChartSpec(chart);
  QVERIFY(spec.log_x);
  QCOMPARE(QString::fromStdString(spec.xTitle()), QStringLiteral("Inference cost (FLOPs per sample)"));
  QCOMPARE(QString::fromStdString(spec.yTitle()), QStringLiteral("Test accuracy (%)"));
  QCOMPARE(int(spec.curves.size()), 4); // the front, then a dot per run
  const ChartCurve& front = spec.curves[0];
  QVERIFY(front.dashed);
  QCOMPARE(front.run_id, int64_t(0));
  // Up from the student to the teacher, then flat to the right edge.
  QCOMPARE(front.raw.x, (std::vector<double>{1e6, 1e8, 1e8, 1e8 * 1.8}));
  QCOMPARE(front.raw.y, (std::vector<double>{86, 86, 90, 90}));
  for (size_t i = 0; i < chart.points.size(); ++i) {
    const ChartCurve& dot = spec.curves[i + 1];
    QCOMPARE(dot.run_id, chart.points[i].run_id);
    QCOMPARE(dot.raw.x, std::vector<double>{chart.points[i].cost});
    QCOMPARE(dot.raw.y, std::vector<double>{chart.points[i].accuracy * 100});
  }
  QVERIFY(QString::fromStdString(spec.curves[3].label).endsWith(QStringLiteral(" (teacher)")));

  // Issue 17 part 4: money with local teachers is 0 for everyone; the axis reads 0..1, not 0..1e-9.
  CostChart free;
  free.cost = CostKind::Money;
  free.points = {chart.points[0], chart.points[2]};
  for (CostPoint& p : free.points) p.cost = 0;
  const ChartBounds zero = costChartRange(free);
  QCOMPARE(zero.x_min, 0.0);
  QCOMPARE(zero.x_max, 1.0);
}

void TestAnalysis::costChartCsvHoldsTheStoredFigures() {
  RunStore store(":memory:");
  const CostRuns r = addTeacherAndStudents(store);
  const CostChart chart = costChartFromStore(store, {r.student, r.worse}, CostKind::TrainingFlops, CostAccuracy::Test, true);
  std::ostringstream csv;
  QCOMPARE(writeCostChartCsv(chart, csv), int64_t(3));
  const QString want = QStringLiteral("run_id,run,role,teacher_run_id,train_flops,test_accuracy,front,counted\n"
                                      "%1,#%1 student,run,%3,6e+12,0.86,,\"student training 6T FLOPs; teacher training: in its own run #%3, not here\"\n"
                                      "%2,#%2 worse,run,%3,5e+12,0.8,,\"student training 5T FLOPs; teacher training: in its own run #%3, not here\"\n"
                                      "%3,#%3 teacher,teacher,,4e+12,0.9,1,training 4T FLOPs\n")
                           .arg(r.student)
                           .arg(r.worse)
                           .arg(r.teacher);
  QCOMPARE(QString::fromStdString(csv.str()), want);
}

// Hand-made API runs: benign cost = reference accuracy - benign accuracy,
// series per (defense, attacker method), each by increasing queries.
void TestAnalysis::defenseTradeoffComputesBenignCostAndGroupsPerDefense() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t rs5k = addApiRun(store, "rs-5k", "kd", apiSummary("rs", 5000, 0.851, 0.893, 0.80), 0.84);
  const int64_t rs1k = addApiRun(store, "rs-1k", "kd", apiSummary("rs", 1000, 0.851, 0.893, 0.70), 0.79);
  const int64_t rsHard = addApiRun(store, "rs-hard", "hard_label", apiSummary("rs", 2000, 0.851, 0.893, 0.75));
  const int64_t none = addApiRun(store, "none", "kd", apiSummary("none", 5000, 0.893, 0.893, 0.95), 0.88);
  SyntheticRun plain;
  plain.name = "plain";
  plain.test = 0.9;
  const int64_t plainId = addRun(store, plain);

  const DefenseTradeoff t = defenseTradeoffFromStore(store, {rs5k, rs1k, rsHard, plainId, none});
  QCOMPARE(int(t.points.size()), 4);
  QCOMPARE(t.not_api, std::vector<int64_t>{plainId});
  std::map<int64_t, const DefensePoint*> by;
  for (const DefensePoint& p : t.points) by[p.run_id] = &p;
  QVERIFY(by[rs5k]->benign_cost.has_value());
  QVERIFY(std::abs(*by[rs5k]->benign_cost - 0.042) < 1e-12);
  QCOMPARE(*by[none]->benign_cost, 0.0);
  QCOMPARE(*by[rs5k]->fidelity, 0.80);
  QCOMPARE(*by[rs5k]->clone_accuracy, 0.84);
  QVERIFY(!by[rsHard]->clone_accuracy); // no test_accuracy in its summary
  QCOMPARE(*by[rs1k]->queries, int64_t(1000));
  QCOMPARE(by[rs5k]->strategy, std::string("train"));
  QCOMPARE(by[rsHard]->method, std::string("hard_label")); // from the config's method.name
  QVERIFY(by[rsHard]->label_only);
  QVERIFY(!by[rs5k]->label_only);

  // Defenses in order, soft-label attackers before label-only ones.
  QCOMPARE(int(t.series.size()), 3);
  QCOMPARE(t.series[0].defense, std::string("none"));
  QCOMPARE(t.series[1].defense, std::string("rs"));
  QCOMPARE(t.series[1].method, std::string("kd"));
  QCOMPARE(t.series[2].defense, std::string("rs"));
  QVERIFY(t.series[2].label_only);
  // By queries, whatever order the runs came in.
  QCOMPARE(int(t.series[1].points.size()), 2);
  QCOMPARE(t.points[t.series[1].points[0]].run_id, rs1k);
  QCOMPARE(t.points[t.series[1].points[1]].run_id, rs5k);
  // One colour per defense: both attackers of rs share it, none has another.
  QCOMPARE(t.series[1].rgb, t.series[2].rgb);
  QVERIFY(t.series[0].rgb != t.series[1].rgb);

  const TableData table = defenseTable(t);
  QCOMPARE(int(table.rows.size()), 4);
  QCOMPARE(table.headers[5], std::string("Benign cost (pp)"));
  // Table order: none, rs kd 1k, rs kd 5k, rs hard_label.
  QCOMPARE(table.rows[0][0], std::string("#") + std::to_string(none) + " none");
  QCOMPARE(table.rows[2][0], std::string("#") + std::to_string(rs5k) + " rs-5k");
  QCOMPARE(table.rows[2][4], std::string("5000"));
  QCOMPARE(table.rows[2][5], std::string("4.20"));
  QCOMPARE(table.rows[2][6], std::string("84.00"));
  QCOMPARE(table.rows[2][7], std::string("80.00"));
  QCOMPARE(table.rows[3][2], std::string("hard_label (labels only)"));
  QCOMPARE(table.rows[3][6], std::string("\u2013")); // no clone accuracy
}

void TestAnalysis::defenseTradeoffSurvivesMissingAndMistypedFields() {
  using testsupport::addApiRun;
  RunStore store(":memory:");
  // No defense label: described from the output config.
  const int64_t described = addApiRun(
      store, "described", "kd",
      {{"output", {{"mode", "topk"}, {"k", 3}, {"transforms", {{{"name", "reverse_sigmoid"}, {"beta", 0.7}}}}}},
       {"queries", 100}});
  // Nulls (not measured), a string where a number belongs, a negative count.
  const int64_t nulls = addApiRun(store, "nulls", "kd",
                                  {{"defense", "mad"}, {"queries", -5}, {"benign_accuracy", nullptr},
                                   {"reference_test_accuracy", 0.9}, {"fidelity", "high"}, {"strategy", 7}});
  // "api" that is no object, and a summary without anything.
  const int64_t garbage = store.createRun("garbage", "distill", "{not json");
  store.setSummary(garbage, {{"api", "yes"}});
  const int64_t empty = addApiRun(store, "empty", "kd", nlohmann::json::object());

  const DefenseTradeoff t = defenseTradeoffFromStore(store, {described, nulls, garbage, empty, 999});
  QCOMPARE(t.not_api, std::vector<int64_t>{garbage}); // 999 does not exist: skipped
  QCOMPARE(int(t.points.size()), 3);
  QCOMPARE(t.points[0].defense, std::string("reverse_sigmoid(beta=0.7) + topk(k=3)"));
  QCOMPARE(*t.points[0].queries, int64_t(100));
  QVERIFY(!t.points[0].benign_cost);
  const DefensePoint& n = t.points[1];
  QCOMPARE(n.defense, std::string("mad"));
  QVERIFY(!n.queries);
  QVERIFY(!n.benign_accuracy);
  QVERIFY(!n.benign_cost); // reference alone is not enough
  QVERIFY(!n.fidelity);
  QVERIFY(n.strategy.empty());
  QCOMPARE(t.points[2].defense, std::string("unknown defense"));
  QCOMPARE(int(defenseTable(t).rows.size()), 3);
  // Nothing to plot: both charts are empty, not filled with zeros.
  QVERIFY(defenseCostChartSpec(t).curves.empty());
  const ChartSpec q = defenseQueriesChartSpec(t);
  QVERIFY(q.curves.empty());
}

void TestAnalysis::defenseChartsPlotEachRunOnceWithItsFigures() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t a = addApiRun(store, "a", "kd", apiSummary("noise", 4000, 0.88, 0.89, 0.90));
  const int64_t b = addApiRun(store, "b", "kd", apiSummary("noise", 500, 0.88, 0.89, 0.60));
  const int64_t h = addApiRun(store, "h", "hard_label", apiSummary("noise", 1000, 0.88, 0.89, 0.55));
  nlohmann::json noFidelity = apiSummary("noise", 2000, 0.88, 0.89, 0.0);
  noFidelity["fidelity"] = nullptr;
  const int64_t c = addApiRun(store, "c", "kd", noFidelity);
  const DefenseTradeoff t = defenseTradeoffFromStore(store, {a, b, h, c});

  const ChartSpec cost = defenseCostChartSpec(t);
  QCOMPARE(int(cost.curves.size()), 2); // noise · kd, noise · hard_label
  const ChartCurve& kd = cost.curves[0];
  QVERIFY(kd.markers && !kd.line);
  QCOMPARE(int(kd.raw.size()), 2); // c has no fidelity
  QVERIFY(std::abs(kd.raw.x[0] - 1.0) < 1e-9); // (0.89 - 0.88) in points
  QCOMPARE(kd.raw.y[0], 60.0);                 // b first: fewer queries
  QCOMPARE(kd.point_labels, (std::vector<std::string>{"#" + std::to_string(b), "#" + std::to_string(a)}));
  QVERIFY(*cost.x_min <= 0.0); // zero cost stays in view
  QVERIFY(*cost.y_max <= 101.0);

  const ChartSpec queries = defenseQueriesChartSpec(t);
  QVERIFY(queries.log_x);
  QCOMPARE(int(queries.curves.size()), 2);
  QCOMPARE(queries.curves[0].raw.x, (std::vector<double>{500, 4000}));
  QCOMPARE(queries.curves[0].raw.y, (std::vector<double>{60, 90}));
  QVERIFY(queries.curves[0].line && !queries.curves[0].dashed);
  QVERIFY(queries.curves[1].dashed); // label-only attacker
  QCOMPARE(queries.curves[1].label, std::string("noise \u00b7 hard_label"));
  QVERIFY(*queries.x_min < 500 && *queries.x_max > 4000);
}

// A clone trained on transfer data and one trained on in-distribution queries
// are two attacks: one line through both jumped between them at 5k. Series
// are per defense, attacker and strategy; the legend names the strategy when
// the selection mixes them, and the other strategies are drawn apart.
void TestAnalysis::defenseSeriesSplitByQueryStrategy() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t train5 = addApiRun(store, "train-5k", "kd", apiSummary("probs", 5000, 0.89, 0.89, 0.89, "train"));
  const int64_t train50 = addApiRun(store, "train-50k", "kd", apiSummary("probs", 50000, 0.89, 0.89, 0.93, "train"));
  const int64_t transfer5 = addApiRun(store, "transfer-5k", "kd", apiSummary("probs", 5000, 0.89, 0.89, 0.33, "transfer"));
  const int64_t hardTransfer =
      addApiRun(store, "hard-transfer", "hard_label", apiSummary("probs", 5000, 0.89, 0.89, 0.27, "transfer"));
  const DefenseTradeoff t = defenseTradeoffFromStore(store, {transfer5, train50, hardTransfer, train5});
  QCOMPARE(t.strategies, (std::vector<std::string>{"train", "transfer"}));
  QCOMPARE(int(t.series.size()), 3); // kd·train, kd·transfer, hard_label·transfer
  QCOMPARE(t.series[0].strategy, std::string("train"));
  QCOMPARE(t.series[0].points.size(), size_t(2));
  QVERIFY(!t.series[0].other_strategy);
  QCOMPARE(t.series[1].strategy, std::string("transfer"));
  QVERIFY(t.series[1].other_strategy);
  QCOMPARE(t.series[1].label, std::string("probs \u00b7 kd, transfer"));
  QCOMPARE(t.series[0].rgb, t.series[1].rgb); // one colour per defense still

  const ChartSpec q = defenseQueriesChartSpec(t);
  QCOMPARE(int(q.curves.size()), 3);
  QCOMPARE(q.curves[0].raw.y, (std::vector<double>{89, 93})); // no jump down to the transfer run
  QCOMPARE(q.curves[1].raw.y, (std::vector<double>{33}));
  QVERIFY(!q.curves[0].dotted && !q.curves[0].hollow_markers);
  QVERIFY(q.curves[1].dotted && q.curves[1].hollow_markers);
  QVERIFY(q.curves[2].dotted && q.curves[2].square_markers);
  QCOMPARE(q.curves[2].label, std::string("probs \u00b7 hard_label, transfer"));
  const ChartSpec c = defenseCostChartSpec(t);
  QVERIFY(c.curves[1].hollow_markers && !c.curves[0].hollow_markers);

  // The table follows the series: train rows, then transfer.
  const TableData table = defenseTable(t);
  QCOMPARE(table.rows[0][3], std::string("train"));
  QCOMPARE(table.rows[1][3], std::string("train"));
  QCOMPARE(table.rows[2][3], std::string("transfer"));

  // One strategy: labels as before, nothing drawn apart.
  const DefenseTradeoff one = defenseTradeoffFromStore(store, {train5, train50});
  QCOMPARE(one.series.size(), size_t(1));
  QCOMPARE(one.series[0].label, std::string("probs \u00b7 kd"));
  QVERIFY(!defenseQueriesChartSpec(one).curves[0].dotted);
}

// Undefended APIs cost honest users nothing: the x axis was -0.06..0.14
// (ticks at hundredths of a point). It spans a point at least, zero in view
// near the left edge.
void TestAnalysis::defenseCostAxisSpansAPointWhenEveryCostIsZero() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t a = addApiRun(store, "a", "kd", apiSummary("probs", 5000, 0.89, 0.89, 0.89));
  const int64_t b = addApiRun(store, "b", "kd", apiSummary("topk", 5000, 0.89, 0.89, 0.30));
  const ChartSpec spec = defenseCostChartSpec(defenseTradeoffFromStore(store, {a, b}));
  QVERIFY(*spec.x_min < 0 && *spec.x_min >= -0.5);
  QVERIFY(*spec.x_max >= 1.0 && *spec.x_max <= 1.5);
  const std::vector<AxisTick> ticks = linearTicks(*spec.x_min, *spec.x_max, 6);
  QVERIFY(ticks.size() >= 3);
  QVERIFY(ticks[1].value - ticks[0].value >= 0.2 - 1e-9); // no hundredths
  QVERIFY(std::any_of(ticks.begin(), ticks.end(), [](const AxisTick& t) { return t.label == "0"; }));
  QVERIFY(std::any_of(ticks.begin(), ticks.end(), [](const AxisTick& t) { return t.label == "1"; }));
  // Larger costs keep their own range.
  const int64_t c = addApiRun(store, "c", "kd", apiSummary("noise", 5000, 0.79, 0.89, 0.50));
  const ChartSpec wide = defenseCostChartSpec(defenseTradeoffFromStore(store, {a, c}));
  QVERIFY(*wide.x_max > 10.0 && *wide.x_max < 12.0);
}

// Runs of equal figures (four undefended runs at ~89% fidelity) drew their
// ids on top of each other. They share one label at their highest point; no two labels
// are left on one spot, and every run's id is still shown once.
void TestAnalysis::defenseCostLabelsOfOneSpotAreJoined() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t a = addApiRun(store, "a", "kd", apiSummary("probs", 5000, 0.89, 0.89, 0.890));
  const int64_t b = addApiRun(store, "b", "hard_label", apiSummary("probs", 5000, 0.89, 0.89, 0.891));
  const int64_t c = addApiRun(store, "c", "kd", apiSummary("topk", 50000, 0.89, 0.89, 0.889));
  const int64_t far = addApiRun(store, "far", "kd", apiSummary("topk", 5000, 0.89, 0.89, 0.30));
  const ChartSpec spec = defenseCostChartSpec(defenseTradeoffFromStore(store, {far, c, b, a}));
  struct Label {
    double x, y;
    std::string text;
  };
  std::vector<Label> labels;
  for (const ChartCurve& curve : spec.curves)
    for (size_t i = 0; i < curve.point_labels.size(); ++i)
      if (!curve.point_labels[i].empty()) labels.push_back({curve.raw.x[i], curve.raw.y[i], curve.point_labels[i]});
  QCOMPARE(int(labels.size()), 2);
  const auto joined = "#" + std::to_string(a) + ",#" + std::to_string(b) + ",#" + std::to_string(c);
  // At the cluster's highest point (b's), above which the tab and the painter put labels.
  QVERIFY(std::any_of(labels.begin(), labels.end(),
                      [&](const Label& l) { return l.text == joined && std::abs(l.y - 89.1) < 1e-9; }));
  QVERIFY(std::any_of(labels.begin(), labels.end(), [&](const Label& l) { return l.text == "#" + std::to_string(far); }));
  const double dx = (*spec.x_max - *spec.x_min) * kLabelShareX, dy = (*spec.y_max - *spec.y_min) * kLabelShareY;
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j)
      QVERIFY(std::abs(labels[i].x - labels[j].x) >= dx || std::abs(labels[i].y - labels[j].y) >= dy);
}

QTEST_GUILESS_MAIN(TestAnalysis)
// The report's provenance block: an API clone's teacher is the API, not the
// evaluation-only reference run (a new user's walk found "zoo spec ..., trained first").
void TestAnalysis::provenanceOfAnApiCloneNamesTheApi() {
  RunStore store(":memory:");
  const int64_t reference = store.createRun("teacher", "train", RunConfig::defaultDistill().baseline().toJson().dump());
  RunConfig c = RunConfig::defaultDistill();
  c.teacher.kind = TeacherSource::Kind::Api;
  c.teacher.api.url = "http://127.0.0.1:8311";
  c.teacher.api.max_queries = 5000;
  c.teacher.api.reference_run = reference;
  c.select_best = false;
  const int64_t id = store.createRun("clone", "distill", c.toJson().dump());
  store.setSummary(id, {{"method", "kd"},
                        {"teacher_run_id", reference},
                        {"api", {{"defense", "topk(k=3)"}, {"reference_run", reference}, {"server_identity", "abc123"}}}});
  std::map<std::string, std::string> rows;
  for (const auto& item : runProvenance(*store.run(id), &store)) rows[item.label] = item.value;
  QCOMPARE(rows["Teacher"], std::string("API http://127.0.0.1:8311 (topk(k=3))"));
  QCOMPARE(rows["Teacher API identity"], std::string("abc123"));
  QVERIFY(rows["Evaluation reference"].find("run #" + std::to_string(reference)) == 0);
  QVERIFY(!rows.count("Teacher model SHA-256"));
}

// Issue 20: a benchmark's figures mean little without the hardware: the
// provenance names the GPU and its memory the run recorded; an older run
// without the name shows the device alone.
void TestAnalysis::provenanceNamesTheDevicesHardware() {
  RunStore store(":memory:");
  const std::string config = RunConfig::defaultDistill().baseline().toJson().dump();
  const int64_t gpu = store.createRun("on a GPU", "train", config);
  store.setSummary(gpu, {{"device", "cuda:0"}, {"device_name", "NVIDIA H200, 139.8 GiB"}});
  const int64_t old = store.createRun("before issue 20", "train", config);
  store.setSummary(old, {{"device", "cpu"}});
  auto device = [&](int64_t id) {
    for (const auto& item : runProvenance(*store.run(id), &store))
      if (item.label == "Device") return item.value;
    return std::string("(no row)");
  };
  QCOMPARE(device(gpu), std::string("cuda:0 (NVIDIA H200, 139.8 GiB)"));
  QCOMPARE(device(old), std::string("cpu"));
}

#include "tst_analysis.moc"
