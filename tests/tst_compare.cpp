// Run table and compare view: the filter syntax, sorting, grouping and
// annotations of the run table, deletion, the 1,000-run table, and the
// compare view's charts (axis, log, smoothing, zoom, decimation, divergence),
// config diff and cost view. Runs are synthetic: written straight into a
// temporary store, no training.
#include "core/export/chart_spec.h"
#include "core/analysis/config_diff.h"
#include "core/analysis/run_filter.h"
#include "core/export/report_content.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "core/export/series_decimation.h"
#include "widgets/compare_chart_view.h"
#include "widgets/compare_view.h"
#include "widgets/config_diff_view.h"
#include "widgets/cost_view.h"
#include "widgets/main_window.h"
#include "widgets/run_browser.h"
#include "widgets/run_filter_proxy_model.h"
#include "widgets/run_group_proxy_model.h"
#include "widgets/run_table_model.h"
// issue 15 (29, 30, 25): columns, group statistics, kept layout, notes, menus, hyperparameters, summary table
#include "core/analysis/group_statistics.h"
#include "core/analysis/hyperparam_points.h"
#include "widgets/help_menu.h"
#include "widgets/hyperparam_view.h"
#include "widgets/notes_editor.h"
#include "widgets/run_annotation_actions.h"
#include "widgets/run_summary_view.h"
#include "widgets/run_table_header_menu.h"
#include "widgets/run_table_settings.h"
#include "widgets/summary_table_view.h"
#include "widgets/table_export_bar.h"
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QScatterSeries>
#include <QScrollBar>
#include <QSettings>
#include <QTreeView>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QHeaderView>
#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTimer>
#include "core/analysis/run_summary_table.h"
#include "widgets/legend_label.h"
#include "widgets/summary_table_view.h"
#include "widgets/run_summary_view.h"
#include "widgets/run_view.h"
#include "widgets/metric_chart_view.h"
#include "widgets/defense_view.h"
#include "widgets/table_data_model.h"
#include "test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QCategoryAxis>
#include <QScatterSeries>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTreeView>
#include <QTreeWidget>
#include <QValueAxis>
#include <QtTest>
#include <QInputDialog>
#include <QTreeWidgetItemIterator>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>

using namespace distillery;
using namespace distillery::gui;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

using testsupport::addRun;
using testsupport::SyntheticRun;

// n points of one metric at steps 1..n, values from f(step).
template <typename F>
void addCurve(RunStore& store, int64_t run, const std::string& metric, int n, F f) {
  std::vector<MetricPoint> points;
  points.reserve(size_t(n));
  for (int i = 1; i <= n; ++i) {
    MetricPoint p;
    p.run_id = run;
    p.metric = metric;
    p.step = i;
    p.epoch = i / 100.0;
    p.wall_s = i * 0.01;
    p.samples = i * 64.0;
    p.flops = i * 3e8;
    p.teacher_queries = i * 64.0;
    p.value = f(i);
    points.push_back(p);
  }
  store.appendPoints(points);
}

// Run ids in the order a proxy shows them.
QList<int64_t> idsInOrder(const QAbstractItemModel& model) {
  QList<int64_t> ids;
  for (int row = 0; row < model.rowCount(); ++row)
    ids << model.index(row, 0).data(RunTableModel::RunIdRole).toLongLong();
  return ids;
}

} // namespace

class TestCompare : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void tableSortsNumericallyAndFilters();
  void tableGroupsByConfigKey();
  void annotationsPersistInStore();
  void deleteRemovesRunAndPoints();
  void thousandRunsOpenFilterGroupAndSort();
  void decimationKeepsSpikesAtMillionPoints();
  void compareViewFollowsControls();
  void divergenceIsMarked();
  void configDiffShowsOnlyWhatDiffers();
  void costViewIncludesTeachersAndFront();
  void costViewChargesTheTeacherAndSaysWhatIsCounted();
  void addedAccuracyColumnReadsAsPercentAndShows(); // GUI walk item 5
  void exportOffersTheCostChart(); // GUI walk item 4
  void defensesTabDrawsTheSelectedApiRuns(); // issue 17 part 5
  void defensesTabTellsStrategiesApartAndSizesTheTable(); // issue 17 part 5 follow-up
  // issue 15
  void groupRowsShowMeanAndStd();
  void columnChooserAddsConfigAndSummaryColumns();
  void tableLayoutPersistsAcrossRestarts();
  void notesAreMultiLineAndAnnotationsInContextMenu();
  void viewAndHelpMenus();
  void hyperparameterPointsAndPlot();
  void summaryTableSortsAndSavesEveryFormat();
  void coloursAreUniqueWithinTheComparedSet();
  void onePointMetricShowsADot();
  void axesHaveRoundTicksWithSiLabels();
  void costAxisHasSiLabelsOnNarrowLogRanges();
  void legendShowsNamesAsPlainTextWithTheirEnds();
  void readoutFollowsZoomPanAndReset();
  // ---- issue 15 (window): filter semantics and errors, stale views, wall time, progress
  void filterErrorShowsInTheBox();
  void hintCountsAfterDelete();
  void renameReachesDetailsLegendsAndDiff();
  void detailsFollowStatusChanges();
  void wallTimeIsOneFigure();
  void teacherProgressMatchesTeacherRow();
};

void TestCompare::tableSortsNumericallyAndFilters() {
  RunStore store(":memory:");
  std::vector<int64_t> ids;
  for (double best : {0.09, 0.1, 0.85}) {
    SyntheticRun r;
    r.best = best;
    r.name = "acc" + std::to_string(best);
    ids.push_back(addRun(store, r));
  }
  SyntheticRun none; // no accuracy yet: sorts last either way
  none.name = "none";
  none.method = "dkd";
  const int64_t noneId = addRun(store, none);
  RunTableModel model(store);
  model.refresh();
  RunFilterProxyModel proxy(&model);
  proxy.sort(RunTableModel::BestValAccuracyColumn, Qt::AscendingOrder);
  QCOMPARE(idsInOrder(proxy), (QList<int64_t>{ids[0], ids[1], ids[2], noneId})); // 9% < 10%: numbers, not text
  proxy.sort(RunTableModel::BestValAccuracyColumn, Qt::DescendingOrder);
  QCOMPARE(idsInOrder(proxy), (QList<int64_t>{ids[2], ids[1], ids[0], noneId}));
  proxy.sort(RunTableModel::NameColumn, Qt::AscendingOrder);
  QCOMPARE(idsInOrder(proxy).front(), ids[0]);
  QCOMPARE(idsInOrder(proxy).back(), noneId);

  proxy.setFilterText(QStringLiteral("method=dkd"));
  QCOMPARE(idsInOrder(proxy), QList<int64_t>{noneId});
  proxy.setFilterText(QStringLiteral("acc>0.095"));
  QCOMPARE(proxy.rowCount(), 2);
  // A run that gets its accuracy later enters the filtered table on refresh.
  store.setSummary(noneId, {{"best_val_accuracy", 0.5}});
  model.refresh();
  QCOMPARE(proxy.rowCount(), 3);
  proxy.setFilterText({});
  QCOMPARE(proxy.rowCount(), 4);
}

void TestCompare::tableGroupsByConfigKey() {
  RunStore store(":memory:");
  std::map<std::string, std::vector<int64_t>> byMethod;
  int n = 0;
  for (const char* method : {"kd", "dkd", "kd", "kd", "dkd"}) {
    SyntheticRun r;
    r.method = method;
    r.best = 0.5 + 0.05 * n++;
    byMethod[method].push_back(addRun(store, r));
  }
  SyntheticRun t;
  t.train = true;
  const int64_t trainId = addRun(store, t);
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.resize(1200, 400);
  browser.show();

  const auto keys = model.groupableKeys();
  QVERIFY(std::find(keys.begin(), keys.end(), "method.name") != keys.end());
  QVERIFY(std::find(keys.begin(), keys.end(), "optim.lr") == keys.end()); // the same everywhere
  QVERIFY(std::find(keys.begin(), keys.end(), "student.hidden") != keys.end()); // absent from the train run
  browser.setGroupKey("method.name");
  RunGroupProxyModel* groups = browser.groupModel();
  QCOMPARE(groups->groupCount(), 3); // dkd, kd, and the train run without a method
  QCOMPARE(groups->groupValue(0), QStringLiteral("dkd"));
  QCOMPARE(groups->groupValue(1), QStringLiteral("kd"));
  QCOMPARE(groups->groupValue(2), QString()); // "(none)" last
  const QModelIndex kd = groups->index(1, 0);
  QVERIFY(groups->isGroup(kd));
  QCOMPARE(groups->rowCount(kd), 3);
  QVERIFY(kd.data().toString().contains(QStringLiteral("kd")));
  QVERIFY(kd.data().toString().contains(QStringLiteral("3 runs")));
  // The header row shows the best accuracy of its runs (the last kd run: 0.65).
  QCOMPARE(groups->index(1, RunTableModel::BestValAccuracyColumn).data().toString(), QStringLiteral("best 65.0%"));
  QVERIFY(browser.tree()->isExpanded(kd));
  QList<int64_t> kdIds = groups->runIds(kd);
  std::sort(kdIds.begin(), kdIds.end());
  QCOMPARE(kdIds, QList<int64_t>(byMethod["kd"].begin(), byMethod["kd"].end()));
  QCOMPARE(groups->runIds(groups->index(0, 0, groups->index(2, 0))), QList<int64_t>{trainId});

  // Selecting a group header selects its runs; selection survives a filter and a new run.
  browser.tree()->selectionModel()->select(kd, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  QCOMPARE(browser.selectedRunIds().size(), 3);
  browser.selectRun(byMethod["dkd"][0]);
  browser.setFilterText(QStringLiteral("status=finished"));
  QCOMPARE(browser.selectedRunIds(), QList<int64_t>{byMethod["dkd"][0]});
  SyntheticRun extra;
  extra.method = "dkd";
  const int64_t extraId = addRun(store, extra);
  model.refresh();
  QCOMPARE(groups->rowCount(groups->index(0, 0)), 3);
  QVERIFY(groups->runIds(groups->index(0, 0)).contains(extraId));
  QCOMPARE(browser.selectedRunIds(), QList<int64_t>{byMethod["dkd"][0]});
  // Filtering a whole group away removes its header row.
  browser.setFilterText(QStringLiteral("method=kd"));
  QCOMPARE(groups->groupCount(), 1);
  browser.setGroupKey("");
  QVERIFY(!groups->isGrouped());
  QCOMPARE(groups->rowCount(), 3);

  // A sweep's group reads by the sweep's name, not only its id.
  const int64_t sweep = store.createSweep("lr-grid", "{}");
  for (int64_t id : byMethod["kd"]) store.setSweep(id, sweep);
  model.refresh();
  browser.setFilterText(QString());
  browser.setGroupKey("sweep");
  QCOMPARE(groups->groupValue(0), QString::number(sweep));
  const QString header = groups->index(0, 0).data().toString();
  QVERIFY2(header.contains(QStringLiteral("lr-grid (#%1)").arg(sweep)) && header.contains(QStringLiteral("3 runs")),
           qPrintable(header));
}

void TestCompare::annotationsPersistInStore() {
  QTemporaryDir dir;
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  int64_t id = 0;
  {
    RunStore store(path);
    SyntheticRun r;
    r.name = "before";
    id = addRun(store, r);
    RunTableModel model(store);
    model.refresh();
    RunBrowser browser(&model);
    const int row = model.rowOf(id);
    QVERIFY(model.flags(model.index(row, RunTableModel::TagsColumn)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(row, RunTableModel::StatusColumn)) & Qt::ItemIsEditable));
    QVERIFY(model.setData(model.index(row, RunTableModel::TagsColumn), QStringLiteral(" baseline, paper ,,baseline")));
    QVERIFY(model.setData(model.index(row, RunTableModel::NotesColumn), QStringLiteral("T too high?\nsecond line")));
    QVERIFY(model.setData(model.index(row, RunTableModel::NameColumn), QStringLiteral("  after  ")));
    QVERIFY(!model.setData(model.index(row, RunTableModel::NameColumn), QStringLiteral("   "))); // names are never empty
    // A click on the star cell stars the run.
    browser.resize(1000, 300);
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    const QModelIndex star = browser.groupModel()->mapFromSource(
        browser.filterModel()->mapFromSource(model.index(row, RunTableModel::StarColumn)));
    const QRect cell = browser.tree()->visualRect(star);
    QVERIFY(cell.isValid());
    QTest::mouseClick(browser.tree()->viewport(), Qt::LeftButton, {}, cell.center());
    QCOMPARE(model.index(row, RunTableModel::NameColumn).data(Qt::EditRole).toString(), QStringLiteral("after"));
    QCOMPARE(model.index(row, RunTableModel::TagsColumn).data().toString(), QStringLiteral("baseline, paper"));
    QCOMPARE(model.index(row, RunTableModel::NotesColumn).data().toString(), QStringLiteral("T too high?"));
    // The filter sees the edits at once.
    browser.setFilterText(QStringLiteral("tag:paper starred name=after"));
    QCOMPARE(browser.visibleRunCount(), 1);
  }
  RunStore reopened(path); // another connection: what is on disk
  const auto run = reopened.run(id);
  QVERIFY(run);
  QCOMPARE(run->name, std::string("after"));
  QCOMPARE(run->tags, (std::vector<std::string>{"baseline", "paper"}));
  QCOMPARE(run->notes, std::string("T too high?\nsecond line"));
  QVERIFY(run->starred);
}

