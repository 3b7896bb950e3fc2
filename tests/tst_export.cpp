// Exports a researcher puts into a paper: curves that keep every spike, tables
// that paste into Markdown and LaTeX, charts with legends and axis titles in
// PNG/SVG/PDF, data at full resolution, reports that escape what users typed.
// Also drives distillery-cli's export-chart, report and table commands.
#include "core/export/axis_ticks.h"
#include "core/export/chart_painter.h"
#include "core/export/cost_chart.h"
#include "core/analysis/config_diff.h"
#include "core/export/ema_smoothing.h"
#include "core/analysis/metric_catalog.h"
#include "core/base/number_format.h"
#include "core/analysis/pareto_front.h"
#include "core/export/point_export.h"
#include "core/export/run_palette.h"
#include "core/store/run_store.h"
#include "core/analysis/run_summary_table.h"
#include "core/export/series_decimation.h"
#include "core/export/svg_canvas.h"
#include "core/export/table_export.h"
#include "render/chart_export.h"
#include "render/report_export.h"
#include "core/export/report_content.h"
#include "core/export/text_report.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <sstream>

using namespace distillery;

namespace {

const std::string kScriptName = "kd <script>alert(1)</script>";
const std::string kSpecialName = "base & 50% _x_ #1";

using testsupport::point;

nlohmann::json summary(double acc, int64_t params) {
  return {{"test_accuracy", acc},
          {"best_val_accuracy", acc + 0.004},
          {"final_val_accuracy", acc + 0.001},
          {"test_agreement", 0.93},
          {"test_kl", 0.0712},
          {"params", params},
          {"flops_per_sample", 3.1e6},
          {"compression", 12.5},
          {"wall_s", 41.7},
          {"samples_per_s", 5321.0},
          {"train_flops", 4.2e12},
          {"teacher_queries", 3.2e5},
          {"device", "cpu"},
          {"dataset", "fashion-mnist"},
          {"dataset_path", "/data/fashion-mnist"},
          {"dataset_hash", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
          {"app_version", "0.1.0"},
          {"libtorch_version", "1.13.1"},
          {"method", "kd"},
          {"teacher", {{"kind", "torchscript"}, {"path", "/models/teacher.pt"}, {"sha256", "abc123def456"}}}};
}

// Records what the chart painter draws, to check layout decisions.
class RecordingCanvas : public ChartCanvas {
public:
  struct Line {
    CanvasRole role;
    int64_t run_id;
    std::vector<CanvasPoint> points;
  };
  struct Text {
    CanvasRole role;
    std::string text;
    double x = 0, y = 0; // the baseline point
  };
  struct Dot {
    CanvasPoint centre;
    double radius;
    uint32_t rgb;
    int64_t run_id;
  };
  std::vector<Line> lines;
  std::vector<Text> texts;
  std::vector<Dot> dots;

  double textWidth(const std::string& s, const TextStyle& st) override { return estimatedTextWidth(s, st.size, st.bold); }
  void fillRect(const CanvasRect&, uint32_t, double, CanvasRole) override {}
  void strokeRect(const CanvasRect&, const Stroke&, CanvasRole) override {}
  void line(CanvasPoint a, CanvasPoint b, const Stroke&, CanvasRole role) override { lines.push_back({role, 0, {a, b}}); }
  void path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke&, CanvasRole role, int64_t run) override {
    for (const auto& piece : pieces) lines.push_back({role, run, piece});
  }
  void dot(CanvasPoint c, double r, uint32_t rgb, CanvasRole, int64_t run) override { dots.push_back({c, r, rgb, run}); }
  void text(double x, double y, const std::string& s, const TextStyle&, CanvasRole role) override {
    texts.push_back({role, s, x, y});
  }
  void pushClip(const CanvasRect&) override {}
  void popClip() override {}
};

bool segmentCrossesRect(CanvasPoint a, CanvasPoint b, const CanvasRect& r) {
  // Sampled finely: enough for a test, independent of the painter's own clipping code.
  for (int i = 0; i <= 200; ++i) {
    const double t = i / 200.0;
    if (r.contains(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))) return true;
  }
  return false;
}

QString readAll(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

} // namespace