void TestCompare::deleteRemovesRunAndPoints() {
  RunStore store(":memory:");
  SyntheticRun r;
  const int64_t keep = addRun(store, r), gone = addRun(store, r);
  addCurve(store, gone, "train_loss", 50, [](int s) { return 1.0 / s; });
  addCurve(store, keep, "train_loss", 50, [](int s) { return 2.0 / s; });
  store.appendLogs({LogEvent{gone, 0.5, "info", "hello"}});
  QCOMPARE(store.pointCount(gone), 50);
  RunTableModel model(store);
  model.refresh();
  QCOMPARE(model.deleteRuns({gone}), 1);
  QCOMPARE(model.rowOf(gone), -1);
  QCOMPARE(model.rowCount(), 1);
  QVERIFY(!store.run(gone));
  QCOMPARE(store.pointCount(gone), 0);
  QVERIFY(store.logs(gone).empty());
  QCOMPARE(store.pointCount(keep), 50);
}

void TestCompare::thousandRunsOpenFilterGroupAndSort() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  const char* methods[] = {"kd", "dkd", "dist", "logit_mse"};
  for (int i = 0; i < 1000; ++i) {
    SyntheticRun r;
    r.name = "sweep-" + std::to_string(i);
    r.method = methods[i % 4];
    r.temperature = 1 + i % 8;
    r.best = 0.5 + (i % 97) / 200.0;
    r.test = *r.best - 0.01;
    addRun(store, r);
  }
  QElapsedTimer timer;
  timer.start();
  MainWindow window(store);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  QCoreApplication::processEvents();
  const qint64 openMs = timer.elapsed();
  QCOMPARE(window.runModel()->rowCount(), 1000);

  timer.restart();
  window.runBrowser()->setFilterText(QStringLiteral("method=kd temperature>4 acc>0.6"));
  QCoreApplication::processEvents();
  const qint64 filterMs = timer.elapsed();
  const int shown = window.runBrowser()->visibleRunCount();
  QVERIFY(shown > 0 && shown < 1000);

  timer.restart();
  window.runBrowser()->setFilterText(QStringLiteral("sweep-99"));
  QCoreApplication::processEvents();
  const qint64 textMs = timer.elapsed();
  QCOMPARE(window.runBrowser()->visibleRunCount(), 11); // sweep-99, sweep-990 .. sweep-999

  timer.restart();
  window.runBrowser()->setFilterText({});
  window.runBrowser()->setGroupKey("method.name");
  QCoreApplication::processEvents();
  const qint64 groupMs = timer.elapsed();
  QCOMPARE(window.runBrowser()->groupModel()->groupCount(), 4);

  timer.restart();
  window.runBrowser()->tree()->sortByColumn(RunTableModel::BestValAccuracyColumn, Qt::DescendingOrder);
  QCoreApplication::processEvents();
  const qint64 sortMs = timer.elapsed();

  qInfo("1,000 runs: open %lld ms, field filter %lld ms, text filter %lld ms, group %lld ms, sort %lld ms",
        openMs, filterMs, textMs, groupMs, sortMs);
  // Timings are reported, not asserted: speed targets belong to bench/, and CI machines are shared.
}

void TestCompare::decimationKeepsSpikesAtMillionPoints() {
  const ChartSpec spec = testsupport::millionPointsWithOneSpike();
  const int n = int(spec.curves[0].raw.size());

  QElapsedTimer timer;
  timer.start();
  const XYSeries d = decimateMinMax(spec.curves[0].raw, 0, n - 1, 1000);
  const qint64 decimateMs = timer.elapsed();
  QVERIFY(d.size() <= 2002);
  QCOMPARE(*std::max_element(d.y.begin(), d.y.end()), 50.0);

  CompareChartView view;
  view.resize(1000, 500);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  timer.restart();
  view.setSpec(spec);
  const qint64 setMs = timer.elapsed();
  timer.restart();
  view.zoomX(0.5, 777777.0);
  const qint64 zoomMs = timer.elapsed();
  timer.restart();
  view.setSmoothing(0.9);
  const qint64 smoothMs = timer.elapsed();
  const int width = view.plotWidthPixels();
  QVERIFY(width > 100);
  QVERIFY(view.drawnPointCount(1) <= 2 * width + 2);
  QVERIFY(view.rawPointCount(1) <= 2 * width + 2);
  // The spike is still drawn in the faint raw curve.
  double top = 0;
  for (QAbstractSeries* s : view.chart()->series())
    if (auto* line = qobject_cast<QLineSeries*>(s); line && line != view.curveSeries(1))
      for (const QPointF& p : line->points()) top = std::max(top, p.y());
  QCOMPARE(top, 50.0);
  qInfo("1e6 points: decimateMinMax %lld ms; chart setSpec %lld ms, wheel zoom %lld ms, smoothing change %lld ms",
        decimateMs, setMs, zoomMs, smoothMs);
}

void TestCompare::compareViewFollowsControls() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.name = "a";
  const int64_t a = addRun(store, r);
  r.name = "b";
  r.temperature = 2;
  const int64_t b = addRun(store, r);
  addCurve(store, a, "train_loss", 20000, [](int s) { return s == 12345 ? 40.0 : 2.0 / std::sqrt(double(s)); });
  addCurve(store, b, "train_loss", 20000, [](int s) { return 1.5 / std::sqrt(double(s)) + (s % 7) * 0.01; });
  addCurve(store, a, "val_accuracy", 40, [](int s) { return 0.5 + s * 0.01; });
  addCurve(store, b, "val_accuracy", 40, [](int s) { return 0.4 + s * 0.012; });

  CompareView view(store);
  view.resize(1400, 900);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QVERIFY(view.setRuns({a, b}).isEmpty());
  QCOMPARE(view.metrics(), (QStringList{QStringLiteral("val_accuracy"), QStringLiteral("train_loss")}));
  CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
  QVERIFY(loss);
  QCoreApplication::processEvents(); // lay out the grid, then redraw at the real width
  const int width = loss->plotWidthPixels();
  QVERIFY(loss->drawnPointCount(a) > 0);
  QVERIFY2(loss->drawnPointCount(a) <= 2 * width + 2, qPrintable(QString::number(loss->drawnPointCount(a))));
  QCOMPARE(loss->spec().curves.size(), size_t(2));
  QCOMPARE(loss->spec().curves[0].raw.size(), size_t(20000)); // the spec keeps full resolution
  // Legend: one entry per run, in its colour.
  QCOMPARE(loss->curveSeries(a)->pen().color(), QColor(QRgb(loss->spec().curves[0].rgb)));
  QVERIFY(loss->curveSeries(a)->name().contains(QStringLiteral("#%1").arg(a)));

  // X axis: epochs.
  auto* xCombo = view.findChild<QComboBox*>(QStringLiteral("xAxisCombo"));
  xCombo->setCurrentIndex(xCombo->findData(QStringLiteral("epoch")));
  Q_EMIT xCombo->activated(xCombo->currentIndex());
  loss = view.chart(QStringLiteral("train_loss"));
  QVERIFY(loss->spec().x_axis == XAxisKind::Epoch);
  QCOMPARE(loss->xAxis()->titleText(), QStringLiteral("Epoch"));
  QCOMPARE(loss->visibleRange().x_max, 200.0); // 20000 steps / 100

  // Log y.
  view.findChild<QCheckBox*>(QStringLiteral("logYCheck"))->setChecked(true);
  QVERIFY(loss->spec().log_y);
  QVERIFY(loss->yTickLabels().size() >= 2);
  QVERIFY(view.chart(QStringLiteral("val_accuracy"))->spec().log_y);

  // Smoothing: the smoothed line differs from the raw one, which stays drawn faintly.
  view.findChild<QSlider*>(QStringLiteral("smoothingSlider"))->setValue(60);
  QCOMPARE(loss->spec().smoothing, 0.6);
  QVERIFY(loss->rawPointCount(b) > 0);
  const auto shown = displayedValues(loss->spec(), loss->spec().curves[1]);
  QVERIFY(std::fabs(shown[10] - loss->spec().curves[1].raw.y[10]) > 1e-6);

  // Zoom, then reset.
  loss->zoomX(0.1, 100.0);
  QVERIFY(loss->isZoomed());
  QVERIFY(loss->spec().x_min && loss->spec().x_max);
  QVERIFY(*loss->spec().x_max - *loss->spec().x_min < 25.0);
  QVERIFY(loss->drawnPointCount(a) <= 2 * loss->plotWidthPixels() + 2);
  // Wheel over the chart zooms x around the cursor.
  const qreal before = *loss->spec().x_max - *loss->spec().x_min;
  const QPoint centre = loss->viewport()->rect().center();
  QWheelEvent wheel(centre, loss->viewport()->mapToGlobal(centre), {}, QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                    Qt::NoScrollPhase, false);
  QApplication::sendEvent(loss->viewport(), &wheel);
  QVERIFY(*loss->spec().x_max - *loss->spec().x_min < before);
  loss->pan(0.5, 0);
  QVERIFY(*loss->spec().x_min > 100.0 - before);
  view.findChild<QToolButton*>(QStringLiteral("resetZoomButton"))->click();
  QVERIFY(!loss->isZoomed());
  QVERIFY(!loss->spec().x_min && !loss->spec().y_min);
  QCOMPARE(loss->visibleRange().x_max, 200.0);

  // The hover read-out names every run and its value at the cursor.
  const QString readout = loss->readoutAt(50.0);
  QVERIFY(readout.contains(QStringLiteral("#%1").arg(a)));
  QVERIFY(readout.contains(QStringLiteral("#%1").arg(b)));
  QVERIFY(readout.contains(QStringLiteral("raw")));

  // Metrics can be switched off and on.
  view.setMetrics({QStringLiteral("train_loss")});
  QCOMPARE(view.charts().size(), 1);
  QVERIFY(view.charts().front()->spec().log_y); // display settings carry over

  // Exports take the view's state; the CSV holds every stored point.
  QTemporaryDir dir;
  const QString csv = dir.filePath(QStringLiteral("points.csv"));
  QVERIFY2(view.exportData(csv).isEmpty(), qPrintable(view.exportData(csv)));
  std::ifstream in(csv.toStdString());
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  QCOMPARE(lines, 1 + 2 * 20000 + 2 * 40);
  const QString svg = dir.filePath(QStringLiteral("loss.svg"));
  const QString error = view.exportChart(0, svg);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  QVERIFY(QFileInfo(svg).size() > 0);
}

void TestCompare::divergenceIsMarked() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.name = "stable";
  const int64_t ok = addRun(store, r);
  r.name = "blows-up";
  r.status = RunStatus::Diverged;
  r.error = "diverged: the training loss became NaN at step 301";
  const int64_t bad = addRun(store, r);
  addCurve(store, ok, "train_loss", 400, [](int s) { return 1.0 / s; });
  addCurve(store, bad, "train_loss", 301, [](int s) { return s > 295 ? (s == 300 ? kInf : kNaN) : 1.0 / s; });

  CompareView view(store);
  view.resize(1000, 700);
  view.show();
  view.setRuns({ok, bad});
  CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
  QVERIFY(loss);
  QVERIFY(loss->isDiverged(bad));
  QVERIFY(!loss->isDiverged(ok));
  QVERIFY(loss->divergenceMarkerCount() >= 2); // NaN marks at the top edge + the last finite value
  QVERIFY(loss->curveSeries(bad)->name().contains(QStringLiteral("diverged")));
  QVERIFY(!loss->curveSeries(ok)->name().contains(QStringLiteral("diverged")));
  // Qt Charts is never given a NaN.
  for (const QPointF& p : loss->curveSeries(bad)->points()) QVERIFY(std::isfinite(p.y()));
  QVERIFY(loss->readoutAt(298).contains(QStringLiteral("NaN")));
  QVERIFY(view.findChild<QLabel*>(QStringLiteral("compareRunsLabel"))->text().contains(QStringLiteral("diverged")));
  // The run table marks the run too.
  RunTableModel model(store);
  model.refresh();
  QVERIFY(model.index(model.rowOf(bad), 0).data(RunTableModel::DivergedRole).toBool());
  QVERIFY(!model.index(model.rowOf(ok), 0).data(RunTableModel::DivergedRole).toBool());
}

void TestCompare::configDiffShowsOnlyWhatDiffers() {
  RunStore store(":memory:");
  SyntheticRun r;
  const int64_t a = addRun(store, r);
  r.temperature = 2;
  const int64_t b = addRun(store, r);
  ConfigDiffView diff;
  diff.setRuns({*store.run(a), *store.run(b)});
  QVERIFY(diff.onlyDiffering());
  const int differing = diff.rowCount();
  QVERIFY(differing >= 1);
  bool hasTemperature = false;
  for (const auto& row : diff.table().rows) hasTemperature = hasTemperature || row[0] == "method.temperature";
  QVERIFY(hasTemperature);
  diff.setOnlyDiffering(false);
  QVERIFY(diff.rowCount() > differing + 5);

  // The same keys differ here as in the CLI's `table --kind diff` and the reports
  // (both diff currentRunConfig): a renamed run's name is one of them.
  store.renameRun(b, "kd-t2");
  diff.setRuns({*store.run(a), *store.run(b)});
  diff.setOnlyDiffering(true);
  const auto core = diffConfigs({currentRunConfig(*store.run(a)), currentRunConfig(*store.run(b))}, true);
  QCOMPARE(diff.rowCount(), int(core.size()));
  bool hasName = false;
  for (const auto& row : diff.table().rows) hasName = hasName || row[0] == "name";
  QVERIFY(hasName);
}

// Export ▸ Chart offered only the metric charts, even on the Cost tab; the
// CLI's export-cost-chart had no GUI counterpart.
void TestCompare::exportOffersTheCostChart() {
  RunStore store(":memory:");
  SyntheticRun t;
  t.name = "teacher";
  t.train = true;
  t.test = 0.90;
  t.flops_per_sample = 1e8;
  const int64_t teacher = addRun(store, t);
  SyntheticRun s;
  s.name = "student";
  s.test = 0.86;
  s.flops_per_sample = 1e6;
  s.teacher = teacher;
  const int64_t student = addRun(store, s);
  addCurve(store, student, "train_loss", 50, [](int step) { return 1.0 / step; });

  CompareView view(store);
  view.resize(1000, 700);
  view.show();
  view.setRuns({student});
  view.tabs()->setCurrentWidget(view.costView());
  view.costView()->setCost(CostView::Cost::InferenceFlops);
  const QStringList titles = view.exportChartTitles();
  QVERIFY2(titles.contains(QStringLiteral("Cost chart")), qPrintable(titles.join(u',')));
  const int cost = int(titles.indexOf(QStringLiteral("Cost chart")));
  QCOMPARE(view.exportChartCurrent(), cost);
  QTemporaryDir dir;
  const QString svg = dir.filePath(QStringLiteral("cost.svg"));
  const QString error = view.exportChart(cost, svg);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  QFile file(svg);
  QVERIFY(file.open(QIODevice::ReadOnly));
  const QString text = QString::fromUtf8(file.readAll());
  // The cost tab's chart (a FLOPs axis, the teacher's dot), not a metric chart.
  QVERIFY2(text.contains(QStringLiteral("FLOPs")), qPrintable(text.left(400)));
  QVERIFY(text.contains(QStringLiteral("teacher")));
}

void TestCompare::costViewIncludesTeachersAndFront() {
  RunStore store(":memory:");
  SyntheticRun t;
  t.name = "teacher";
  t.train = true;
  t.test = 0.90;
  t.flops_per_sample = 1e8;
  const int64_t teacher = addRun(store, t);
  SyntheticRun s;
  s.name = "student";
  s.test = 0.86;
  s.flops_per_sample = 1e6;
  s.teacher = teacher;
  const int64_t student = addRun(store, s);
  s.name = "worse";
  s.test = 0.80;
  s.flops_per_sample = 2e6;
  const int64_t worse = addRun(store, s);

  CostView view(store);
  view.resize(900, 600);
  view.show();
  view.setRuns({student, worse});
  view.setCost(CostView::Cost::InferenceFlops);
  QCOMPARE(int(view.points().size()), 3); // the teacher joins the plot
  bool teacherFlagged = false;
  for (const auto& p : view.points()) teacherFlagged = teacherFlagged || (p.run_id == teacher && p.teacher);
  QVERIFY(teacherFlagged);
  QCOMPARE(view.frontRunIds(), (std::vector<int64_t>{student, teacher})); // "worse" is beaten on both counts
  QVERIFY(view.comparisonText().contains(QStringLiteral("95.6%"))); // 0.86 / 0.90 of the accuracy kept
  QVERIFY(view.comparisonText().contains(QStringLiteral("100")));   // 100x cheaper
}

// Issue 17 part 4: a student distilled through the teacher-output cache is
// charged the teacher's inference (its wall time holds the cache's 12 s), the
// sentence says what is counted, and queries and money are axes too.
void TestCompare::costViewChargesTheTeacherAndSaysWhatIsCounted() {
  RunStore store(":memory:");
  SyntheticRun t;
  t.name = "teacher";
  t.train = true;
  t.test = 0.90;
  t.wall_s = 100;
  const int64_t teacher = addRun(store, t);
  SyntheticRun s;
  s.name = "student";
  s.test = 0.85;
  s.wall_s = 0.5;
  s.teacher = teacher;
  const int64_t student = addRun(store, s);
  nlohmann::json summary = store.run(student)->summary;
  summary["teacher_model"] = "cnn[8] fc32";
  summary["teacher_inference_s"] = 12.0;
  summary["teacher_inference_flops"] = 1.2e12;
  summary["teacher_cache"] = {{"status", "hit"}, {"teacher_seconds", 12.0},
                              {"teacher_seconds_source", "recorded by the run that computed it"}};
  summary["teacher_queries"] = 3500.0;
  summary["money"] = 0.75;
  store.setSummary(student, summary);

  CostView view(store);
  view.resize(1100, 700);
  view.show();
  view.setRuns({student});
  auto* combo = view.findChild<QComboBox*>(QStringLiteral("costCombo"));
  QVERIFY(combo);
  QVERIFY(combo->findData(int(CostView::Cost::TeacherQueries)) >= 0);
  QVERIFY(combo->findData(int(CostView::Cost::Money)) >= 0);

  view.setCost(CostView::Cost::WallTime);
  QCOMPARE(int(view.points().size()), 2);
  QCOMPARE(view.points()[0].run_id, student);
  QCOMPARE(view.points()[0].cost, 12.5); // 0.5 s of student training + 12 s of teacher inference
  const QString wall = view.comparisonText();
  QVERIFY2(wall.contains(QStringLiteral("0.125x its training time")), qPrintable(wall));
  QVERIFY2(wall.contains(QStringLiteral("counted: student training 0.5 s + teacher inference for the cache 12 s "
                                        "(recorded when the cache was filled, 1.2T FLOPs)")),
           qPrintable(wall));
  QVERIFY2(wall.contains(QStringLiteral("teacher training: in its own run #%1, not here").arg(teacher)), qPrintable(wall));

  view.setCost(CostView::Cost::TrainingFlops);
  QVERIFY2(view.comparisonText().contains(QStringLiteral("teacher inference for the cache 1.2T FLOPs")),
           qPrintable(view.comparisonText()));

  // The teacher asked no teacher: a linear axis from 0, and no ratio to a zero.
  view.setCost(CostView::Cost::TeacherQueries);
  QCOMPARE(int(view.points().size()), 2);
  QCOMPARE(view.points()[0].cost, 3500.0);
  QVERIFY2(view.comparisonText().contains(QStringLiteral("for 3.5k teacher queries")), qPrintable(view.comparisonText()));
  view.setCost(CostView::Cost::Money);
  QCOMPARE(view.points()[0].cost, 0.75);
  QVERIFY2(view.comparisonText().contains(QStringLiteral("for 0.75 spent on its answers")),
           qPrintable(view.comparisonText()));
  QVERIFY2(view.comparisonText().contains(QStringLiteral("teacher answers bought from an API")),
           qPrintable(view.comparisonText()));
}