class TestExport : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  std::string db_;
  int64_t kd_ = 0, base_ = 0, teacher_ = 0;
  int64_t nan_points_ = 0;

  QString path(const QString& name) const { return dir_.filePath(name); }
  std::string spath(const QString& name) const { return path(name).toStdString(); }

  using Cli = testsupport::ProcessResult;
  static Cli cli(const QStringList& args) {
    QProcessEnvironment env = testsupport::cliEnvironment();
    // The CLI must pick the offscreen platform itself.
    // Nor a runtime dir (cron, containers): its warning must not reach stderr (walk item j).
    for (const char* name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR"})
      env.remove(QString::fromLatin1(name));
    return testsupport::runCli(args, 120000, env);
  }

  ChartSpec spec(const std::string& metric, XAxisKind x = XAxisKind::Step) {
    RunStore store(db_);
    return chartSpecFromStore(store, {kd_, base_}, metric, x);
  }

  std::string pdfText(const QString& pdf) {
    QProcess p;
    p.start("pdftotext", {"-layout", pdf, "-"});
    if (!p.waitForFinished(30000)) return {};
    return QString::fromUtf8(p.readAllStandardOutput()).toStdString();
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    db_ = spath("export.sqlite");
    RunStore store(db_);
    teacher_ = store.createRun("teacher-cnn", "train", R"({"name":"teacher-cnn","task":"train","seed":0})");
    kd_ = store.createRun(kScriptName, "distill",
                          R"({"name":"kd","task":"distill","method":{"name":"kd","temperature":4},"seed":0,)"
                          R"("optim":{"lr":0.003},"data":{"path":"/data/fashion-mnist"}})");
    base_ = store.createRun(kSpecialName, "train",
                            R"({"name":"base","task":"train","seed":0,"optim":{"lr":0.001},)"
                            R"("data":{"path":"/data/fashion-mnist"}})");
    std::vector<MetricPoint> pts;
    for (int64_t s = 0; s <= 2000; s += 10) {
      const double t = double(s) / 2000.0;
      // A loss spike at step 1000 in kd, a NaN at step 1500.
      double kd_loss = 2.3 * std::exp(-3 * t) + 0.2;
      if (s == 1000) kd_loss = 9.5;
      if (s == 1500) kd_loss = std::numeric_limits<double>::quiet_NaN();
      pts.push_back(point(kd_, "train_loss", s, kd_loss));
      pts.push_back(point(base_, "train_loss", s, 2.3 * std::exp(-2 * t) + 0.3));
      pts.push_back(point(teacher_, "train_loss", s, 2.3 * std::exp(-4 * t) + 0.1));
      if (s % 100 == 0) {
        pts.push_back(point(kd_, "val_accuracy", s, 0.70 + 0.18 * (1 - std::exp(-4 * t))));
        pts.push_back(point(base_, "val_accuracy", s, 0.68 + 0.16 * (1 - std::exp(-3 * t))));
      }
    }
    nan_points_ = 1;
    store.appendPoints(pts);
    store.setSummary(kd_, summary(0.874, 52000));
    nlohmann::json base_summary = summary(0.851, 52000);
    base_summary.erase("teacher");
    base_summary.erase("compression");
    base_summary["method"] = nullptr;
    store.setSummary(base_, base_summary);
    store.setSummary(teacher_, summary(0.912, 650000));
    store.setStatus(kd_, RunStatus::Finished);
    store.setStatus(base_, RunStatus::Finished);
    store.setTags(kd_, {"<b>bold</b>", "paper"});
    store.setNotes(kd_, "<script>alert('notes')</script>\nsecond line & more");
  }

  // ---- decimation and smoothing ----------------------------------------------------
  void decimationKeepsExtremesAndBoundsCount() {
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0, 1);
    XYSeries s;
    for (int i = 0; i < 100000; ++i) {
      s.x.push_back(i);
      s.y.push_back(noise(rng));
    }
    const int columns = 300;
    const XYSeries d = decimateMinMax(s, 0, 99999, columns);
    QVERIFY(d.size() <= size_t(2 * columns + 2));
    QVERIFY(d.size() > size_t(columns)); // not a trivial reduction either
    const double lo = *std::min_element(s.y.begin(), s.y.end()), hi = *std::max_element(s.y.begin(), s.y.end());
    QVERIFY(std::find(d.y.begin(), d.y.end(), lo) != d.y.end());
    QVERIFY(std::find(d.y.begin(), d.y.end(), hi) != d.y.end());
    QVERIFY(std::is_sorted(d.x.begin(), d.x.end()));
  }

  void singleSpikeInAMillionPointsSurvives() {
    XYSeries s;
    s.x.resize(1000000);
    s.y.assign(1000000, 0.5);
    for (size_t i = 0; i < s.x.size(); ++i) s.x[i] = double(i);
    s.y[654321] = 40.0;
    s.y[123457] = -3.0;
    const XYSeries d = decimateMinMax(s, 0, 999999, 800);
    QVERIFY(d.size() <= 1602);
    QVERIFY(std::find(d.y.begin(), d.y.end(), 40.0) != d.y.end());
    QVERIFY(std::find(d.y.begin(), d.y.end(), -3.0) != d.y.end());
  }

  void emaIsDebiased() {
    const std::vector<double> constant(20, 3.5);
    for (double v : smoothEma(constant, 0.9)) QVERIFY(std::abs(v - 3.5) < 1e-12);
    // By hand, weight 0.5 on 1, 2, 3: averages 0.5, 1.25, 2.125 over 1 - 0.5^n.
    const auto s = smoothEma({1, 2, 3}, 0.5);
    QVERIFY(std::abs(s[0] - 1.0) < 1e-12);
    QVERIFY(std::abs(s[1] - 1.25 / 0.75) < 1e-12);
    QVERIFY(std::abs(s[2] - 2.125 / 0.875) < 1e-12);
    // A NaN stays visible and does not poison what follows.
    const auto n = smoothEma({1, std::numeric_limits<double>::quiet_NaN(), 3}, 0.5);
    QVERIFY(std::isnan(n[1]));
    QVERIFY(std::abs(n[2] - 1.75 / 0.75) < 1e-12);
  }

  // ---- tables ------------------------------------------------------------------------
  void configDiffOnlyDiffering() {
    const nlohmann::json a = {{"name", "a"}, {"seed", 0}, {"method", {{"name", "kd"}, {"temperature", 4.0}}}};
    const nlohmann::json b = {{"name", "b"}, {"seed", 0}, {"method", {{"name", "kd"}, {"temperature", 2.0}}},
                              {"extra", true}};
    const auto all = diffConfigs({a, b}, false);
    const auto differ = diffConfigs({a, b}, true);
    QCOMPARE(all.size(), size_t(5));
    std::vector<std::string> keys;
    for (const auto& r : differ) keys.push_back(r.key);
    QCOMPARE(keys, (std::vector<std::string>{"extra", "method.temperature", "name"}));
    QCOMPARE(differ[0].values, (std::vector<std::string>{"", "true"}));
    QCOMPARE(differ[1].values, (std::vector<std::string>{"4", "2"}));
    for (const auto& r : all)
      if (r.key == "seed" || r.key == "method.name") QVERIFY(!r.differs);
    const TableData t = configDiffTable(differ, {"#1 a", "#2 b"});
    QCOMPARE(t.headers.size(), size_t(3));
    QCOMPARE(t.rows.size(), size_t(3));
  }

  void paretoFrontKeepsUndominatedRuns() {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<CostAccuracyPoint> pts = {
        {1, 4.0, 0.90}, {2, 1.0, 0.80}, {3, 3.0, 0.84}, {4, 2.0, 0.85}, {5, 2.0, 0.70}, {6, nan, 0.99}, {7, 5.0, 0.90}};
    const auto front = paretoFront(pts);
    std::vector<int64_t> ids;
    for (size_t i : front) ids.push_back(pts[i].run_id);
    QCOMPARE(ids, (std::vector<int64_t>{2, 4, 1}));
  }

  void markdownTableIsEscapedAndAligned() {
    TableData t;
    t.caption = "Results";
    t.headers = {"Run", "Acc (%)"};
    t.numeric = {false, true};
    t.rows = {{"a|b <script>", "91.20"}, {"x_y*z", "88.00"}};
    const std::string md = tableToMarkdown(t);
    std::istringstream lines(md);
    std::string header, rule, row1;
    std::getline(lines, header);
    std::getline(lines, rule);
    std::getline(lines, row1);
    QCOMPARE(header, std::string("| Run | Acc (%) |"));
    QCOMPARE(rule, std::string("| :--- | ---: |"));
    QCOMPARE(row1, std::string("| a\\|b &lt;script&gt; | 91.20 |"));
    QVERIFY(md.find("x\\_y\\*z") != std::string::npos);
    QVERIFY(md.find("<script>") == std::string::npos);
  }

  void latexTableUsesBooktabsAndEscapes() {
    TableData t;
    t.caption = "KD & friends: 50% of_it #1";
    t.headers = {"Run", "Acc (%)"};
    t.numeric = {false, true};
    t.rows = {{"a&b%c_d#e$f", "91.20"}, {"back\\slash {x} ~^", "88.00"}};
    const std::string tex = tableToLatex(t, "tab:x");
    for (const char* s : {"\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}{lr}", "\\label{tab:x}",
                          "a\\&b\\%c\\_d\\#e\\$f", "KD \\& friends: 50\\% of\\_it \\#1",
                          "back\\textbackslash{}slash \\{x\\} \\textasciitilde{}\\textasciicircum{}"})
      QVERIFY2(tex.find(s) != std::string::npos, s);
    // Header + 2 rows end with \\ and nothing unescaped slipped through.
    size_t rows = 0;
    for (size_t p = tex.find(" \\\\\n"); p != std::string::npos; p = tex.find(" \\\\\n", p + 1)) ++rows;
    QCOMPARE(rows, size_t(3));
    QVERIFY(tex.find("a&b") == std::string::npos);
    const QString pdflatex = QStandardPaths::findExecutable("pdflatex");
    if (pdflatex.isEmpty()) return; // structural checks only
    QFile f(path("table.tex"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex +
                                      "\\end{document}\n"));
    f.close();
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    p.start(pdflatex, {"-interaction=nonstopmode", "-halt-on-error", "table.tex"});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardOutput().constData());
  }

  void summaryTableFormatsForReading() {
    RunStore store(db_);
    const auto rows = summarizeRuns(store, {kd_, base_});
    QCOMPARE(rows.size(), size_t(2));
    const TableData t = summaryTable(rows);
    QCOMPARE(t.headers.size(), summaryColumns().size() + 1);
    QCOMPARE(t.rows[0][0], "#" + std::to_string(kd_) + " " + kScriptName);
    auto cell = [&](size_t row, const std::string& key) {
      for (size_t c = 0; c < summaryColumns().size(); ++c)
        if (summaryColumns()[c].key == key) return t.rows[row][c + 1];
      return std::string("?");
    };
    QCOMPARE(cell(0, "test_accuracy"), std::string("87.40"));
    QCOMPARE(cell(0, "params"), std::string("52k"));
    QCOMPARE(cell(0, "train_flops"), std::string("4.2T"));
    QCOMPARE(cell(0, "compression"), std::string("12.5x"));
    QCOMPARE(cell(1, "compression"), std::string("-")); // a run without a teacher
    // Wall time: whole seconds from 10 s, tenths from 1 s, two significant digits below (walk item l).
    QCOMPARE(formatSummaryValue("wall_s", 0.0203), std::string("0.020"));
    QCOMPARE(formatSummaryValue("wall_s", 0.5), std::string("0.50"));
    QCOMPARE(formatSummaryValue("wall_s", 0.996), std::string("1.0"));
    QCOMPARE(formatSummaryValue("wall_s", 3.14), std::string("3.1"));
    QCOMPARE(formatSummaryValue("wall_s", 123.4), std::string("123"));
    QCOMPARE(formatSummaryValue("wall_s", 0.0), std::string("0.0"));

    // A language-model run: perplexity, and its (validation, per-token) agreement and KL.
    const int64_t lm = store.createRun("char-lm", "lm", "{}");
    store.setSummary(lm, {{"final_val_perplexity", 9.934}, {"val_agreement", 0.807}, {"val_kl", 0.0801}});
    const TableData lt = summaryTable(summarizeRuns(store, {lm}));
    store.deleteRun(lm);
    auto lmCell = [&](const std::string& key) {
      for (size_t c = 0; c < summaryColumns().size(); ++c)
        if (summaryColumns()[c].key == key) return lt.rows[0][c + 1];
      return std::string("?");
    };
    QCOMPARE(lmCell("final_val_perplexity"), std::string("9.93"));
    QCOMPARE(lmCell("test_agreement"), std::string("80.70"));
    QCOMPARE(lmCell("test_kl"), std::string("0.0801"));
    QCOMPARE(cell(0, "final_val_perplexity"), std::string("-")); // image runs have none
  }

  void ticksAreRoundAndSiLabelled() {
    const auto t = linearTicks(0, 1, 5);
    QCOMPARE(t.size(), size_t(6));
    QCOMPARE(t[1].label, std::string("0.2"));
    std::vector<std::string> labels;
    for (const auto& k : linearTicks(0, 6.4e10, 6)) labels.push_back(k.label);
    for (const auto& l : labels) QVERIFY2(l.find('e') == std::string::npos, l.c_str());
    QCOMPARE(labels.back(), std::string("60G"));
    std::vector<std::string> decades;
    for (const auto& k : logTicks(0.01, 1000, 6))
      if (k.major) decades.push_back(k.label);
    QCOMPARE(decades, (std::vector<std::string>{"0.01", "0.1", "1", "10", "100", "1k"}));
    QCOMPARE(formatSi(1234567), std::string("1.23M"));
    QCOMPARE(formatSi(950), std::string("950"));
  }

  // Narrow ranges on log axes (accuracy 0.82-0.95, agreement 0.9-1, a cost
  // plot's 30k-600k) still get several labels inside the range, and large
  // values read with SI prefixes, never 1e+05.
  // Messages quote numbers as the user wrote them, money with two decimals.
  void plainNumbersAndMoneyReadAsWritten() {
    QCOMPARE(plainNumber(0.5), std::string("0.5"));
    QCOMPARE(plainNumber(2), std::string("2"));
    QCOMPARE(plainNumber(1e-5), std::string("1e-05"));
    QCOMPARE(formatMoney(1), std::string("1.00"));
    QCOMPARE(formatMoney(0.125), std::string("0.12"));
    QCOMPARE(formatMoney(1234.5), std::string("1234.50"));
  }

  void logTicksLabelNarrowRanges() {
    struct Case {
      double lo, hi;
      size_t at_least;
    };
    for (const Case& c : {Case{0.82, 0.95, 3}, Case{0.9, 1.0, 3}, Case{0.93, 0.97, 2}, Case{3e4, 6e5, 3},
                          Case{2e9, 3e10, 3}, Case{1.2, 1.9, 3}, Case{0.0137, 2.02, 3}}) {
      std::vector<std::string> labels;
      for (const AxisTick& t : logTicks(c.lo, c.hi, 5)) {
        if (!t.major || t.label.empty()) continue;
        QVERIFY2(t.value >= c.lo * (1 - 1e-9) && t.value <= c.hi * (1 + 1e-9), t.label.c_str());
        QVERIFY2(t.label.find("e+") == std::string::npos, t.label.c_str());
        labels.push_back(t.label);
      }
      QVERIFY2(labels.size() >= c.at_least, (std::to_string(c.lo) + ".." + std::to_string(c.hi) + ": " +
                                             std::to_string(labels.size()) + " labels")
                                                .c_str());
    }
    std::vector<std::string> flops;
    for (const AxisTick& t : logTicks(2e9, 3e10, 5))
      if (t.major) flops.push_back(t.label);
    QVERIFY(std::find(flops.begin(), flops.end(), "10G") != flops.end());
    QCOMPARE(formatSi(1e10), std::string("10G"));
    QCOMPARE(formatSi(1e5), std::string("100k"));
  }

  // A metric measured once (test accuracy) is a disc at its point, in every
  // format: a line of one point would draw nothing.
  void onePointSeriesIsDrawnAsADot() {
    ChartSpec s;
    s.metric = "test_accuracy";
    s.title = "Test accuracy";
    for (int64_t id : {3, 4}) {
      ChartCurve c;
      c.run_id = id;
      c.label = "#" + std::to_string(id);
      c.rgb = id == 3 ? 0x1f77b4 : 0xff7f0e;
      c.raw.x = {2000.0 + double(id)};
      c.raw.y = {0.8 + 0.01 * double(id)};
      s.curves.push_back(c);
    }
    RecordingCanvas canvas;
    const ChartLayout layout = paintChart(s, canvas);
    QCOMPARE(canvas.dots.size(), size_t(2));
    for (const auto& d : canvas.dots) {
      QVERIFY(d.radius >= 2.0);
      QVERIFY(layout.plot.contains(d.centre.x, d.centre.y));
    }
    // Also for one run alone: its one x is centred, not cut by the frame.
    ChartSpec one = s;
    one.curves.resize(1);
    RecordingCanvas lone;
    const ChartLayout lone_layout = paintChart(one, lone);
    QCOMPARE(lone.dots.size(), size_t(1));
    QVERIFY(std::abs(lone.dots[0].centre.x - (lone_layout.plot.x + lone_layout.plot.w / 2)) < 1.0);

    // The SVG holds a circle at the point, in the run's colour.
    const std::string svg = chartToSvg(one, 6, 4);
    QXmlStreamReader xml(QString::fromStdString(svg));
    int circles = 0;
    while (!xml.atEnd()) {
      xml.readNext();
      if (!xml.isStartElement() || xml.name() != u"circle") continue;
      if (xml.attributes().value("class") != u"point") continue;
      ++circles;
      QCOMPARE(xml.attributes().value("fill").toString(), QStringLiteral("#1f77b4"));
      QVERIFY(std::abs(xml.attributes().value("cx").toDouble() - lone.dots[0].centre.x) < 0.01);
      QVERIFY(std::abs(xml.attributes().value("cy").toDouble() - lone.dots[0].centre.y) < 0.01);
    }
    QVERIFY(!xml.hasError());
    QCOMPARE(circles, 1);

    // The PNG shows it: pixels of the run's colour around the point.
    render::ChartImageOptions o;
    o.dpi = 100;
    const QString file = path("one-point.png");
    render::exportChart(one, file.toStdString(), o);
    const QImage image(file);
    const double scale = o.dpi / 72.0;
    const QPoint centre(int(lone.dots[0].centre.x * scale), int(lone.dots[0].centre.y * scale));
    QCOMPARE(image.pixelColor(centre).rgb() & 0xffffff, QRgb(0x1f77b4));
  }

  // Runs whose ids collide modulo the palette (2 and 14) get different
  // colours; any 12 runs get 12, in the spec every export draws from.
  void coloursAreUniqueWithinAChart() {
    QVERIFY(runRgb(2) == runRgb(14)); // the old per-id colour collided
    const auto pair = runRgbs({2, 14});
    QVERIFY(pair.at(2) != pair.at(14));
    QCOMPARE(pair.at(2), runRgb(2)); // the smaller id keeps its own colour
    QCOMPARE(runRgbs({14, 2}), pair); // the set decides, not its order
    std::mt19937 rng(3);
    std::uniform_int_distribution<int64_t> id(1, 200);
    for (int trial = 0; trial < 500; ++trial) {
      std::vector<int64_t> ids;
      for (int draw = 0; ids.size() < 12; ++draw) {
        // In odd trials every other id collides (mod 12) with one already chosen.
        const int64_t next = !ids.empty() && trial % 2 && draw % 2 ? ids[size_t(id(rng)) % ids.size()] + 12 * (1 + draw % 5)
                                                                   : id(rng);
        if (std::find(ids.begin(), ids.end(), next) == ids.end()) ids.push_back(next);
      }
      const auto colours = runRgbs(ids);
      std::set<uint32_t> distinct;
      for (const auto& [run, rgb] : colours) distinct.insert(rgb);
      QCOMPARE(distinct.size(), size_t(12));
      // Teachers added later take colours of their own while there are any left.
      std::vector<int64_t> few(ids.begin(), ids.begin() + 5);
      const auto with_extra = runRgbs(few, {ids[6], ids[7]});
      std::set<uint32_t> seven;
      for (const auto& [run, rgb] : with_extra) seven.insert(rgb);
      QCOMPARE(seven.size(), size_t(7));
      for (int64_t r : few) QCOMPARE(with_extra.at(r), runRgbs(few).at(r));
    }

    // The export path: a store with runs 1..26, charted 12 at a time.
    const QString db = path("palette.sqlite");
    RunStore store(db.toStdString());
    std::vector<MetricPoint> pts;
    for (int i = 1; i <= 26; ++i) {
      const int64_t run = store.createRun("r" + std::to_string(i), "train", R"({"name":"r","task":"train"})");
      for (int64_t step : {1, 2, 3}) pts.push_back(point(run, "train_loss", step, 1.0 / double(step + i)));
    }
    store.appendPoints(pts);
    for (const std::vector<int64_t>& ids : std::vector<std::vector<int64_t>>{
             {2, 14}, {1, 13, 25}, {1, 2, 3, 13, 14, 15, 25, 26, 4, 16, 5, 17}}) {
      const ChartSpec chart = chartSpecFromStore(store, ids, "train_loss", XAxisKind::Step);
      const std::string svg = chartToSvg(chart, 6, 4);
      std::set<std::string> strokes;
      QXmlStreamReader xml(QString::fromStdString(svg));
      while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement() && xml.name() == u"path" && xml.attributes().value("class") == u"curve")
          strokes.insert(xml.attributes().value("stroke").toString().toStdString());
      }
      QCOMPARE(strokes.size(), ids.size());
    }
  }

  // Long run names lose their middle in the legend, so what tells runs apart
  // (the id at the start, the seed at the end) stays.
  void legendKeepsTheEndsOfLongNames() {
    ChartSpec s;
    s.metric = "train_loss";
    s.title = "Training loss";
    for (int64_t id : {31, 32}) {
      ChartCurve c;
      c.run_id = id;
      c.label = "#" + std::to_string(id) + " kd-resnet8-from-resnet32-temperature4-alpha0.9-seed" + std::to_string(id);
      c.raw.x = {0, 1, 2};
      c.raw.y = {1.0, 0.5, 0.25};
      s.curves.push_back(c);
    }
    RecordingCanvas canvas;
    paintChart(s, canvas);
    std::vector<std::string> legend;
    for (const auto& t : canvas.texts)
      if (t.role == CanvasRole::Legend) legend.push_back(t.text);
    QCOMPARE(legend.size(), size_t(2));
    for (size_t i = 0; i < 2; ++i) {
      const std::string id = std::to_string(31 + i);
      QVERIFY2(legend[i].rfind("#" + id, 0) == 0, legend[i].c_str());
      QVERIFY2(legend[i].size() >= 5 && legend[i].substr(legend[i].size() - 6) == "seed" + id, legend[i].c_str());
      QVERIFY2(legend[i].find("\u2026") != std::string::npos, legend[i].c_str());
    }
  }

  // ---- chart layout --------------------------------------------------------------------
  void legendNeverCoversACurve() {
    auto curve = [](int64_t id, auto f) {
      ChartCurve c;
      c.run_id = id;
      c.label = "#" + std::to_string(id) + " run";
      for (int i = 0; i <= 400; ++i) {
        c.raw.x.push_back(i);
        c.raw.y.push_back(f(i));
      }
      return c;
    };
    auto rising = [](double top) { return [top](int i) { return 0.1 + top * (1 - std::exp(-i / 60.0)); }; };
    ChartSpec crowded, calm;
    crowded.metric = calm.metric = "val_accuracy";
    crowded.title = calm.title = "Validation accuracy";
    // A zig-zag from bottom to top covers every corner: the legend must go outside.
    crowded.curves = {curve(1, [](int i) { return i % 2 ? 1.0 : 0.0; }), curve(2, rising(0.8))};
    // Accuracy-like curves leave the lower right free.
    calm.curves = {curve(1, rising(0.8)), curve(2, rising(0.7))};
    for (const ChartSpec* s : {&crowded, &calm}) {
      RecordingCanvas canvas;
      const ChartLayout layout = paintChart(*s, canvas);
      const bool outside = layout.legend_placement == LegendPlacement::OutsideRight ||
                           layout.legend_placement == LegendPlacement::OutsideBottom;
      QCOMPARE(outside, s == &crowded);
      for (const auto& l : canvas.lines) {
        if (l.role != CanvasRole::Curve && l.role != CanvasRole::RawCurve) continue;
        for (size_t i = 1; i < l.points.size(); ++i)
          QVERIFY(!segmentCrossesRect(l.points[i - 1], l.points[i], layout.legend));
      }
    }
  }

  void chartDecimatesToOutputWidthAndKeepsSpike() {
    const ChartSpec s = testsupport::millionPointsWithOneSpike();
    RecordingCanvas canvas;
    const ChartLayout layout = paintChart(s, canvas);
    const auto curve = std::find_if(canvas.lines.begin(), canvas.lines.end(),
                                    [](const auto& l) { return l.role == CanvasRole::Curve; });
    QVERIFY(curve != canvas.lines.end());
    QVERIFY(curve->points.size() <= size_t(2 * layout.decimation_columns + 2));
    double top = 1e9;
    for (const auto& p : curve->points) top = std::min(top, p.y);
    QVERIFY(std::abs(top - layout.plot.y) < 1e-6); // the spike reaches the top of the plot
  }

  // ---- chart files -----------------------------------------------------------------------
  void svgIsWellFormedWithOneCurvePerRun() {
    for (double smoothing : {0.0, 0.6}) {
      ChartSpec s = spec("train_loss", XAxisKind::Flops);
      s.smoothing = smoothing;
      const QString file = path(QString("chart-%1.svg").arg(smoothing));
      render::exportChart(s, file.toStdString());
      QFile f(file);
      QVERIFY(f.open(QIODevice::ReadOnly));
      QXmlStreamReader xml(&f);
      int curves = 0, raw = 0, marks = 0;
      QStringList texts;
      while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement()) continue;
        const QString cls = xml.attributes().value("class").toString();
        if (xml.name() == u"path" && cls == "curve") ++curves;
        if (xml.name() == u"path" && cls == "raw-curve") ++raw;
        if (cls == "divergence") ++marks;
        if (xml.name() == u"text") texts << xml.readElementText();
      }
      QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
      QCOMPARE(curves, 2);
      QCOMPARE(raw, smoothing > 0 ? 2 : 0);
      QVERIFY(marks >= 3); // the NaN at step 1500: a dashed line and an X
      QVERIFY(texts.contains(QString::fromStdString("#" + std::to_string(kd_) + " " + kScriptName + " (diverged)")));
      QVERIFY(texts.contains(QString::fromStdString("#" + std::to_string(base_) + " " + kSpecialName)));
      QVERIFY(texts.contains("Training compute (FLOPs)"));
      QVERIFY(texts.contains("Training loss"));
      for (const QString& t : texts) QVERIFY2(!t.contains("e+"), qPrintable(t)); // 64G, not 6.4e+10
      QVERIFY(!readAll(file).contains("<script>"));
    }
  }

  void pngHasTheSizeTheDpiImplies() {
    render::ChartImageOptions o;
    o.width_in = 3.5;
    o.height_in = 2.5;
    o.dpi = 300;
    const QString file = path("chart.png");
    render::exportChart(spec("val_accuracy"), file.toStdString(), o);
    QImage image(file);
    QCOMPARE(image.size(), QSize(1050, 750));
    QCOMPARE(image.dotsPerMeterX(), int(std::lround(300 / 0.0254)));
    // Something was drawn in a run's colour (the palette's blue or orange), not just a blank page.
    int coloured = 0;
    for (int y = 0; y < image.height(); y += 2)
      for (int x = 0; x < image.width(); x += 2) {
        const QColor c = image.pixelColor(x, y);
        if (c.saturation() > 120) ++coloured;
      }
    QVERIFY(coloured > 200);
  }

  void pdfChartHoldsTitlesAndNames() {
    if (QStandardPaths::findExecutable("pdftotext").isEmpty()) QSKIP("pdftotext (poppler-utils) not installed");
    const QString file = path("chart.pdf");
    render::exportChart(spec("val_accuracy"), file.toStdString());
    QVERIFY(readAll(file).startsWith("%PDF"));
    const std::string text = pdfText(file);
    for (const std::string& s : {std::string("Validation accuracy"), std::string("Training step"), kScriptName, kSpecialName})
      QVERIFY2(text.find(s) != std::string::npos, (s + " missing in:\n" + text).c_str());
  }

  void unknownFormatAndUnwritablePathAreErrors() {
    bool threw = false;
    try {
      render::exportChart(spec("val_accuracy"), spath("chart.bmp"));
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()).find("chart.bmp") != std::string::npos;
    }
    QVERIFY(threw);
    threw = false;
    try {
      render::exportChart(spec("val_accuracy"), "/nonexistent-dir/chart.png");
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()).find("/nonexistent-dir/chart.png") != std::string::npos;
    }
    QVERIFY(threw);
  }

  // ---- data ----------------------------------------------------------------------------
  void csvHasOneRowPerStoredPoint() {
    RunStore store(db_);
    std::ostringstream all, one;
    const int64_t n = writePointsCsv(store, {kd_, base_}, "", all);
    QCOMPARE(n, store.pointCount(kd_) + store.pointCount(base_));
    const std::string text = all.str();
    QCOMPARE(int64_t(std::count(text.begin(), text.end(), '\n')), n + 1);
    QVERIFY(text.find(",nan\n") != std::string::npos);
    QCOMPARE(text.substr(0, text.find('\n')),
             std::string("run_id,run_name,metric,step,epoch,wall_s,samples,flops,teacher_queries,money,value"));
    // Step 10 (testsupport::point): 320 teacher queries, 1.25 spent, then the value.
    const MetricPoint second = store.points(kd_, "train_loss").at(1);
    QCOMPARE(second.money, 1.25);
    const std::string row = "," + exactNumber(second.teacher_queries) + "," + exactNumber(second.money) + "," +
                            exactNumber(second.value) + "\n";
    QVERIFY2(text.find(row) != std::string::npos, row.c_str());
    writePointsCsv(store, {kd_}, "val_accuracy", one);
    const std::string v = one.str();
    QCOMPARE(int64_t(std::count(v.begin(), v.end(), '\n')), int64_t(store.points(kd_, "val_accuracy").size()) + 1);
  }

  void jsonKeepsNonFiniteValues() {
    RunStore store(db_);
    std::ostringstream out;
    writePointsJson(store, {kd_}, "train_loss", out);
    const auto j = nlohmann::json::parse(out.str());
    QCOMPARE(j["runs"][0]["name"].get<std::string>(), kScriptName);
    const auto& points = j["runs"][0]["points"];
    QCOMPARE(points.size(), store.points(kd_, "train_loss").size());
    int64_t nonfinite = 0;
    for (const auto& p : points) {
      if (!p.contains("nonfinite")) continue;
      ++nonfinite;
      QVERIFY(p["value"].is_null());
      QCOMPARE(p["nonfinite"].get<std::string>(), std::string("nan"));
      QCOMPARE(p["step"].get<int64_t>(), int64_t(1500));
    }
    QCOMPARE(nonfinite, nan_points_);
    // Full precision: values read back exactly.
    const auto stored = store.points(kd_, "train_loss");
    QCOMPARE(points[3]["value"].get<double>(), stored[3].value);
    // Every counter travels, money included.
    QVERIFY(stored[3].money > 0);
    QCOMPARE(points[3]["money"].get<double>(), stored[3].money);
    QCOMPARE(points[3]["teacher_queries"].get<double>(), stored[3].teacher_queries);
  }

  // ---- reports -------------------------------------------------------------------------
  void htmlReportIsSelfContainedAndEscaped() {
    RunStore store(db_);
    render::ReportRequest r;
    r.run_ids = {kd_, base_};
    const QString file = path("report.html");
    render::exportReport(store, r, file.toStdString());
    const QString html = readAll(file);
    QVERIFY(!html.contains("<script"));
    QVERIFY(!html.contains("<b>bold"));
    QVERIFY(html.contains("kd &lt;script&gt;alert(1)&lt;/script&gt;"));
    QVERIFY(html.contains("&lt;script&gt;alert(&#39;notes&#39;)"));
    for (const char* ref : {"src=", "href=", "url(http", "@import", "<link"}) QVERIFY2(!html.contains(ref), ref);
    // The default charts these runs have (val_accuracy, train_loss), then the cost chart.
    QCOMPARE(html.count("<svg"), 3);
    QVERIFY(html.contains("Test accuracy against Training compute (FLOPs)"));
    for (const char* s : {"Test acc (%)", "Compression", "sha256:9f86d081", "/models/teacher.pt", "abc123def456",
                          "LibTorch version", "1.13.1", "method.temperature", "Validation accuracy", "Training loss"})
      QVERIFY2(html.contains(s), s);
  }

  void pdfReportHoldsNamesAndMetricTitles() {
    if (QStandardPaths::findExecutable("pdftotext").isEmpty()) QSKIP("pdftotext (poppler-utils) not installed");
    RunStore store(db_);
    render::ReportRequest r;
    r.run_ids = {kd_, base_};
    r.metrics = {"val_accuracy", "train_loss"};
    r.smoothing = 0.6;
    const QString file = path("report.pdf");
    render::exportReport(store, r, file.toStdString());
    const std::string text = pdfText(file);
    for (const std::string& s :
         {kScriptName, kSpecialName, std::string("Validation accuracy"), std::string("Training loss"),
          std::string("Distillery report"), std::string("Accuracy and agreement"), std::string("sha256:9f86d081"),
          std::string("method.temperature"), std::string("87.40")})
      QVERIFY2(text.find(s) != std::string::npos, (s + " missing").c_str());
  }

  // issue 15 (25): sweep-style run names wrap between their parts in the PDF's
  // tables, not mid-word ("method.temperat" / "ure=1.0,seed=0").
  void pdfReportTablesBreakNamesBetweenWords() {
    if (QStandardPaths::findExecutable("pdftotext").isEmpty()) QSKIP("pdftotext (poppler-utils) not installed");
    RunStore store(spath("sweep-names.sqlite"));
    std::vector<int64_t> ids;
    for (const char* t : {"1.0", "4.0", "8.0"}) {
      const std::string name = std::string("tiny-kd/method.temperature=") + t + ",seed=0";
      const int64_t id = store.createRun(name, "distill",
                                         R"({"name":"x","task":"distill","method":{"name":"kd","temperature":)" +
                                             std::string(t) + "}}");
      store.setSummary(id, summary(0.5, 12700));
      ids.push_back(id);
    }
    render::ReportRequest r;
    r.run_ids = ids;
    const QString file = path("sweep-names.pdf");
    render::exportReport(store, r, file.toStdString());
    QString text = QString::fromStdString(pdfText(file));
    text.remove(QChar(0x200B));
    const qsizetype cut = text.count(QStringLiteral("temperat")) - text.count(QStringLiteral("temperature"));
    QVERIFY2(cut == 0, qPrintable(text));
    QVERIFY(text.count(QStringLiteral("temperature")) >= 9); // titles, both summary tables, diff headers
  }

  // issue 17 part 5: curves whose points each stand for a run get a disc on
  // every point, a scatter draws no line, and each point's label sits beside it.
  void painterDrawsMarkersAndPointLabels() {
    ChartSpec spec;
    spec.metric = "defense_test";
    spec.x_title = "Benign cost";
    spec.y_title = "Fidelity (%)";
    ChartCurve scatter;
    scatter.label = "scatter";
    scatter.rgb = 0xff0000;
    scatter.markers = true;
    scatter.line = false;
    scatter.raw.x = {1, 2, 3};
    scatter.raw.y = {10, 20, 30};
    scatter.point_labels = {"#1", "#2", "#3"};
    ChartCurve line;
    line.label = "line";
    line.rgb = 0x00ff00;
    line.markers = true;
    line.raw.x = {1, 3};
    line.raw.y = {15, 25};
    spec.curves = {scatter, line};
    RecordingCanvas canvas;
    paintChart(spec, canvas);
    auto dotsOf = [&](uint32_t rgb) {
      return std::count_if(canvas.dots.begin(), canvas.dots.end(), [&](const RecordingCanvas::Dot& d) { return d.rgb == rgb; });
    };
    QCOMPARE(int(dotsOf(0xff0000)), 3 + 1); // the points and the legend's swatch
    QCOMPARE(int(dotsOf(0x00ff00)), 2 + 1);
    const auto curves = std::count_if(canvas.lines.begin(), canvas.lines.end(),
                                      [](const RecordingCanvas::Line& l) { return l.role == CanvasRole::Curve; });
    QCOMPARE(int(curves), 1); // the line curve only
    std::vector<std::string> labels;
    for (const auto& t : canvas.texts)
      if (t.role == CanvasRole::Note) labels.push_back(t.text);
    QCOMPARE(labels, (std::vector<std::string>{"#1", "#2", "#3"}));
  }

  // Defenses tab review (issue 17, part 5 follow-up): labels of points on one
  // spot would pile up into a blot; the painter leaves out a label that would
  // overlap one it drew. Hollow markers get a white middle.
  void painterSkipsOverlappingPointLabels() {
    ChartSpec spec;
    spec.metric = "defense_test";
    spec.x_min = 0;
    spec.x_max = 10;
    spec.y_min = 0;
    spec.y_max = 100;
    ChartCurve a;
    a.label = "a";
    a.rgb = 0xff0000;
    a.markers = true;
    a.line = false;
    a.raw.x = {0, 0, 5};
    a.raw.y = {50, 50.2, 50};
    a.point_labels = {"#20", "#24", "#7"};
    ChartCurve b = a;
    b.label = "b";
    b.rgb = 0x0000ff;
    b.hollow_markers = true;
    b.raw.x = {0};
    b.raw.y = {50};
    b.point_labels = {"#3"};
    spec.curves = {a, b};
    RecordingCanvas canvas;
    paintChart(spec, canvas);
    std::vector<std::string> labels;
    for (const auto& t : canvas.texts)
      if (t.role == CanvasRole::Note) labels.push_back(t.text);
    QCOMPARE(labels, (std::vector<std::string>{"#20", "#7"})); // #24 and #3 would sit on #20
    // No two drawn labels closer than a label's height.
    for (size_t i = 0; i < canvas.texts.size(); ++i)
      for (size_t j = i + 1; j < canvas.texts.size(); ++j)
        if (canvas.texts[i].role == CanvasRole::Note && canvas.texts[j].role == CanvasRole::Note)
          QVERIFY(std::abs(canvas.texts[i].x - canvas.texts[j].x) > 8 || std::abs(canvas.texts[i].y - canvas.texts[j].y) > 8);
    const auto white = std::count_if(canvas.dots.begin(), canvas.dots.end(),
                                     [](const RecordingCanvas::Dot& d) { return d.rgb == 0xffffff; });
    QCOMPARE(int(white), 1 + 1); // b's point and its legend swatch
  }

  // issue 17 part 5: the Defenses section (two charts and a table) appears
  // when the report's runs include API runs, and only then.
  void reportsHoldTheDefensesSectionOnlyWithApiRuns() {
    RunStore store(spath("defenses.sqlite"));
    const int64_t rs = testsupport::addApiRun(store, "clone-rs", "kd",
                                              testsupport::apiSummary("reverse_sigmoid(beta=0.7)", 5000, 0.851, 0.893, 0.912), 0.86);
    const int64_t hard = testsupport::addApiRun(store, "clone-hard", "hard_label",
                                                testsupport::apiSummary("label", 2000, 0.893, 0.893, 0.83), 0.80);
    const int64_t plain = store.createRun("plain", "distill", R"({"name":"plain","method":{"name":"kd"}})");
    store.setSummary(plain, summary(0.87, 12700));

    ReportOptions without;
    without.run_ids = {plain};
    const ReportContent none = buildReportContent(store, without);
    QVERIFY(!none.hasDefenses());
    QVERIFY(none.defense_charts.empty());
    QVERIFY(reportToHtml(none).find("Defenses") == std::string::npos);

    ReportOptions with;
    with.run_ids = {plain, rs, hard};
    const ReportContent content = buildReportContent(store, with);
    QVERIFY(content.hasDefenses());
    QCOMPARE(int(content.defense_table.rows.size()), 2); // the plain run is no API run
    QCOMPARE(int(content.defense_charts.size()), 2);
    const std::string html = reportToHtml(content);
    QVERIFY(html.find("<h2>Defenses</h2>") != std::string::npos);
    QVERIFY(html.find("Clone fidelity vs benign cost") != std::string::npos);
    QVERIFY(html.find("Clone fidelity vs queries") != std::string::npos);
    QVERIFY(html.find("hard_label (labels only)") != std::string::npos);
    QVERIFY(html.find(">4.20<") != std::string::npos); // 89.3 - 85.1 points
    // Figures number on after the cost chart (the only chart: these runs have no points).
    QCOMPARE(int(content.charts.size()), 1);
    QVERIFY(html.find("Figure 3: Clone fidelity against the queries") != std::string::npos);

    writeMarkdownReport(content, spath("defenses.md"), svgChartWriter());
    const QString md = readAll(path("defenses.md"));
    QVERIFY(md.contains("## Defenses"));
    QVERIFY(md.contains("](defenses_charts/2-defense_fidelity_vs_benign_cost.svg)"));
    QVERIFY(md.contains("](defenses_charts/3-defense_fidelity_vs_queries.svg)"));
    // The scatter's dots carry their run ids.
    QVERIFY(readAll(path("defenses_charts/2-defense_fidelity_vs_benign_cost.svg")).contains(QString("#%1").arg(rs)));

    if (QStandardPaths::findExecutable("pdftotext").isEmpty()) QSKIP("pdftotext (poppler-utils) not installed");
    render::ReportRequest r;
    r.run_ids = {plain, rs, hard};
    render::exportReport(store, r, spath("defenses.pdf"));
    const std::string text = pdfText(path("defenses.pdf"));
    for (const char* s : {"Defenses", "Clone fidelity vs benign cost", "Clone fidelity vs queries", "Benign cost (pp)",
                          "clone-hard", "91.20"})
      QVERIFY2(text.find(s) != std::string::npos, s);
    r.run_ids = {plain};
    render::exportReport(store, r, spath("no-defenses.pdf"));
    QVERIFY(pdfText(path("no-defenses.pdf")).find("Clone fidelity") == std::string::npos);
  }

  // issue 18 part 4: the Forensics section lists the stored results of
  // `distillery-cli forensics` naming a report run as suspect or reference
  // (test, suspect, reference, null size, statistic, p-value, verdict, and what
  // each was computed from), and appears only when there are some.
  void reportsHoldTheForensicsSectionOnlyWithResults() {
    using json = nlohmann::json;
    RunStore store(spath("forensics.sqlite"));
    const int64_t teacher = store.createRun("teacher", "train", R"({"name":"teacher","task":"train"})");
    const int64_t suspect = store.createRun("suspect-clone", "distill", R"({"name":"suspect-clone","task":"distill"})");
    const int64_t other = store.createRun("bystander", "train", R"({"name":"bystander","task":"train"})");
    const json inputs = {{"tests", {"sac", "agreement", "fingerprint"}}, {"inputs", 64}, {"seed", 7},
                         {"suspect", "run:" + std::to_string(suspect)}, {"teacher", "run:" + std::to_string(teacher)},
                         {"null", {41, 42, 43}},
                         {"data", {{"dataset", "fashion-mnist"}, {"content_hash", "abcdef0123456789"}}}};
    const int64_t sac = store.addForensicResult(
        "sac", "run:" + std::to_string(suspect), "run:" + std::to_string(teacher), inputs,
        {{"test", "sac"}, {"inputs", 64}, {"statistic", 0.123456789}, {"p_value", 0.0078125}, {"null_size", 127}, {"closer", "lower"},
         {"smallest_possible_p", 0.0078125}});
    store.addForensicResult("agreement", "run:" + std::to_string(suspect), "run:" + std::to_string(teacher), inputs,
                            {{"test", "agreement"}, {"inputs", 64}, {"statistic", 0.71875}, {"p_value", 0.5},
                             {"null_size", 3}, {"smallest_possible_p", 0.25}});
    store.addForensicResult("fingerprint", "run:" + std::to_string(suspect), "run:" + std::to_string(teacher), inputs,
                            {{"test", "fingerprint"}, {"inputs", 64}, {"statistic", 0.96875}, {"p_value", 0.25},
                             {"null_size", 3}, {"smallest_possible_p", 0.25}});
    // Of models the report does not hold: never in it.
    store.addForensicResult("sac", "/models/elsewhere.pt", "run:999", inputs,
                            {{"test", "sac"}, {"statistic", 9.5}, {"p_value", 0.9}, {"null_size", 3}});

    ReportOptions without;
    without.run_ids = {other};
    const ReportContent none = buildReportContent(store, without);
    QVERIFY(!none.hasForensics());
    QVERIFY(reportToHtml(none).find("Forensics") == std::string::npos);

    ReportOptions with;
    with.run_ids = {teacher, suspect};
    const ReportContent content = buildReportContent(store, with);
    QVERIFY(content.hasForensics());
    QCOMPARE(int(content.forensics_table.rows.size()), 3);
    const auto& row = content.forensics_table.rows[0];
    QCOMPARE(row[0], "#" + std::to_string(sac));
    QCOMPARE(row[1], std::string("sac (lower is closer)"));
    QCOMPARE(row[2], "#" + std::to_string(suspect) + " suspect-clone");
    QCOMPARE(row[3], "#" + std::to_string(teacher) + " teacher");
    QCOMPARE(row[4], std::string("127"));
    QCOMPARE(row[5], std::string("0.1235"));
    QCOMPARE(row[6], std::string("0.00781"));
    QCOMPARE(row[7], "distilled from #" + std::to_string(teacher) + " teacher: p = 0.00781 against 127 independent models");
    QCOMPARE(content.forensics_table.rows[1][7],
             std::string("no evidence of copying: p = 0.5 against 3 independent models"));
    // The null of 3 cannot reach 0.05: said, rather than "no evidence".
    QCOMPARE(content.forensics_table.rows[2][7],
             std::string("inconclusive: p = 0.25, the smallest a null of 3 independent models allows; p <= 0.05 needs at least 19"));
    const auto& source = content.forensics_sources.rows[0];
    QCOMPARE(source[2], std::string("sac, agreement, fingerprint"));
    QCOMPARE(source[3], std::string("64"));
    QCOMPARE(source[4], std::string("7"));
    QCOMPARE(source[5], std::string("#41, #42, #43"));
    QCOMPARE(source[6], std::string("fashion-mnist (abcdef0123456789)"));

    const std::string html = reportToHtml(content);
    for (const char* s : {"<h2>Forensics</h2>", "null size", "p-value", "0.00781", "#41, #42, #43", "copied from"})
      QVERIFY2(html.find(s) != std::string::npos, s);
    QVERIFY(html.find("elsewhere.pt") == std::string::npos);
    writeMarkdownReport(content, spath("forensics.md"), svgChartWriter());
    QVERIFY(readAll(path("forensics.md")).contains("## Forensics"));

    if (QStandardPaths::findExecutable("pdftotext").isEmpty()) QSKIP("pdftotext (poppler-utils) not installed");
    render::ReportRequest r;
    r.run_ids = {teacher, suspect};
    render::exportReport(store, r, spath("forensics.pdf"));
    const std::string text = pdfText(path("forensics.pdf"));
    for (const char* s : {"Forensics", "null size", "0.1235", "0.00781", "127", "copied from", "no evidence of copying",
                          "#41, #42, #43"})
      QVERIFY2(text.find(s) != std::string::npos, s);
    r.run_ids = {other};
    render::exportReport(store, r, spath("no-forensics.pdf"));
    QVERIFY(pdfText(path("no-forensics.pdf")).find("Forensics") == std::string::npos);
  }

  void markdownAndLatexReportsWriteChartFiles() {
    RunStore store(db_);
    render::ReportRequest r;
    r.run_ids = {kd_, base_};
    r.metrics = {"val_accuracy"};
    render::exportReport(store, r, spath("paper.md"));
    render::exportReport(store, r, spath("paper.tex"));
    QVERIFY(QFile::exists(path("paper_charts/1-val_accuracy.svg")));
    QVERIFY(QFile::exists(path("paper_charts/1-val_accuracy.pdf")));
    const QString md = readAll(path("paper.md"));
    QVERIFY(md.contains("](paper_charts/1-val_accuracy.svg)"));
    QVERIFY(!md.contains("<script"));
    QVERIFY(md.contains("| :--- |"));
    const QString tex = readAll(path("paper.tex"));
    for (const char* s : {"\\documentclass", "\\usepackage{booktabs}", "\\includegraphics[width=\\linewidth]{paper_charts/1-val_accuracy.pdf}",
                          "\\toprule", "\\bottomrule", "kd \\textless{}script\\textgreater{}", "base \\& 50\\% \\_x\\_ \\#1",
                          "\\end{document}"})
      QVERIFY2(tex.contains(s), s);
    QCOMPARE(tex.count("\\begin{longtable}"), tex.count("\\end{longtable}"));
    QCOMPARE(tex.count("\\begin{table}"), tex.count("\\end{table}"));
  }

  // ---- the CLI, as scripts use it --------------------------------------------------------
  void cliExportsChartsAndReports() {
    const QString db = QString::fromStdString(db_);
    const QString runs = QString("%1,%2").arg(kd_).arg(base_);
    Cli c = cli({"export-chart", "--runs", runs, "--metric", "val_accuracy", "--x", "epoch", "--dpi", "100",
                 "--width-in", "4", "--height-in", "3", "--out", path("cli.png"), "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QVERIFY2(!c.err.contains("XDG_RUNTIME_DIR") && !c.err.contains("QStandardPaths"), qPrintable(c.err));
    QCOMPARE(QImage(path("cli.png")).size(), QSize(400, 300));
    c = cli({"export-chart", "--runs", runs, "--metric", "train_loss", "--log-y", "--smoothing", "0.8", "--out",
             path("cli.svg"), "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QCOMPARE(readAll(path("cli.svg")).count("class=\"curve\""), 2);
    c = cli({"export-chart", "--runs", runs, "--metric", "train_loss", "--out", path("cli.csv"), "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    RunStore store(db_);
    const QString csv = readAll(path("cli.csv"));
    QCOMPARE(qsizetype(csv.count('\n')),
             qsizetype(store.points(kd_, "train_loss").size() + store.points(base_, "train_loss").size() + 1));
    c = cli({"report", "--runs", runs, "--metrics", "train_loss,val_accuracy", "--x", "flops", "--out", path("cli.pdf"),
             "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QVERIFY(readAll(path("cli.pdf")).startsWith("%PDF"));
    c = cli({"table", "--runs", runs, "--kind", "diff", "--only-differing", "--format", "tex", "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QVERIFY(c.out.contains("\\toprule"));
    QVERIFY(c.out.contains("optim.lr"));
    QVERIFY(!c.out.contains("seed")); // equal in both runs
    // issue 15 (25): a wide summary scaled to the text width on request.
    c = cli({"table", "--runs", runs, "--format", "tex", "--fit-width", "--db", db});
    QVERIFY2(c.code == 0, qPrintable(c.err));
    QVERIFY(c.out.contains("\\resizebox{\\linewidth}{!}{%"));
    c = cli({"table", "--runs", runs, "--format", "tex", "--db", db});
    QVERIFY(!c.out.contains("resizebox"));
  }

  // ---- the cost chart (issue 16, item 5) ------------------------------------------------
private:
  // A teacher and two students it taught (testsupport), and a run without a test accuracy yet.
  struct CostStore {
    std::string db;
    int64_t teacher = 0, student = 0, worse = 0, unfinished = 0;
  };
  CostStore cost_;
  const CostStore& costStore() {
    if (cost_.teacher) return cost_; // written once, read by each test
    CostStore& c = cost_;
    c.db = spath("cost.sqlite");
    RunStore store(c.db);
    const testsupport::TeacherAndStudents runs = testsupport::addTeacherAndStudents(store);
    c.teacher = runs.teacher;
    c.student = runs.student;
    c.worse = runs.worse;
    testsupport::SyntheticRun s;
    s.name = "unfinished";
    s.status = RunStatus::Running;
    c.unfinished = testsupport::addRun(store, s);
    return c;
  }

  // The figures straight from the store's summaries, not through the cost chart's code.
  static double stored(RunStore& store, int64_t id, const char* key) { return store.run(id)->summary.at(key).get<double>(); }

private Q_SLOTS:

  void cliExportsTheCostChartAsCsvAndSvg() {
    const CostStore& c = costStore();
    const QString db = QString::fromStdString(c.db);
    const QString runs = QString("%1,%2,%3").arg(c.student).arg(c.worse).arg(c.unfinished);
    Cli r = cli({"export-cost-chart", "--runs", runs, "--cost", "inference-flops", "--out", path("cost.csv"), "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    // student (1e6 FLOPs, 86%) and its teacher (1e8, 90%) are optimal; worse (2e6, 80%) is not.
    QVERIFY2(r.out.contains(QString("front=%1,%2\n").arg(c.student).arg(c.teacher)), qPrintable(r.out));
    QVERIFY2(r.out.contains(QString("missing=%1\n").arg(c.unfinished)), qPrintable(r.out));

    RunStore store(c.db);
    QStringList lines = readAll(path("cost.csv")).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.takeFirst(), QString("run_id,run,role,teacher_run_id,flops_per_sample,test_accuracy,front,counted"));
    QCOMPARE(lines.size(), 3); // the two students and the teacher they name; not the unfinished run
    std::map<int64_t, QStringList> rows;
    for (const QString& line : lines) rows[line.section(',', 0, 0).toLongLong()] = line.split(',');
    const std::map<int64_t, QString> front = {{c.student, "1"}, {c.worse, ""}, {c.teacher, "2"}};
    for (const auto& [id, rank] : front) {
      QVERIFY2(rows.count(id), qPrintable(QString::number(id)));
      const QStringList& row = rows[id];
      QCOMPARE(row[1], QString::fromStdString("#" + std::to_string(id) + " " + store.run(id)->name));
      QCOMPARE(row[2], QString(id == c.teacher ? "teacher" : "run"));
      QCOMPARE(row[3], id == c.teacher ? QString() : QString::number(c.teacher));
      QCOMPARE(row[4].toDouble(), stored(store, id, "flops_per_sample"));
      QCOMPARE(row[5].toDouble(), stored(store, id, "test_accuracy"));
      QCOMPARE(row[6], rank);
    }

    r = cli({"export-cost-chart", "--runs", runs, "--cost", "inference-flops", "--out", path("cost.svg"), "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QFile f(path("cost.svg"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&f);
    std::map<int64_t, CanvasPoint> dots;
    std::vector<CanvasPoint> staircase;
    QStringList texts;
    while (!xml.atEnd()) {
      xml.readNext();
      if (!xml.isStartElement()) continue;
      const auto a = xml.attributes();
      if (xml.name() == u"circle" && a.value("class") == u"point")
        dots[a.value("data-run").toLongLong()] = {a.value("cx").toDouble(), a.value("cy").toDouble()};
      if (xml.name() == u"path" && a.value("class") == u"curve" && !a.hasAttribute("data-run")) {
        QVERIFY(a.hasAttribute("stroke-dasharray")); // the front is dashed
        const QStringList numbers = a.value("d").toString().remove('M').replace('L', ' ').split(' ', Qt::SkipEmptyParts);
        for (qsizetype i = 0; i + 1 < numbers.size(); i += 2) staircase.push_back({numbers[i].toDouble(), numbers[i + 1].toDouble()});
      }
      if (xml.name() == u"text") texts << xml.readElementText();
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QCOMPARE(int(dots.size()), 3);
    QVERIFY(dots.count(c.student) && dots.count(c.worse) && dots.count(c.teacher));
    // Positions follow the stored figures: x on a log axis, y linear (down the page).
    const CanvasPoint s = dots[c.student], w = dots[c.worse], t = dots[c.teacher];
    const double xs = std::log10(stored(store, c.student, "flops_per_sample")),
                 xw = std::log10(stored(store, c.worse, "flops_per_sample")),
                 xt = std::log10(stored(store, c.teacher, "flops_per_sample"));
    QVERIFY2(std::abs((w.x - s.x) / (t.x - s.x) - (xw - xs) / (xt - xs)) < 1e-3, "x is not log10 of the cost");
    const double as = stored(store, c.student, "test_accuracy"), aw = stored(store, c.worse, "test_accuracy"),
                 at = stored(store, c.teacher, "test_accuracy");
    QVERIFY2(std::abs((s.y - t.y) / (w.y - t.y) - (as - at) / (aw - at)) < 1e-3, "y is not the accuracy");
    QVERIFY(t.y < s.y && s.y < w.y);
    // The front runs through the student and then the teacher, and on to the right.
    QCOMPARE(int(staircase.size()), 4);
    auto near = [](CanvasPoint a, CanvasPoint b) { return std::abs(a.x - b.x) < 0.01 && std::abs(a.y - b.y) < 0.01; };
    QVERIFY(near(staircase[0], s));
    QVERIFY(near(staircase[1], {t.x, s.y}));
    QVERIFY(near(staircase[2], t));
    QVERIFY(staircase[3].x > t.x && std::abs(staircase[3].y - t.y) < 0.01);
    for (const char* title : {"Inference cost (FLOPs per sample)", "Test accuracy (%)", "Accuracy against cost", "Pareto front"})
      QVERIFY2(texts.contains(title), title);
    QVERIFY(texts.contains(QString("#%1 teacher (teacher)").arg(c.teacher)));
    for (const QString& label : texts) QVERIFY2(!label.contains("e+"), qPrintable(label)); // 10M, not 1e+07

    // PNG through the same spec; clear errors for bad words and runs without figures.
    r = cli({"export-cost-chart", "--runs", runs, "--out", path("cost.png"), "--dpi", "100", "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(QImage(path("cost.png")).size(), QSize(600, 400));
    r = cli({"export-cost-chart", "--runs", runs, "--cost", "joules", "--out", path("x.svg"), "--db", db});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--cost") && r.err.contains("inference-flops"), qPrintable(r.err));
    r = cli({"export-cost-chart", "--runs", QString::number(c.unfinished), "--out", path("x.svg"), "--db", db});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("test_accuracy"), qPrintable(r.err));
    QVERIFY(!QFile::exists(path("x.svg")));
  }

  void reportsIncludeTheCostChart() {
    const CostStore& c = costStore();
    const QString db = QString::fromStdString(c.db);
    Cli r = cli({"report", "--runs", QString("%1,%2").arg(c.student).arg(c.worse), "--out", path("cost-report.html"),
                 "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString html = readAll(path("cost-report.html"));
    QCOMPARE(html.count("<svg"), 1); // no metric points, only the cost chart
    QVERIFY(html.contains("Figure 1: Test accuracy against Training compute (FLOPs)."));
    for (int64_t id : {c.student, c.worse, c.teacher})
      QVERIFY2(html.contains(QString("class=\"point\" data-run=\"%1\"").arg(id)), qPrintable(QString::number(id)));
    r = cli({"report", "--runs", QString::number(c.student), "--cost", "inference-flops", "--out", path("cost-report.md"),
             "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(readAll(path("cost-report.md")).contains("](cost-report_charts/1-cost_flops_per_sample.svg)"));
    QVERIFY(readAll(path("cost-report_charts/1-cost_flops_per_sample.svg")).contains("Inference cost (FLOPs per sample)"));
    // Runs without the figures get no cost chart.
    r = cli({"report", "--runs", QString::number(c.unfinished), "--out", path("no-cost.html"), "--db", db});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(!readAll(path("no-cost.html")).contains("Pareto front"));
  }

  // Issue 17 part 4: a student fed by the teacher-output cache is charged the
  // teacher's inference in the cost chart's time, the exports and reports say
  // what each cost counts, and teacher queries and money are cost axes too.
  void costChartChargesTheTeacherAndNamesWhatIsCounted() {
    const std::string db = spath("charged.sqlite");
    int64_t teacher = 0, student = 0;
    {
      RunStore store(db);
      testsupport::SyntheticRun t;
      t.name = "teacher";
      t.train = true;
      t.test = 0.90;
      t.wall_s = 40;
      teacher = testsupport::addRun(store, t);
      testsupport::SyntheticRun s;
      s.name = "student";
      s.test = 0.81;
      s.wall_s = 2;
      s.teacher = teacher;
      student = testsupport::addRun(store, s);
      nlohmann::json summary = store.run(student)->summary;
      summary["teacher_model"] = "cnn";
      summary["teacher_inference_s"] = 6.0;
      summary["teacher_inference_flops"] = 3e11;
      summary["teacher_cache"] = {{"teacher_seconds", 6.0}, {"teacher_seconds_source", "measured by this run"}};
      summary["teacher_queries"] = 5000.0;
      summary["money"] = 0.0;
      store.setSummary(student, summary);
    }
    const QString qdb = QString::fromStdString(db);
    const QString runs = QString::number(student);
    Cli r = cli({"export-cost-chart", "--runs", runs, "--cost", "wall", "--out", path("charged.csv"), "--db", qdb});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QStringList lines = readAll(path("charged.csv")).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    QVERIFY2(lines[1].startsWith(QString("%1,#%1 student,run,%2,8,0.81,").arg(student).arg(teacher)), qPrintable(lines[1]));
    QVERIFY2(lines[1].contains("student training 2 s + teacher inference for the cache 6 s (measured, 300G FLOPs)"),
             qPrintable(lines[1]));
    QVERIFY2(lines[2].endsWith(",training 40 s"), qPrintable(lines[2]));

    // Queries and money: the teacher asked nobody and spent nothing, so the axis is linear from 0.
    for (const char* word : {"queries", "money"}) {
      r = cli({"export-cost-chart", "--runs", runs, "--cost", word, "--out", path(QString("by-%1.json").arg(word)),
               "--db", qdb});
      QVERIFY2(r.code == 0, qPrintable(r.err));
      const auto j = nlohmann::json::parse(readAll(path(QString("by-%1.json").arg(word))).toStdString());
      QCOMPARE(j["log_x"].get<bool>(), false);
      QCOMPARE(j["points"].size(), size_t(2));
      QCOMPARE(j["points"][0]["cost"].get<double>(), std::string(word) == "queries" ? 5000.0 : 0.0);
      QCOMPARE(j["points"][1]["cost"].get<double>(), 0.0);
    }
    r = cli({"export-cost-chart", "--runs", runs, "--cost", "joules", "--out", path("x.csv"), "--db", qdb});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("queries or money"), qPrintable(r.err));

    // The report's sentence: 90% of the accuracy kept at (2 + 6) / 40 = 0.2x the training time, and what is counted.
    r = cli({"report", "--runs", runs, "--cost", "wall", "--out", path("charged.md"), "--db", qdb});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString md = readAll(path("charged.md"));
    QVERIFY2(md.contains("Costs counted on the cost chart:"), qPrintable(md));
    QVERIFY2(md.contains(QString("keeps 90.0% of teacher #%1's accuracy (81.00% vs 90.00%) at 0.2x its training time "
                                 "(5x cheaper); counted: student training 2 s + teacher inference for the cache 6 s")
                             .arg(teacher)),
             qPrintable(md));
    QVERIFY2(md.contains(QString("teacher training: in its own run #%1, not here").arg(teacher)), qPrintable(md));
    r = cli({"report", "--runs", runs, "--cost", "queries", "--out", path("charged.html"), "--db", qdb});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString html = readAll(path("charged.html"));
    QVERIFY2(html.contains("for 5k teacher queries; counted: samples the teacher answered"), qPrintable(html));
    QVERIFY(html.contains("Teacher queries (samples)"));
  }

  // issue 15 (25): \resizebox{\linewidth}{!}{...} around the tabular, braces balanced.
  void latexFitWidthScalesTheTabular() {
    TableData t;
    t.headers = {"Run", "A", "B"};
    t.numeric = {false, true, true};
    t.rows = {{"x", "1", "2"}};
    const std::string plain = tableToLatex(t, "tab:x");
    QVERIFY(plain.find("resizebox") == std::string::npos); // the default is unchanged
    const std::string fit = tableToLatex(t, "tab:x", true);
    const size_t box = fit.find("\\resizebox{\\linewidth}{!}{%\n"), begin = fit.find("\\begin{tabular}"),
                 end = fit.find("\\end{tabular}}\n");
    QVERIFY(box != std::string::npos && begin != std::string::npos && end != std::string::npos);
    QVERIFY(box < begin && begin < end);
    QVERIFY(fit.find("graphicx") != std::string::npos); // the package it needs is named
    int depth = 0;
    for (size_t i = 0; i < fit.size(); ++i) {
      if (fit[i] == '\\' && i + 1 < fit.size()) {
        ++i; // an escaped character
        continue;
      }
      if (fit[i] == '{') ++depth;
      if (fit[i] == '}') QVERIFY(--depth >= 0);
    }
    QCOMPARE(depth, 0);
  }

  void cliRejectsBadInputClearly() {
    const QString db = QString::fromStdString(db_);
    Cli c = cli({"export-chart", "--runs", "1,999", "--metric", "val_accuracy", "--out", path("x.svg"), "--db", db});
    QCOMPARE(c.code, 2);
    QVERIFY2(c.err.contains("run 999 does not exist"), qPrintable(c.err));
    c = cli({"export-chart", "--runs", QString::number(kd_), "--metric", "val_acc", "--out", path("x.svg"), "--db", db});
    QCOMPARE(c.code, 2);
    QVERIFY2(c.err.contains("val_acc") && c.err.contains("val_accuracy"), qPrintable(c.err)); // lists what exists
    c = cli({"export-chart", "--runs", QString::number(kd_), "--metric", "val_accuracy", "--out", path("x.gif"), "--db", db});
    QCOMPARE(c.code, 2);
    QVERIFY2(c.err.contains(".png"), qPrintable(c.err));
    c = cli({"report", "--runs", QString::number(kd_), "--out", "/nonexistent-dir/r.pdf", "--db", db});
    QCOMPARE(c.code, 1);
    QVERIFY2(c.err.contains("/nonexistent-dir/r.pdf"), qPrintable(c.err));
    c = cli({"report", "--runs", "1", "--out", path("r.html"), "--db", path("missing.sqlite")});
    QCOMPARE(c.code, 2);
    QVERIFY(!QFile::exists(path("missing.sqlite"))); // no empty store created by a typo
  }
};

QTEST_MAIN(TestExport)
#include "tst_export.moc"