// Group rows: mean ± sample std over a group's runs. Reference values from
// Python's statistics module (independent of our code):
//   statistics.mean([0.80, 0.82, 0.86]) = 0.8266666666666667
//   statistics.stdev([0.80, 0.82, 0.86]) = 0.030550504633038912   (n-1)
//   statistics.mean([0.5, 0.7]) = 0.6, statistics.stdev([0.5, 0.7]) = 0.14142135623730948
void TestCompare::groupRowsShowMeanAndStd() {
  const auto stats = groupStatistics({0.80, 0.82, 0.86, kNaN});
  QVERIFY(stats);
  QCOMPARE(stats->count, size_t(3)); // NaN is not a value
  QVERIFY(std::fabs(stats->mean - 0.8266666666666667) < 1e-12);
  QVERIFY(std::fabs(stats->std - 0.030550504633038912) < 1e-12);
  QCOMPARE(stats->min, 0.80);
  QCOMPARE(stats->max, 0.86);
  // Two values: sample std is |a - b| / sqrt(2).
  QVERIFY(std::fabs(groupStatistics({0.5, 0.7})->std - 0.2 / std::sqrt(2.0)) < 1e-12);
  QCOMPARE(groupStatistics({0.5})->std, 0.0);
  QVERIFY(!groupStatistics({kNaN}));
  QCOMPARE(parseGroupAggregate("mean_std"), std::optional<GroupAggregate>(GroupAggregate::MeanStd));
  QVERIFY(!parseGroupAggregate("median"));

  RunStore store(":memory:");
  const double kdAcc[] = {0.80, 0.82, 0.86}, dkdAcc[] = {0.5, 0.7};
  const double kdWall[] = {10, 12, 17};
  for (int i = 0; i < 3; ++i) {
    SyntheticRun r;
    r.method = "kd";
    r.best = kdAcc[i];
    r.wall_s = kdWall[i];
    addRun(store, r);
  }
  for (double acc : dkdAcc) {
    SyntheticRun r;
    r.method = "dkd";
    r.best = acc;
    addRun(store, r);
  }
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.setGroupKey("method.name");
  RunGroupProxyModel* groups = browser.groupModel();
  QCOMPARE(groups->groupValue(1), QStringLiteral("kd"));
  const int acc = RunTableModel::BestValAccuracyColumn;
  QCOMPARE(groups->index(1, acc).data().toString(), QStringLiteral("best 86.0%")); // the default is unchanged
  groups->setAggregate(GroupAggregate::MeanStd);
  QCOMPARE(groups->index(1, acc).data().toString(), QStringLiteral("82.7 \u00b1 3.1%"));
  QCOMPARE(groups->index(0, acc).data().toString(), QStringLiteral("60.0 \u00b1 14.1%"));
  const auto kdStats = groups->groupStatistics(1, acc);
  QVERIFY(kdStats && std::fabs(kdStats->std - 0.030550504633038912) < 1e-12);
  QVERIFY(groups->index(1, acc).data(Qt::ToolTipRole).toString().contains(QStringLiteral("3 of 3 runs")));
  groups->setAggregate(GroupAggregate::Mean);
  QCOMPARE(groups->index(1, acc).data().toString(), QStringLiteral("mean 82.7%"));
  groups->setAggregate(GroupAggregate::Min);
  QCOMPARE(groups->index(1, acc).data().toString(), QStringLiteral("min 80.0%"));

  // Every numeric column aggregates under mean ± std, an added summary column too:
  // statistics.mean([10, 12, 17]) = 13, statistics.stdev([10, 12, 17]) = 3.605551275463989.
  groups->setAggregate(GroupAggregate::MeanStd);
  browser.headerMenu()->setKeyVisible("summary.wall_s", true);
  const int wallColumn = model.extraColumnOf("summary.wall_s");
  QVERIFY(wallColumn >= RunTableModel::ColumnCount);
  QCOMPARE(groups->columnCount(), model.columnCount());
  QCOMPARE(groups->index(1, wallColumn).data().toString(), QStringLiteral("13 \u00b1 3.606"));
  // Text columns have no statistics.
  QVERIFY(groups->index(1, RunTableModel::MethodColumn).data().toString().isEmpty());
}

// The walk added Summary Metrics ▸ test_accuracy: the column appeared past the
// right edge, reading 0.7466 beside the table's 80.8%.
void TestCompare::addedAccuracyColumnReadsAsPercentAndShows() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.test = 0.7466;
  r.best = 0.808;
  const int64_t id = addRun(store, r);
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.resize(700, 300);
  browser.show();
  QVERIFY(QTest::qWaitForWindowExposed(&browser));
  QTreeView* tree = browser.tree();
  QCOMPARE(tree->horizontalScrollBar()->value(), 0);
  // As the user does it: the header menu's Summary Metrics ▸ test_accuracy.
  QMenu menu;
  browser.headerMenu()->fillColumnsMenu(&menu);
  QAction* add = nullptr;
  for (QAction* a : menu.findChildren<QAction*>())
    if (a->text() == QStringLiteral("test_accuracy")) add = a;
  QVERIFY(add);
  add->trigger();
  const int column = model.extraColumnOf("summary.test_accuracy");
  QVERIFY(column >= 0);
  QCOMPARE(model.index(model.rowOf(id), column).data().toString(), QStringLiteral("74.7%"));
  QCOMPARE(model.index(model.rowOf(id), RunTableModel::BestValAccuracyColumn).data().toString(), QStringLiteral("80.8%"));
  // Sorting still uses the stored fraction; a non-fraction figure keeps its digits.
  QCOMPARE(model.index(model.rowOf(id), column).data(RunTableModel::SortRole).toDouble(), 0.7466);
  browser.headerMenu()->setKeyVisible("summary.wall_s", true);
  QVERIFY(!model.index(model.rowOf(id), model.extraColumnOf("summary.wall_s")).data().toString().endsWith(u'%'));
  // The column chosen in the menu is in view.
  const int last = column;
  QHeaderView* header = tree->header();
  QTRY_VERIFY2(header->sectionViewportPosition(last) >= 0 &&
                   header->sectionViewportPosition(last) + header->sectionSize(last) <= tree->viewport()->width(),
               qPrintable(QStringLiteral("column at %1 + %2, viewport %3")
                              .arg(header->sectionViewportPosition(last)).arg(header->sectionSize(last))
                              .arg(tree->viewport()->width())));
}

void TestCompare::columnChooserAddsConfigAndSummaryColumns() {
  RunStore store(":memory:");
  std::vector<int64_t> ids;
  for (double t : {8.0, 2.0, 4.0}) {
    SyntheticRun r;
    r.temperature = t;
    r.test = t / 10.0;
    ids.push_back(addRun(store, r));
  }
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.resize(1200, 300);
  browser.show();
  RunTableHeaderMenu* menu = browser.headerMenu();
  // The header's menu offers config keys and summary metrics.
  const auto keys = model.columnableKeys();
  QVERIFY(std::find(keys.begin(), keys.end(), "method.temperature") != keys.end());
  QVERIFY(std::find(keys.begin(), keys.end(), "summary.test_accuracy") != keys.end());
  QMenu qmenu;
  menu->fillColumnsMenu(&qmenu);
  QStringList titles;
  for (QAction* a : qmenu.actions()) titles << a->text();
  QVERIFY2(titles.contains(QStringLiteral("Config Keys")) && titles.contains(QStringLiteral("Summary Metrics")) &&
               titles.contains(QStringLiteral("Status")),
           qPrintable(titles.join(u',')));
  QCOMPARE(browser.tree()->header()->contextMenuPolicy(), Qt::CustomContextMenu);

  // Checking a key adds its column to the table, with each run's value.
  const int before = browser.tree()->model()->columnCount();
  menu->setKeyVisible("method.temperature", true);
  const int column = model.extraColumnOf("method.temperature");
  QCOMPARE(column, before);
  QCOMPARE(browser.tree()->model()->columnCount(), before + 1);
  QCOMPARE(browser.tree()->model()->headerData(column, Qt::Horizontal).toString(), QStringLiteral("method.temperature"));
  QCOMPARE(model.index(model.rowOf(ids[1]), column).data().toString(), QStringLiteral("2"));
  // It sorts as numbers.
  browser.tree()->sortByColumn(column, Qt::AscendingOrder);
  QCOMPARE(idsInOrder(*browser.filterModel()), (QList<int64_t>{ids[1], ids[2], ids[0]}));
  menu->setKeyVisible("summary.test_accuracy", true);
  QCOMPARE(browser.tree()->model()->headerData(model.extraColumnOf("summary.test_accuracy"), Qt::Horizontal).toString(),
           QStringLiteral("test_accuracy"));
  QCOMPARE(menu->visibleKeys(), (std::vector<std::string>{"method.temperature", "summary.test_accuracy"}));
  // Unchecking hides; fixed columns hide too, except the name.
  menu->setKeyVisible("method.temperature", false);
  QVERIFY(browser.tree()->header()->isSectionHidden(column));
  QCOMPARE(menu->visibleKeys(), std::vector<std::string>{"summary.test_accuracy"});
  menu->setColumnVisible(RunTableModel::TaskColumn, false);
  menu->setColumnVisible(RunTableModel::NameColumn, false);
  QCOMPARE(menu->hiddenColumns(), QList<int>{RunTableModel::TaskColumn});
  // Grouped, the added column is there too, and a refresh keeps it.
  browser.setGroupKey("method.name");
  model.refresh();
  QCOMPARE(browser.groupModel()->columnCount(), model.columnCount());
  QVERIFY(!browser.groupModel()->index(0, 0, browser.groupModel()->index(0, 0)).siblingAtColumn(column).data().toString().isEmpty());
}

void TestCompare::tableLayoutPersistsAcrossRestarts() {
  QTemporaryDir dir;
  const QString ini = dir.filePath(QStringLiteral("settings.ini"));
  RunStore store(":memory:");
  for (const char* method : {"kd", "dkd", "kd"}) {
    SyntheticRun r;
    r.method = method;
    r.best = 0.7;
    r.test = 0.6;
    addRun(store, r);
  }
  RunTableModel model(store);
  model.refresh();
  {
    RunBrowser browser(&model);
    RunTableSettings settings(&browser, ini);
    settings.restore(); // nothing saved yet: the defaults stay
    QCOMPARE(browser.tree()->header()->sortIndicatorSection(), int(RunTableModel::CreatedColumn));
    browser.headerMenu()->setKeyVisible("summary.test_accuracy", true);
    browser.headerMenu()->setColumnVisible(RunTableModel::TeacherColumn, false);
    browser.tree()->sortByColumn(model.extraColumnOf("summary.test_accuracy"), Qt::AscendingOrder);
    browser.setGroupKey("method.name");
    browser.groupModel()->setAggregate(GroupAggregate::MeanStd);
    Q_EMIT browser.headerMenu()->changed(); // as the menu does after a choice
  }
  QSettings check(ini, QSettings::IniFormat);
  QCOMPARE(check.value(QStringLiteral("runTable/groupKey")).toString(), QStringLiteral("method.name"));
  QCOMPARE(check.value(QStringLiteral("runTable/sortColumn")).toString(), QStringLiteral("key:summary.test_accuracy"));

  // A new session: a new model and browser, the same layout.
  RunTableModel model2(store);
  model2.refresh();
  RunBrowser browser(&model2);
  RunTableSettings settings(&browser, ini);
  settings.restore();
  const int column = model2.extraColumnOf("summary.test_accuracy");
  QVERIFY(column >= RunTableModel::ColumnCount);
  QVERIFY(!browser.tree()->header()->isSectionHidden(column));
  QVERIFY(browser.tree()->header()->isSectionHidden(RunTableModel::TeacherColumn));
  QVERIFY(!browser.tree()->header()->isSectionHidden(RunTableModel::StatusColumn));
  QCOMPARE(browser.tree()->header()->sortIndicatorSection(), column);
  QCOMPARE(browser.tree()->header()->sortIndicatorOrder(), Qt::AscendingOrder);
  QCOMPARE(browser.groupModel()->groupKey(), std::string("method.name"));
  QCOMPARE(browser.groupCombo()->currentData().toString(), QStringLiteral("method.name"));
  QCOMPARE(browser.groupModel()->aggregate(), GroupAggregate::MeanStd);
}

void TestCompare::notesAreMultiLineAndAnnotationsInContextMenu() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.name = "noted";
  const int64_t id = addRun(store, r);
  SyntheticRun other;
  const int64_t otherId = addRun(store, other);
  store.setTags(otherId, {"mine", "shared"});
  store.setTags(id, {"shared"});
  MainWindow window(store);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  RunTableModel* model = window.runModel();
  QTreeView* tree = window.runTable();

  // The table's context menu has tags and notes.
  RunAnnotationActions* annotations = window.annotationActions();
  QVERIFY(tree->actions().contains(annotations->editTagsAction()));
  QVERIFY(tree->actions().contains(annotations->editNotesAction()));

  // In place, the Notes cell edits with a multi-line editor and stores the text as typed.
  window.selectRun(id);
  const QModelIndex notes = tree->selectionModel()->currentIndex().siblingAtColumn(RunTableModel::NotesColumn);
  tree->edit(notes);
  auto* editor = tree->findChild<QPlainTextEdit*>(QStringLiteral("notesEditor"));
  QVERIFY(editor);
  const QString typed = QStringLiteral("lr too high?\n  - try 1e-3\n\nthen T=2");
  editor->setPlainText(typed);
  tree->itemDelegateForColumn(RunTableModel::NotesColumn)->setModelData(editor, tree->model(), notes);
  QCOMPARE(QString::fromStdString(store.run(id)->notes), typed);
  QCOMPARE(model->index(model->rowOf(id), RunTableModel::NotesColumn).data().toString(), QStringLiteral("lr too high?"));
  // The dialog starts from the stored text.
  NotesDialog dialog(QStringLiteral("#1"), typed);
  QCOMPARE(dialog.notes(), typed);

  // Details show every line, and the tags.
  RunSummaryView details;
  details.showRun(*store.run(id));
  QStringList values;
  for (QTreeWidgetItemIterator it(&details); *it; ++it) values << (*it)->text(1);
  QVERIFY2(values.contains(QStringLiteral("lr too high?")) && values.contains(QStringLiteral("  - try 1e-3")) &&
               values.contains(QStringLiteral("then T=2")) && values.contains(QStringLiteral("shared")),
           qPrintable(values.join(u'|')));

  // Editing the tags of two runs changes only the shared ones: each keeps its own.
  window.runBrowser()->selectRuns({id, otherId});
  QTimer::singleShot(0, [] {
    auto* input = qobject_cast<QInputDialog*>(QApplication::activeModalWidget());
    QVERIFY(input);
    QCOMPARE(input->textValue(), QStringLiteral("shared"));
    input->setTextValue(QStringLiteral("shared, paper"));
    input->accept();
  });
  annotations->editTagsAction()->trigger();
  QCOMPARE(store.run(id)->tags, (std::vector<std::string>{"shared", "paper"}));
  QCOMPARE(store.run(otherId)->tags, (std::vector<std::string>{"mine", "shared", "paper"}));
}

void TestCompare::viewAndHelpMenus() {
  RunStore store(":memory:");
  for (const char* method : {"kd", "dkd"}) {
    SyntheticRun r;
    r.method = method;
    r.best = 0.5;
    addRun(store, r);
  }
  MainWindow window(store);
  QStringList menus;
  for (QAction* a : window.menuBar()->actions()) menus << a->text().remove(u'&');
  QVERIFY2(menus.contains(QStringLiteral("View")) && menus.contains(QStringLiteral("Help")), qPrintable(menus.join(u',')));
  QVERIFY(menus.indexOf(QStringLiteral("Help")) == menus.size() - 1); // Help last, by convention

  auto* view = window.menuBar()->findChild<QMenu*>(QStringLiteral("viewMenu"));
  QVERIFY(view);
  auto submenu = [&](const QString& title) -> QMenu* {
    for (QAction* a : view->actions())
      if (a->menu() && a->text().remove(u'&') == title) {
        Q_EMIT a->menu()->aboutToShow(); // filled when it opens
        return a->menu();
      }
    return nullptr;
  };
  auto trigger = [](QMenu* menu, const QString& text) {
    for (QAction* a : menu->actions())
      if (a->text().remove(u'&') == text) {
        a->trigger();
        return true;
      }
    return false;
  };
  QMenu* groupBy = submenu(QStringLiteral("Group Runs By"));
  QVERIFY(groupBy && trigger(groupBy, QStringLiteral("method.name")));
  QCOMPARE(window.runBrowser()->groupModel()->groupKey(), std::string("method.name"));
  QMenu* aggregate = submenu(QStringLiteral("Group Rows Show"));
  QVERIFY(aggregate && trigger(aggregate, QStringLiteral("Mean \u00b1 std (sample, n-1)")));
  QCOMPARE(window.runBrowser()->groupModel()->aggregate(), GroupAggregate::MeanStd);
  QMenu* columns = submenu(QStringLiteral("Run Table Columns"));
  QVERIFY(columns && trigger(columns, QStringLiteral("Task")));
  QVERIFY(window.runTable()->header()->isSectionHidden(RunTableModel::TaskColumn));
  QMenu* smoothing = submenu(QStringLiteral("Compare Chart Smoothing"));
  QVERIFY(smoothing && trigger(smoothing, QStringLiteral("0.9")));
  QCOMPARE(window.compareView()->smoothing(), 0.9);
  // Reopening rebuilds the menu without piling up old entries.
  const int entries = submenu(QStringLiteral("Compare Chart Smoothing"))->actions().size();
  QCOMPARE(submenu(QStringLiteral("Compare Chart Smoothing"))->actions().size(), entries);

  // Help: the shortcuts list is read from the actions; the docs folder is found from the build tree.
  const QString shortcuts = shortcutList(&window);
  QVERIFY2(shortcuts.contains(QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText)) &&
               shortcuts.contains(QStringLiteral("New Run")) && shortcuts.contains(QStringLiteral("Compare")),
           qPrintable(shortcuts));
  QVERIFY(window.findChild<QAction*>(QStringLiteral("aboutAction")));
  QVERIFY(window.findChild<QAction*>(QStringLiteral("documentationAction")));
  QVERIFY2(QFileInfo::exists(documentationFolder() + QStringLiteral("/docs/architecture.md")),
           qPrintable(documentationFolder()));
}

void TestCompare::hyperparameterPointsAndPlot() {
  RunStore store(":memory:");
  const int64_t sweep = store.createSweep("t-grid", "{}");
  std::vector<int64_t> ids;
  const double temps[] = {4.0, 1.0, 8.0}, accs[] = {0.81, 0.72, 0.77};
  for (int i = 0; i < 3; ++i) {
    SyntheticRun r;
    r.name = "t-grid/method.temperature=" + std::to_string(int(temps[i]));
    r.temperature = temps[i];
    r.best = accs[i];
    r.method = i == 2 ? "dkd" : "kd";
    ids.push_back(addRun(store, r));
    store.setSweep(ids.back(), sweep);
  }
  SyntheticRun outside; // no sweep, no accuracy
  const int64_t outsideId = addRun(store, outside);

  std::vector<RunRecord> runs = store.runs();
  const HyperparamKeys keys = hyperparamKeys(runs);
  QVERIFY(std::find(keys.config_keys.begin(), keys.config_keys.end(), "method.temperature") != keys.config_keys.end());
  // Keys that differ between the runs come before those that do not.
  const auto at = [&](const std::string& k) {
    return std::find(keys.config_keys.begin(), keys.config_keys.end(), k) - keys.config_keys.begin();
  };
  QVERIFY(at("method.temperature") < at("optim.lr"));
  QVERIFY(size_t(at("method.temperature")) < keys.varying && size_t(at("optim.lr")) >= keys.varying);
  QVERIFY(std::find(keys.metrics.begin(), keys.metrics.end(), "best_val_accuracy") != keys.metrics.end());

  const HyperparamScatter numeric = hyperparamScatter(runs, "method.temperature", "best_val_accuracy");
  QVERIFY(numeric.x_numeric);
  QCOMPARE(numeric.points.size(), size_t(3));
  QCOMPARE(numeric.missing, std::vector<int64_t>{outsideId}); // it has no best_val_accuracy
  for (const HyperparamPoint& p : numeric.points) {
    const size_t i = size_t(std::find(ids.begin(), ids.end(), p.run_id) - ids.begin());
    QVERIFY(i < 3);
    QCOMPARE(p.x, temps[i]);
    QCOMPARE(p.y, accs[i]);
  }
  const HyperparamScatter categorical = hyperparamScatter(runs, "method.name", "best_val_accuracy");
  QVERIFY(!categorical.x_numeric);
  QCOMPARE(categorical.categories, (std::vector<std::string>{"dkd", "kd"}));
  for (const HyperparamPoint& p : categorical.points) QCOMPARE(p.x, p.x_text == "dkd" ? 0.0 : 1.0);

  // The view: one sweep, x and y picked in combo boxes, one marker per run.
  HyperparamView view(store);
  view.setSelectedRuns({ids[0]}); // one run: nothing varies; the sweep then offers a key that does
  QVERIFY(view.showSweep(sweep));
  std::vector<RunRecord> sweepRuns;
  for (const RunRecord& run : runs)
    if (run.sweep_id == sweep) sweepRuns.push_back(run);
  const HyperparamKeys sweepKeys = hyperparamKeys(sweepRuns);
  const auto chosen = std::find(sweepKeys.config_keys.begin(), sweepKeys.config_keys.end(),
                                view.xCombo()->currentText().toStdString());
  QVERIFY2(chosen - sweepKeys.config_keys.begin() < std::ptrdiff_t(sweepKeys.varying),
           qPrintable(view.xCombo()->currentText())); // a key that varies in the sweep
  QVERIFY(view.setAxes("method.temperature", "best_val_accuracy"));
  QCOMPARE(view.series()->count(), 3);
  QSet<QPair<double, double>> drawn, expected;
  for (const QPointF& p : view.series()->points()) drawn.insert({p.x(), p.y()});
  for (int i = 0; i < 3; ++i) expected.insert({temps[i], accs[i]});
  QCOMPARE(drawn, expected);
  view.xCombo()->setCurrentText(QStringLiteral("method.name"));
  QCOMPARE(view.scatter().x_key, std::string("method.name"));
  QVERIFY(!view.scatter().x_numeric);
  // The selected runs instead of a sweep.
  view.setSelectedRuns({ids[0], ids[1]});
  QVERIFY(view.setAxes("method.temperature", "best_val_accuracy"));
  QCOMPARE(view.series()->count(), 2);
}

void TestCompare::summaryTableSortsAndSavesEveryFormat() {
  RunStore store(":memory:");
  std::vector<int64_t> ids;
  for (double best : {0.09, 0.85, 0.1}) {
    SyntheticRun r;
    r.best = best;
    ids.push_back(addRun(store, r));
  }
  SyntheticRun none; // no best accuracy: last in either order
  const int64_t noneId = addRun(store, none);
  SummaryTableView view(store);
  view.setRuns({ids[0], ids[1], ids[2], noneId});
  QCOMPARE(view.table().rows.size(), size_t(4));
  QCOMPARE(view.table().rows[0][0], runLabel(ids[0], "run")); // the compare order until a click
  QVERIFY(view.view()->isSortingEnabled());
  // A click on "Best val acc" sorts by the figure (9% < 10%), and the export follows.
  const int bestColumn = 1;
  QCOMPARE(QString::fromStdString(view.table().headers[bestColumn]).left(8), QStringLiteral("Best val"));
  view.view()->sortByColumn(bestColumn, Qt::AscendingOrder);
  std::vector<std::string> order;
  for (const auto& row : view.table().rows) order.push_back(row[bestColumn]);
  QCOMPARE(order, (std::vector<std::string>{"9.00", "10.00", "85.00", "-"}));
  view.view()->sortByColumn(bestColumn, Qt::DescendingOrder);
  QCOMPARE(view.table().rows.front()[bestColumn], std::string("85.00"));
  QCOMPARE(view.table().rows.back()[bestColumn], std::string("-"));

  // Save offers and writes what the CLI writes: .tex .md .csv .html.
  const QString filters = TableExportBar::fileFilters();
  for (const char* ext : {"*.tex", "*.md", "*.csv", "*.html"}) QVERIFY2(filters.contains(QLatin1String(ext)), ext);
  QTemporaryDir dir;
  for (const char* ext : {"tex", "md", "csv", "html"}) {
    const QString path = dir.filePath(QStringLiteral("summary.") + QLatin1String(ext));
    QCOMPARE(view.exportBar()->saveTo(path), QString());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QVERIFY2(text.contains(QStringLiteral("85.00")), ext);
    if (QLatin1String(ext) == QLatin1String("csv")) QVERIFY(text.startsWith(QStringLiteral("Run,")));
    if (QLatin1String(ext) == QLatin1String("html")) QVERIFY(text.contains(QStringLiteral("<table>")));
    // The summary's 14 columns are scaled to the text width by default.
    if (QLatin1String(ext) == QLatin1String("tex")) QVERIFY(text.contains(QStringLiteral("\\resizebox{\\linewidth}{!}{%")));
  }
  QVERIFY(!view.exportBar()->saveTo(dir.filePath(QStringLiteral("summary.xlsx"))).isEmpty());
}

// #2 and #14 share a palette entry (id mod 12): compared together they must
// not share a colour, in the charts, the chips, the tables and the cost plot.
void TestCompare::coloursAreUniqueWithinTheComparedSet() {
  RunStore store(":memory:");
  QList<int64_t> all;
  for (int i = 1; i <= 26; ++i) {
    SyntheticRun r;
    r.name = "r" + std::to_string(i);
    r.test = 0.5 + 0.01 * i;
    r.flops_per_sample = 1e5 * i;
    const int64_t id = addRun(store, r);
    addCurve(store, id, "train_loss", 20, [i](int s) { return 1.0 / (s + i); });
    all << id;
  }
  QCOMPARE(all.front(), int64_t(1));
  CompareView view(store);
  view.resize(1200, 800);
  view.show();
  for (const QList<int64_t>& ids : QList<QList<int64_t>>{{2, 14}, {1, 13, 25}, {1, 2, 3, 13, 14, 15, 25, 26, 4, 16, 5, 17}}) {
    view.setRuns(ids);
    CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
    QVERIFY(loss);
    QSet<QRgb> curves, summary, cost;
    for (int64_t id : ids) curves.insert(loss->curveSeries(id)->pen().color().rgb());
    QCOMPARE(curves.size(), ids.size());
    // The summary table's colour swatches and the cost plot's dots match the curves.
    const auto* table = view.summaryView()->view();
    QVERIFY(table);
    for (int row = 0; row < table->model()->rowCount(); ++row) {
      const QVariant c = table->model()->index(row, 0).data(Qt::DecorationRole);
      if (c.canConvert<QColor>()) summary.insert(c.value<QColor>().rgb());
    }
    QCOMPARE(summary, curves);
    view.costView()->setCost(CostView::Cost::InferenceFlops);
    for (int64_t id : ids) {
      QCOMPARE(view.costView()->colorOf(id).rgb(), loss->curveSeries(id)->pen().color().rgb());
      cost.insert(view.costView()->colorOf(id).rgb());
    }
    QCOMPARE(cost.size(), ids.size());
    // The run chips above the charts use the same colours.
    const QString chips = view.findChild<QLabel*>(QStringLiteral("compareRunsLabel"))->text();
    for (QRgb c : curves) QVERIFY(chips.contains(QColor(c).name()));
  }
}

// Test accuracy is measured once per run: each run's one point shows as a dot.
void TestCompare::onePointMetricShowsADot() {
  RunStore store(":memory:");
  SyntheticRun r;
  const int64_t a = addRun(store, r), b = addRun(store, r);
  addCurve(store, a, "test_accuracy", 1, [](int) { return 0.83; });
  addCurve(store, b, "test_accuracy", 1, [](int) { return 0.86; });
  addCurve(store, a, "train_loss", 50, [](int s) { return 1.0 / s; });
  CompareView view(store);
  view.resize(1000, 700);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setRuns({a, b});
  view.setMetrics({QStringLiteral("test_accuracy"), QStringLiteral("train_loss")});
  CompareChartView* test = view.chart(QStringLiteral("test_accuracy"));
  QVERIFY(test);
  QCoreApplication::processEvents();
  test->redraw();
  for (int64_t id : {a, b}) {
    QScatterSeries* dots = test->pointSeries(id);
    QVERIFY(dots && dots->isVisible());
    QCOMPARE(dots->count(), 1);
    QCOMPARE(dots->color().rgb(), test->curveSeries(id)->pen().color().rgb());
    QVERIFY(dots->markerSize() >= 6);
    // Inside the plot, not on its frame.
    const QPointF at = test->chart()->mapToPosition(dots->at(0), dots);
    QVERIFY(test->chart()->plotArea().adjusted(3, 3, -3, -3).contains(at));
    for (QLegendMarker* m : test->chart()->legend()->markers(dots)) QVERIFY(!m->isVisible());
  }
  // A curve of many points gets no dot.
  QCOMPARE(view.chart(QStringLiteral("train_loss"))->pointSeries(a)->count(), 0);
}

void TestCompare::axesHaveRoundTicksWithSiLabels() {
  RunStore store(":memory:");
  SyntheticRun r;
  const int64_t a = addRun(store, r), b = addRun(store, r);
  addCurve(store, a, "val_accuracy", 40, [](int s) { return 0.82 + s * 0.003; });
  addCurve(store, b, "val_accuracy", 40, [](int s) { return 0.80 + s * 0.0035; });
  addCurve(store, a, "val_agreement", 40, [](int s) { return 0.91 + s * 0.002; });
  addCurve(store, b, "val_agreement", 40, [](int s) { return 0.92 + s * 0.002; });
  addCurve(store, a, "train_loss", 400, [](int s) { return 0.02 + 2.0 / s; });
  addCurve(store, b, "train_loss", 400, [](int s) { return 0.01 + 1.5 / s; });
  CompareView view(store);
  view.resize(1200, 900);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setRuns({a, b});
  view.setMetrics({QStringLiteral("val_accuracy"), QStringLiteral("val_agreement"), QStringLiteral("train_loss")});
  QCoreApplication::processEvents();
  for (CompareChartView* c : view.charts()) c->redraw();

  // Loss: no axis below zero when every value is >= 0.
  CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
  QVERIFY2(loss->visibleRange().y_min >= 0, qPrintable(QString::number(loss->visibleRange().y_min)));
  for (const QString& l : loss->yTickLabels()) QVERIFY2(!l.startsWith(u'-'), qPrintable(l));
  // Agreement: a fraction, never above 1.
  QVERIFY(view.chart(QStringLiteral("val_agreement"))->visibleRange().y_max <= 1.0);

  // Log y over narrow ranges: several labels each, all inside the range.
  view.setLogY(true);
  for (const QString& metric : {QStringLiteral("val_accuracy"), QStringLiteral("val_agreement"), QStringLiteral("train_loss")}) {
    CompareChartView* c = view.chart(metric);
    c->redraw();
    const QStringList labels = c->yTickLabels();
    QVERIFY2(labels.size() >= 3, qPrintable(metric + QStringLiteral(": ") + labels.join(u' ')));
    for (const QString& l : labels) {
      bool ok = false;
      const double v = l.toDouble(&ok);
      QVERIFY2(ok, qPrintable(l));
      QVERIFY2(v >= c->visibleRange().y_min * 0.999 && v <= c->visibleRange().y_max * 1.001, qPrintable(metric + QStringLiteral(": ") + l));
    }
  }
  // FLOPs on x: SI prefixes, never 1e+10.
  view.setXAxis(XAxisKind::Flops);
  CompareChartView* flops = view.chart(QStringLiteral("train_loss"));
  QCoreApplication::processEvents(); // laid out at its real width
  flops->redraw();
  const QStringList x = flops->xTickLabels();
  QVERIFY2(x.size() >= 3, qPrintable(x.join(u' ')));
  for (const QString& l : x) QVERIFY2(!l.contains(u'e'), qPrintable(l));
  QVERIFY2(x.join(u' ').contains(u'G'), qPrintable(x.join(u' '))); // 400 steps x 3e8 = 120G
}

void TestCompare::costAxisHasSiLabelsOnNarrowLogRanges() {
  RunStore store(":memory:");
  QList<int64_t> ids;
  for (double flops : {3e4, 8e4, 2.5e5}) {
    SyntheticRun r;
    r.test = 0.8 + flops * 1e-7;
    r.flops_per_sample = flops;
    r.train_flops = flops * 1e5;
    ids << addRun(store, r);
  }
  CostView view(store);
  view.resize(900, 600);
  view.show();
  view.setRuns(ids);
  view.setCost(CostView::Cost::InferenceFlops); // log x by default
  QStringList labels = view.xTickLabels();
  QVERIFY2(labels.size() >= 3, qPrintable(labels.join(u' ')));
  for (const QString& l : labels) QVERIFY2(!l.contains(QStringLiteral("e+")), qPrintable(l));
  QVERIFY2(labels.contains(QStringLiteral("100k")), qPrintable(labels.join(u' ')));
  view.setCost(CostView::Cost::TrainingFlops); // 3G .. 25G
  labels = view.xTickLabels();
  QVERIFY2(labels.size() >= 3, qPrintable(labels.join(u' ')));
  QVERIFY2(labels.contains(QStringLiteral("10G")), qPrintable(labels.join(u' ')));
  view.setLogX(false);
  labels = view.xTickLabels();
  QVERIFY2(labels.size() >= 3, qPrintable(labels.join(u' ')));
  for (const QString& l : labels) QVERIFY2(!l.contains(u'e'), qPrintable(l));
}

// Run names are text, not HTML; long ones keep "#id" and the end that tells
// them apart; with smoothing on every legend swatch still has a label.
void TestCompare::legendShowsNamesAsPlainTextWithTheirEnds() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.name = "<b>bold</b>";
  const int64_t html = addRun(store, r);
  QList<int64_t> ids{html};
  for (int seed = 1; seed <= 4; ++seed) {
    r.name = "kd-resnet8-from-resnet32-temperature4-alpha0.9-lr0.05-cosine-seed" + std::to_string(seed);
    ids << addRun(store, r);
  }
  for (int64_t id : ids) addCurve(store, id, "train_loss", 100, [id](int s) { return 1.0 / (s + double(id)); });
  CompareView view(store);
  view.resize(900, 700);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setRuns(ids);
  CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
  QVERIFY(loss);
  QCoreApplication::processEvents();
  // The label Qt renders as HTML reads as the name, tags and all.
  QCOMPARE(legendLabelText(loss->curveSeries(html)->name()), QStringLiteral("#%1 <b>bold</b>").arg(html));
  QStringList shown;
  for (int i = 1; i <= 4; ++i) {
    const QString text = legendLabelText(loss->curveSeries(ids[i])->name());
    QVERIFY2(text.startsWith(QStringLiteral("#%1 ").arg(ids[i])), qPrintable(text));
    QVERIFY2(text.endsWith(QStringLiteral("seed%1").arg(i)), qPrintable(text));
    shown << text;
  }
  QCOMPARE(QSet<QString>(shown.begin(), shown.end()).size(), 4);

  auto visibleMarkers = [&] {
    QStringList labels;
    for (QLegendMarker* m : loss->chart()->legend()->markers())
      if (m->isVisible()) labels << m->label();
    return labels;
  };
  QCOMPARE(visibleMarkers().size(), ids.size());
  view.setSmoothing(0.6);
  loss->redraw();
  const QStringList smoothed = visibleMarkers();
  QCOMPARE(smoothed.size(), ids.size()); // no swatch for the faint raw curves
  for (const QString& l : smoothed) QVERIFY(!l.trimmed().isEmpty());
}

// The hover read-out stands at a data x: after a zoom, pan or reset it moves
// with that x, or goes when the x leaves the view.
void TestCompare::readoutFollowsZoomPanAndReset() {
  RunStore store(":memory:");
  SyntheticRun r;
  const int64_t a = addRun(store, r), b = addRun(store, r);
  addCurve(store, a, "train_loss", 200, [](int s) { return 1.0 / s; });
  addCurve(store, b, "train_loss", 200, [](int s) { return 2.0 / s; });
  CompareView view(store);
  view.resize(1000, 700);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setRuns({a, b});
  view.setMetrics({QStringLiteral("train_loss")});
  CompareChartView* loss = view.chart(QStringLiteral("train_loss"));
  QCoreApplication::processEvents();
  loss->redraw();
  auto* label = loss->findChild<QLabel*>(QStringLiteral("readout"));
  QVERIFY(label);

  loss->showReadoutAt(100.0);
  QVERIFY(label->isVisible());
  const int before = label->x();
  const int lineBefore = int(loss->chart()->mapToPosition(QPointF(100.0, 0)).x());
  loss->pan(0.2, 0); // x=100 moves left on screen
  QVERIFY(label->isVisible());
  QCOMPARE(loss->readoutX().value_or(-1), 100.0);
  QVERIFY2(label->x() < before - 20, qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(label->x())));
  QVERIFY(int(loss->chart()->mapToPosition(QPointF(100.0, 0)).x()) < lineBefore - 20);

  loss->resetZoom();
  QCOMPARE(label->x(), before); // back where x=100 is drawn again
  loss->zoomTo(150, 190, 0.001, 0.02); // x=100 is no longer shown
  QVERIFY(!label->isVisible());
  QVERIFY(!loss->readoutX());
}

// ---- issue 15 (window) -----------------------------------------------------------------

namespace {

// The text of the summary tree's row whose key is `key` (first match), or a null string.
QString summaryValue(QTreeWidget* tree, const QString& key) {
  for (QTreeWidgetItemIterator it(tree); *it; ++it)
    if ((*it)->text(0) == key) return (*it)->text(1);
  return {};
}

} // namespace

void TestCompare::filterErrorShowsInTheBox() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.best = 0.9;
  addRun(store, r);
  r.best = 0.5;
  addRun(store, r);
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.resize(1100, 300);
  browser.show();
  auto* hint = browser.findChild<QLabel*>(QStringLiteral("filterHint"));
  QVERIFY(hint);
  browser.setFilterText(QStringLiteral("acc>abc"));
  QVERIFY2(hint->text().contains(QStringLiteral("not a number")), qPrintable(hint->text()));
  QVERIFY(browser.filterEdit()->styleSheet().contains(QStringLiteral("#c0392b")));
  QVERIFY(browser.filterEdit()->toolTip().startsWith(QStringLiteral("\"acc>abc\"")));
  QCOMPARE(browser.visibleRunCount(), 2); // the term is left out, not a silent "nothing"
  browser.setFilterText(QStringLiteral("acc>0.8"));
  QCOMPARE(browser.visibleRunCount(), 1);
  QCOMPARE(hint->text(), QStringLiteral("1 of 2 runs"));
  QVERIFY(browser.filterEdit()->styleSheet().isEmpty());
  QCOMPARE(browser.filterEdit()->toolTip(), QString::fromUtf8(runFilterHelp()));
}

void TestCompare::hintCountsAfterDelete() {
  RunStore store(":memory:");
  QList<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    SyntheticRun r;
    r.name = "r" + std::to_string(i);
    ids << addRun(store, r);
  }
  RunTableModel model(store);
  model.refresh();
  RunBrowser browser(&model);
  browser.resize(1100, 300);
  browser.show();
  QVERIFY(QTest::qWaitForWindowExposed(&browser));
  auto* hint = browser.findChild<QLabel*>(QStringLiteral("filterHint"));
  QCOMPARE(hint->text(), QStringLiteral("7 runs"));
  browser.selectRun(ids[3]);
  QCOMPARE(model.deleteRuns({ids[3]}), 1);
  QCoreApplication::processEvents();
  QCOMPARE(hint->text(), QStringLiteral("6 runs"));
  // And after a filter was typed and cleared.
  browser.setFilterText(QStringLiteral("r1"));
  QCOMPARE(hint->text(), QStringLiteral("1 of 6 runs"));
  browser.setFilterText(QString());
  QCOMPARE(model.deleteRuns({ids[0], ids[1]}), 2);
  QCoreApplication::processEvents();
  QCOMPARE(hint->text(), QStringLiteral("4 runs"));
}

void TestCompare::renameReachesDetailsLegendsAndDiff() {
  RunStore store(":memory:");
  SyntheticRun r;
  r.name = "old-a";
  const int64_t a = addRun(store, r);
  r.name = "old-b";
  r.temperature = 2;
  const int64_t b = addRun(store, r);
  addCurve(store, a, "train_loss", 20, [](int s) { return 1.0 / s; });
  addCurve(store, b, "train_loss", 20, [](int s) { return 2.0 / s; });
  MainWindow window(store);
  window.resize(1300, 850);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  window.runBrowser()->selectRuns({a, b});
  window.selectRun(a);
  window.runBrowser()->selectRuns({a, b});
  window.compareSelected();
  QCOMPARE(window.compareView()->runs().size(), 2);
  window.tabs()->setCurrentIndex(0);
  window.selectRun(a);
  auto* details = window.runView()->findChild<QTreeWidget*>(QStringLiteral("summaryView"));
  QVERIFY(details);
  QCOMPARE(summaryValue(details, QStringLiteral("name")), QStringLiteral("old-a"));

  // Renamed as the user does it: an edit in the table.
  const int row = window.runModel()->rowOf(a);
  QVERIFY(window.runModel()->setData(window.runModel()->index(row, RunTableModel::NameColumn), QStringLiteral("new-a")));
  QCOMPARE(summaryValue(details, QStringLiteral("name")), QStringLiteral("new-a"));
  QLineSeries* curve = window.runView()->lossChart()->series(a, QStringLiteral("train_loss"));
  QVERIFY(curve);
  QVERIFY2(curve->name().contains(QStringLiteral("new-a")), qPrintable(curve->name()));
  // The compare view's diff headers and charts.
  const TableData diff = window.compareView()->configDiffView()->table();
  bool header = false;
  for (const std::string& h : diff.headers) header = header || h.find("new-a") != std::string::npos;
  QVERIFY(header);
  bool compareLegend = false;
  for (CompareChartView* chart : window.compareView()->charts())
    for (QAbstractSeries* series : chart->chart()->series())
      compareLegend = compareLegend || series->name().contains(QStringLiteral("new-a"));
  QVERIFY(compareLegend);

  // The report's config diff and each run's config carry the current name, not the one at creation.
  ReportOptions options;
  options.run_ids = {a, b};
  const ReportContent content = buildReportContent(store, options);
  bool nameRow = false;
  for (const auto& cells : content.diff_table.rows) {
    if (cells[0] != "name") continue;
    nameRow = true;
    QCOMPARE(QString::fromStdString(cells[1]), QStringLiteral("new-a"));
    QCOMPARE(QString::fromStdString(cells[2]), QStringLiteral("old-b"));
  }
  QVERIFY(nameRow);
  QVERIFY(content.runs[0].config_pretty.find("\"new-a\"") != std::string::npos);
  QCOMPARE(QString::fromStdString(currentRunConfig(*store.run(a))["name"].get<std::string>()), QStringLiteral("new-a"));
}

void TestCompare::detailsFollowStatusChanges() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  const int64_t id = store.createRun("queued-then-running", "distill", configJson(SyntheticRun{}));
  MainWindow window(store);
  window.show();
  window.selectRun(id);
  auto* details = window.runView()->findChild<QTreeWidget*>(QStringLiteral("summaryView"));
  QCOMPARE(summaryValue(details, QStringLiteral("status")), QStringLiteral("queued"));
  // The worker marks it running in the store; the window refreshes its model (runStarted).
  store.setStatus(id, RunStatus::Running);
  window.runModel()->refresh();
  QCOMPARE(summaryValue(details, QStringLiteral("status")), QStringLiteral("running"));
  store.setStatus(id, RunStatus::Cancelled);
  window.runModel()->refresh();
  QCOMPARE(summaryValue(details, QStringLiteral("status")), QStringLiteral("cancelled"));
  // Resumed: running again, with its first start time kept.
  const std::string started = store.run(id)->started_at;
  store.setStatus(id, RunStatus::Running);
  window.runModel()->refresh();
  QCOMPARE(summaryValue(details, QStringLiteral("status")), QStringLiteral("running"));
  QCOMPARE(summaryValue(details, QStringLiteral("started")), QString::fromStdString(started));
}

void TestCompare::wallTimeIsOneFigure() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  // Finished: 0.8 s of training, though started..finished spans longer (data loading, tests).
  SyntheticRun r;
  r.wall_s = 0.8;
  const int64_t quick = addRun(store, r);
  // A resumed teacher: 50.2 s of training over two sessions.
  r.wall_s = 50.2;
  const int64_t resumed = addRun(store, r);
  // Running, no summary yet: its latest point says 12.5 s.
  const int64_t running = store.createRun("live", "distill", configJson(SyntheticRun{}));
  store.setStatus(running, RunStatus::Running);
  addCurve(store, running, "train_loss", 10, [](int s) { return 1.0 / s; }); // wall_s = 0.01 * step
  MetricPoint late;
  late.run_id = running;
  late.metric = "train_loss";
  late.step = 11;
  late.wall_s = 12.5;
  late.value = 0.1;
  store.appendPoints({late});

  MainWindow window(store);
  window.show();
  RunTableModel* model = window.runModel();
  auto cell = [&](int64_t id) { return model->index(model->rowOf(id), RunTableModel::WallTimeColumn).data().toString(); };
  QCOMPARE(cell(quick), QStringLiteral("0.8 s"));
  QCOMPARE(cell(resumed), QStringLiteral("50.2 s"));
  QCOMPARE(cell(running), QStringLiteral("12.5 s"));
  auto* details = window.runView()->findChild<QTreeWidget*>(QStringLiteral("summaryView"));
  for (int64_t id : {quick, resumed, running}) {
    window.selectRun(id);
    QCOMPARE(summaryValue(details, QStringLiteral("wall time")), cell(id));
  }
  QCOMPARE(summaryValue(details, QStringLiteral("wall_s")), QString()); // no summary yet
  // Live points move both on.
  MetricPoint next = late;
  next.step = 12;
  next.wall_s = 75.0;
  window.runModel()->addPoints({next});
  window.runView()->addPoints({next});
  QCOMPARE(cell(running), QStringLiteral("1:15"));
  QCOMPARE(summaryValue(details, QStringLiteral("wall time")), QStringLiteral("1:15"));
  QCOMPARE(formatWallTime(3725.0), QStringLiteral("1:02:05"));
}

void TestCompare::teacherProgressMatchesTeacherRow() {
  RunStore store(":memory:");
  const int64_t parent = store.createRun("kd", "distill", configJson(SyntheticRun{}));
  SyntheticRun t;
  t.train = true;
  const int64_t teacher = store.createRun("kd-teacher", "train", configJson(t), parent);
  store.setTeacher(parent, teacher);
  store.setStatus(parent, RunStatus::Running);
  store.setStatus(teacher, RunStatus::Running);
  RunTableModel model(store);
  model.refresh();
  // As the engine reports them: the teacher's steps within its own training,
  // and the same steps within the whole run's budget (teacher + distillation).
  RunProgress own;
  own.run_id = teacher;
  own.phase = "teacher";
  own.step = 164;
  own.total_steps = 1000;
  own.fraction = 0.164;
  RunProgress whole = own;
  whole.run_id = parent;
  whole.total_steps = 1500;
  whole.fraction = 164.0 / 1500.0; // 10.9%
  model.setProgress(own);
  model.setProgress(whole);
  const QString teacherText = model.index(model.rowOf(teacher), RunTableModel::ProgressColumn).data().toString();
  const QString parentText = model.index(model.rowOf(parent), RunTableModel::ProgressColumn).data().toString();
  QVERIFY2(teacherText.startsWith(QStringLiteral("teacher 16.4%")), qPrintable(teacherText));
  QVERIFY2(parentText.startsWith(QStringLiteral("teacher 16.4%")), qPrintable(parentText));
  // The bar and the tooltip keep the whole run's share.
  QCOMPARE(model.index(model.rowOf(parent), RunTableModel::ProgressColumn).data(RunTableModel::ProgressFractionRole).toDouble(),
           whole.fraction);
  QVERIFY(model.index(model.rowOf(parent), RunTableModel::ProgressColumn).data(Qt::ToolTipRole).toString().contains(
      QStringLiteral("10.9% of the whole run")));
}

// Fake API runs (a summary "api", no training): the Defenses tab lists each in
// its table and draws one series per defense and attacker in both charts,
// points by increasing queries; with no API run selected it says what to select.
void TestCompare::defensesTabDrawsTheSelectedApiRuns() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t rs1 = addApiRun(store, "rs-1k", "kd", apiSummary("reverse_sigmoid", 1000, 0.85, 0.89, 0.70), 0.80);
  const int64_t rs5 = addApiRun(store, "rs-5k", "kd", apiSummary("reverse_sigmoid", 5000, 0.85, 0.89, 0.85), 0.84);
  const int64_t rsHard = addApiRun(store, "rs-hard", "hard_label", apiSummary("reverse_sigmoid", 5000, 0.85, 0.89, 0.78));
  const int64_t none = addApiRun(store, "none-5k", "kd", apiSummary("none", 5000, 0.89, 0.89, 0.93), 0.87);
  nlohmann::json unmeasured = apiSummary("none", 20000, 0.89, 0.89, 0.0);
  unmeasured["fidelity"] = nullptr;
  const int64_t noFidelity = addApiRun(store, "none-20k", "kd", unmeasured);
  SyntheticRun p;
  p.name = "plain";
  p.test = 0.9;
  const int64_t plain = addRun(store, p);

  CompareView view(store);
  view.resize(1280, 800);
  view.show();
  view.tabs()->setCurrentWidget(view.defenseView());
  DefenseView* d = view.defenseView();
  QCOMPARE(view.tabs()->tabText(view.tabs()->indexOf(d)), QStringLiteral("Defenses"));

  // No API run among them: the message, not empty charts.
  view.setRuns({plain, plain});
  QVERIFY(d->emptyMessage()->isVisible());
  QVERIFY(d->emptyMessage()->text().contains(QStringLiteral("Select runs distilled through an API teacher")));
  QVERIFY(!d->costChartView()->isVisible());

  view.setRuns({plain, rs5, none, rsHard, rs1, noFidelity});
  QVERIFY(!d->emptyMessage()->isVisible());
  QVERIFY(d->costChartView()->isVisible());
  QVERIFY(d->table()->isVisible());
  // Every API run has a row, the plain run none; none · kd, then rs · kd by queries, then rs · hard_label.
  TableDataModel* model = d->tableModel();
  QCOMPARE(model->rowCount(), 5);
  QStringList rowRuns;
  for (int r = 0; r < model->rowCount(); ++r) rowRuns << model->index(r, 0).data().toString().section(u' ', 0, 0);
  QCOMPARE(rowRuns, (QStringList{QStringLiteral("#%1").arg(none), QStringLiteral("#%1").arg(noFidelity),
                                 QStringLiteral("#%1").arg(rs1), QStringLiteral("#%1").arg(rs5),
                                 QStringLiteral("#%1").arg(rsHard)}));
  QCOMPARE(model->index(2, 5).data().toString(), QStringLiteral("4.00")); // 89 - 85 points
  QCOMPARE(model->index(1, 7).data().toString(), QStringLiteral("\u2013")); // not measured

  // Three series in each chart; the run without fidelity is in neither.
  const QList<QXYSeries*> cost = d->dataSeries(d->costChartView());
  const QList<QXYSeries*> queries = d->dataSeries(d->queriesChartView());
  QCOMPARE(cost.size(), 3);
  QCOMPARE(queries.size(), 3);
  QList<int> costCounts, queryCounts;
  for (QXYSeries* s : cost) costCounts << int(s->count());
  for (QXYSeries* s : queries) queryCounts << int(s->count());
  QCOMPARE(costCounts, (QList<int>{1, 2, 1}));
  QCOMPARE(queryCounts, (QList<int>{1, 2, 1}));
  QVERIFY(qobject_cast<QScatterSeries*>(cost[1]));
  QVERIFY(qobject_cast<QLineSeries*>(queries[1]));
  // Fidelity in percent; queries on the log axis, fewer first.
  QCOMPARE(cost[1]->at(0).y(), 70.0);
  QVERIFY(std::abs(cost[1]->at(0).x() - 4.0) < 1e-9);
  QVERIFY(queries[1]->at(0).x() < queries[1]->at(1).x());
  QVERIFY(std::abs(queries[1]->at(1).x() - std::log10(5000.0)) < 1e-9);
  QVERIFY(queries[2]->pen().style() == Qt::DashLine); // the label-only attacker
  // One legend for both charts names each series whole, label-only attackers as squares.
  const QString legend = d->legend()->text();
  QCOMPARE(int(legend.count(QStringLiteral("reverse_sigmoid&nbsp;"))), 2);
  QVERIFY(legend.contains(QStringLiteral("hard_label (labels only)")));
  QCOMPARE(int(legend.count(QStringLiteral("&#9632;"))), 1);
  QVERIFY(!d->costChartView()->chart()->legend()->isVisible());
  QVERIFY(d->findChild<QLabel*>(QStringLiteral("defenseNotes"))->text().contains(QStringLiteral("#%1").arg(plain)));
}

// Runs of two query strategies: one line per defense, attacker and strategy
// (the transfer runs dotted, hollow markers), the legend names the strategy;
// the table's figures take their contents' width and the Run column the rest;
// the last x tick label fits inside the chart.
void TestCompare::defensesTabTellsStrategiesApartAndSizesTheTable() {
  using testsupport::addApiRun;
  using testsupport::apiSummary;
  RunStore store(":memory:");
  const int64_t t5 = addApiRun(store, "clone-none-soft-in-distr-5000", "kd", apiSummary("probs", 5000, 0.89, 0.89, 0.89));
  const int64_t t50 = addApiRun(store, "clone-none-soft-in-distr-50000", "kd", apiSummary("probs", 50000, 0.89, 0.89, 0.93));
  const int64_t x5 = addApiRun(store, "clone-none-soft-transfer-5000", "kd",
                               apiSummary("probs", 5000, 0.89, 0.89, 0.33, "transfer"));
  CompareView view(store);
  view.resize(1280, 800);
  view.show();
  view.tabs()->setCurrentWidget(view.defenseView());
  DefenseView* d = view.defenseView();
  view.setRuns({t5, t50, x5});
  QVERIFY(QTest::qWaitForWindowExposed(&view));

  const QList<QXYSeries*> queries = d->dataSeries(d->queriesChartView());
  QCOMPARE(queries.size(), 2);
  QCOMPARE(int(queries[0]->count()), 2);
  QCOMPARE(int(queries[1]->count()), 1);
  QVERIFY(queries[0]->pen().style() == Qt::SolidLine);
  QVERIFY(queries[1]->pen().style() == Qt::DotLine);
  QCOMPARE(d->dataSeries(d->costChartView()).size(), 2);
  const QString legend = d->legend()->text();
  QVERIFY2(legend.contains(QStringLiteral("kd (soft labels), transfer")), qPrintable(legend));
  QVERIFY(legend.contains(QStringLiteral("kd (soft labels), train")));
  QVERIFY(legend.contains(QStringLiteral("&#9675;"))); // a hollow disc

  QHeaderView* header = d->table()->horizontalHeader();
  QVERIFY(!header->stretchLastSection());
  QCOMPARE(header->sectionResizeMode(0), QHeaderView::Stretch);
  const int last = d->tableModel()->columnCount(QModelIndex()) - 1;
  QVERIFY2(header->sectionSize(last) < header->sectionSize(0),
           qPrintable(QStringLiteral("%1 vs %2").arg(header->sectionSize(last)).arg(header->sectionSize(0))));

  // The right margin holds half the last x label ("100k"), centred on the plot's right edge.
  QChart* chart = d->queriesChartView()->chart();
  const int half = QFontMetrics(chart->axes(Qt::Horizontal).first()->labelsFont()).horizontalAdvance(QStringLiteral("100k")) / 2;
  QVERIFY(chart->margins().right() >= half);
}

QTEST_MAIN(TestCompare)
#include "tst_compare.moc"
