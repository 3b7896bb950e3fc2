// The GUI: the New Run dialog builds the config its widgets describe, runs
// started through RunController reach the table and the charts, and runs can
// be cancelled. Runs use tiny generated datasets on the CPU.
#include "core/data/dataset_formats.h"
#include "core/methods/method_registry.h"
#include "core/models/model_info.h"
#include "core/config/run_config.h"
#include "core/store/checkpoint.h"
#include "core/store/run_store.h"
#include "test_support.h"
#include "core/training/engine.h"
#include "core/base/errors.h"
#include "core/models/model_export.h"
#include "widgets/config_labels.h"
#include "widgets/main_window.h"
#include "widgets/method_param_form.h"
#include "widgets/legend_label.h"
#include "widgets/metric_chart_view.h"
#include "widgets/chart_axis_ticks.h"
#include "widgets/model_picker.h"
#include "widgets/new_run_dialog.h"
#include "widgets/run_controller.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"
#include "widgets/run_browser.h"            // issue 15: sweeps from the GUI
#include "widgets/run_group_proxy_model.h"
#include "widgets/sweep_dialog.h"
#include "widgets/sweep_launcher.h"
#include <QPushButton>
#include <QTableWidget>
#include "widgets/run_browser.h"

#include <QCheckBox>
#include <QApplication>
#include <QMessageBox>
#include <QTimer>
#include <QDialogButtonBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QHeaderView>
#include <QScrollBar>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QCategoryAxis>
#include <QChart>
#include <QLegend>
#include <QLineSeries>
#include <QTextDocumentFragment>
#include <QScatterSeries>
#include <QRadioButton>
#include <QMenuBar>
#include <QShortcut>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTreeView>
#include <QTreeWidget>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <limits>
#include <memory>
#include <set>

using namespace distillery;
using namespace distillery::gui;

namespace {

template <typename T>
T* child(QObject* parent, const char* name) {
  T* widget = parent->findChild<T*>(QString::fromLatin1(name));
  if (!widget) qWarning("no child named %s", name);
  return widget;
}

void selectData(QComboBox* combo, const QString& data) {
  const int index = combo->findData(data);
  QVERIFY2(index >= 0, qPrintable(QStringLiteral("combo has no item ") + data));
  combo->setCurrentIndex(index);
}

double spinValue(QAbstractSpinBox* box) {
  if (auto* spin = qobject_cast<QSpinBox*>(box)) return spin->value();
  if (auto* dspin = qobject_cast<QDoubleSpinBox*>(box)) return dspin->value();
  return std::numeric_limits<double>::quiet_NaN();
}

// A train run small enough to finish in seconds on one CPU core.
RunConfig tinyTrainConfig(const QString& dataDir, int epochs) {
  RunConfig c;
  c.name = "tiny";
  c.task = "train";
  c.model.zoo = "mlp";
  c.model.hidden = {16};
  c.data.path = dataDir.toStdString();
  c.data.val_size = 100;
  c.epochs = epochs;
  c.batch_size = 64;
  c.log_every = 2;
  c.device = "cpu";
  c.threads = 1;
  return c;
}

using testsupport::point;

} // namespace

class TestWidgets : public QObject {
  Q_OBJECT

private:
  QTemporaryDir tmp_;
  QString dataDir_;

private Q_SLOTS:
  void initTestCase();
  void newRunDialogBuildsConfig();
  void methodChangeRebuildsParamForm();
  void pastedJsonFillsDialog();
  void modelPickerOffersTheWholeZoo();
  void modelPickerCardAndTorchScript(); // issue 4: model card, TorchScript teacher in the New Run dialog
  void configLabelsAreShort();
  void chartSkipsNonFiniteAndMarksDivergence();
  void liveChartsKeepAxesWithinTheMetricsRange();
  void liveChartsGiveEachShownRunItsOwnColour();
  void liveChartDrawsASinglePointAsADot();        // GUI walk item 1
  void liveChartDecimatesALongCurve();
  void liveChartKeepsTheLastStepLabelInside();    // GUI walk item 2
  void runsTabLegendNamesEveryShownRun();         // GUI walk item 3
  void teacherRunShowsItsPhaseLogLines();         // GUI walk item 6
  void runsTabPanelsFollowTheTask();
  void runPointsReachChartAndTable();
  void runWrittenElsewhereIsFollowedIncrementally();
  void cancelledRunEndsCancelled();
  void closingWindowStopsActiveRuns();
  void baselineIsOneClickFromADistillRun(); // issue 5: same student, no teacher
  void resumeContinuesACancelledRun();      // issue 8: Resume in the GUI
  void deleteRefusesARunAnotherProcessRuns();
  void resumeIsEnabledExactlyWhenItWillWork();   // issue 15 item 4, issue 23
  void teacherPhaseCancelResumesInTheWindow();  // issue 15 item 4
  void sweepDialogStartsGridThroughCoreSweep(); // issue 15 (30): sweep launcher
  void teacherRunsFitTheTaskAndData();      // issue 15.2
  void newRunDialogSetsEveryDataAndTrainingKey(); // issue 15.6
  void newRunDialogRefusesWhatCannotStart();      // issue 15.6
  void emptyRunNameIsRefused();                   // issue 15.21
  void newRunDialogListsTheFormatTable();         // issue 16.4
  void newRunDialogBuildsAnApiTeacherConfig();    // issue 17 part 3, GUI
  void newRunDialogLoadsAnApiConfigBack();        // issue 17 part 3, GUI: Run > Duplicate
  void newRunDialogNamesTheApiFieldAtFault();     // issue 17 part 3, GUI
  // ---- issue 15 (window)
  void shortcutsAreUniqueAndWork();
  void wallTimeMatchesSummaryAfterARealRun();
  void smallWindowShowsFiguresAndValues(); // issue 15 item 26
};

void TestWidgets::initTestCase() {
  QVERIFY(tmp_.isValid());
  dataDir_ = tmp_.filePath(QStringLiteral("data"));
  QVERIFY(QDir().mkpath(dataDir_));
  testsupport::writeSyntheticDataset(dataDir_.toStdString(), 600, 200);
}

void TestWidgets::newRunDialogBuildsConfig() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);

  selectData(child<QComboBox>(&dialog, "taskCombo"), QStringLiteral("distill"));
  child<QRadioButton>(&dialog, "teacherZooRadio")->setChecked(true);
  auto* teacher = child<ModelPicker>(&dialog, "teacherPicker");
  selectData(child<QComboBox>(teacher, "zooCombo"), QStringLiteral("cnn"));
  child<QLineEdit>(teacher, "channelsEdit")->setText(QStringLiteral("16, 32"));
  auto* student = child<ModelPicker>(&dialog, "studentPicker");
  selectData(child<QComboBox>(student, "zooCombo"), QStringLiteral("mlp"));
  child<QLineEdit>(student, "hiddenEdit")->setText(QStringLiteral("64"));
  selectData(child<QComboBox>(&dialog, "methodCombo"), QStringLiteral("kd"));
  auto* temperature = child<QDoubleSpinBox>(&dialog, "param_temperature");
  QVERIFY(temperature);
  temperature->setValue(2.0);
  child<QSpinBox>(&dialog, "epochsSpin")->setValue(3);
  child<QLineEdit>(&dialog, "nameEdit")->setText(QStringLiteral("kd-t2"));

  const RunConfig c = dialog.config();
  QCOMPARE(c.task, std::string("distill"));
  QCOMPARE(c.name, std::string("kd-t2"));
  QVERIFY(c.teacher.kind == TeacherSource::Kind::Zoo);
  QCOMPARE(c.teacher.model.zoo, std::string("cnn"));
  QCOMPARE(c.teacher.model.channels, (std::vector<int>{16, 32}));
  QCOMPARE(c.student.zoo, std::string("mlp"));
  QCOMPARE(c.student.hidden, std::vector<int>{64});
  QCOMPARE(c.method.name, std::string("kd"));
  QCOMPARE(c.method.params.at("temperature"), 2.0);
  QCOMPARE(c.method.params.at("alpha"), findMethod("kd")->param("alpha")->default_value);
  QCOMPARE(c.epochs, 3);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  // The preview is exactly the config's JSON, and parses back to the same config.
  const auto json = nlohmann::json::parse(dialog.configJson().toStdString());
  QCOMPARE(json, c.toJson());
  QCOMPARE(json["student"]["hidden"], nlohmann::json::array({64}));
  QCOMPARE(json["method"]["name"].get<std::string>(), std::string("kd"));
  QCOMPARE(json["method"]["temperature"].get<double>(), 2.0);
  QCOMPARE(json["teacher"]["zoo"].get<std::string>(), std::string("cnn"));
  QCOMPARE(json["epochs"].get<int>(), 3);
  QCOMPARE(RunConfig::fromJson(json).toJson(), json);

  // Dataset, augmentation and transfer set.
  selectData(child<QComboBox>(&dialog, "datasetCombo"), QStringLiteral("cifar10"));
  child<QCheckBox>(&dialog, "augmentFlipCheck")->setChecked(true);
  child<QDoubleSpinBox>(&dialog, "transferFractionSpin")->setValue(0.25);
  child<QCheckBox>(&dialog, "hideLabelsCheck")->setChecked(true);
  // CIFAR has no default folder: the dialog says so until one is given.
  QCOMPARE(dialog.config().data.path, defaultDataConfig("cifar10").path);
  QVERIFY2(dialog.validationError().contains("data.path"), qPrintable(dialog.validationError()));
  // A folder with the files CIFAR-10 needs (empty: only the dialog's checks look at them).
  QTemporaryDir cifar;
  QVERIFY(cifar.isValid());
  for (const char* file : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                           "data_batch_5.bin", "test_batch.bin"}) {
    QFile f(cifar.filePath(QString::fromLatin1(file)));
    QVERIFY(f.open(QIODevice::WriteOnly));
  }
  child<QLineEdit>(&dialog, "dataPathEdit")->setText(cifar.filePath(QStringLiteral("missing")));
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("data.path: ")), qPrintable(dialog.validationError()));
  child<QLineEdit>(&dialog, "dataPathEdit")->setText(cifar.path());
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  const RunConfig d = dialog.config();
  QCOMPARE(d.data.dataset, std::string("cifar10"));
  QCOMPARE(d.data.mean.size(), size_t(3));                   // and its per-channel statistics
  QVERIFY(d.data.augment.horizontal_flip && d.data.augment.random_crop_padding == 0);
  QCOMPARE(d.transfer.fraction, 0.25);
  QVERIFY(d.transfer.hide_labels);
  QCOMPARE(RunConfig::fromJson(d.toJson()).toJson(), d.toJson());

  // A spec the zoo cannot build is reported, not accepted.
  child<QLineEdit>(student, "hiddenEdit")->setText(QStringLiteral("64,x"));
  QVERIFY(!dialog.validationError().isEmpty());
  QVERIFY(!student->error().isEmpty());
}

void TestWidgets::methodChangeRebuildsParamForm() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  auto* combo = child<QComboBox>(&dialog, "methodCombo");
  auto* form = child<MethodParamForm>(&dialog, "methodParams");
  QCOMPARE(combo->count(), int(methodsForTask("distill").size())); // language-model methods have no place here

  // Twice round, so every method is also reached from another one.
  for (int round = 0; round < 2; ++round) {
    for (const MethodInfo* image_method : methodsForTask("distill")) {
      const MethodInfo& method = *image_method;
      selectData(combo, QString::fromStdString(method.name));
      QCOMPARE(form->method(), findMethod(method.name));
      int boxes = 0;
      for (QAbstractSpinBox* box : form->findChildren<QAbstractSpinBox*>())
        if (box->objectName().startsWith(QStringLiteral("param_"))) ++boxes;
      int numeric = 0;
      for (const MethodParam& p : method.params) numeric += p.isText() ? 0 : 1;
      QCOMPARE(boxes, numeric);
      for (const MethodParam& p : method.params) {
        if (p.isText()) { // layer names: a line edit, empty for the default layer
          auto* edit = form->findChild<QLineEdit*>(QStringLiteral("param_") + QString::fromStdString(p.name));
          QVERIFY2(edit, p.name.c_str());
          QVERIFY(!edit->toolTip().isEmpty());
          continue;
        }
        auto* box = form->findChild<QAbstractSpinBox*>(QStringLiteral("param_") + QString::fromStdString(p.name));
        QVERIFY2(box, p.name.c_str());
        QCOMPARE(spinValue(box), p.default_value);
        QVERIFY(!box->toolTip().isEmpty());
        if (p.type == "integer") QVERIFY(qobject_cast<QSpinBox*>(box));
        else QVERIFY(qobject_cast<QDoubleSpinBox*>(box));
      }
      const RunConfig c = dialog.config();
      QCOMPARE(c.method.name, method.name);
      QCOMPARE(c.method.params.size() + c.method.text_params.size(), method.params.size());
    }
  }
}

void TestWidgets::pastedJsonFillsDialog() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  RunConfig given = RunConfig::defaultDistill();
  given.name = "pasted";
  given.student.hidden = {256, 128};
  given.method.params["temperature"] = 7.5;
  given.data.val_size = 1234; // no widget: must survive the round trip
  dialog.setConfig(given);
  auto* student = child<ModelPicker>(&dialog, "studentPicker");
  QCOMPARE(child<QLineEdit>(student, "hiddenEdit")->text(), QStringLiteral("256,128"));
  QCOMPARE(child<QDoubleSpinBox>(&dialog, "param_temperature")->value(), 7.5);
  QCOMPARE(dialog.config().toJson(), given.toJson());

  // A train config hides the teacher and method groups.
  RunConfig train = tinyTrainConfig(dataDir_, 2);
  dialog.setConfig(train);
  QVERIFY(child<QWidget>(&dialog, "teacherGroup")->isHidden());
  QVERIFY(child<QWidget>(&dialog, "methodGroup")->isHidden());
  QCOMPARE(dialog.config().toJson(), train.toJson());
}

void TestWidgets::modelPickerOffersTheWholeZoo() {
  ModelPicker picker;
  auto* zoo = child<QComboBox>(&picker, "zooCombo");
  QCOMPARE(zoo->count(), int(zooModelNames().size()) + 1); // and "TorchScript file (.pt)…"
  auto* info = child<QLabel>(&picker, "modelInfoLabel");

  selectData(zoo, QStringLiteral("mlp"));
  child<QLineEdit>(&picker, "hiddenEdit")->setText(QStringLiteral("256,128"));
  QVERIFY2(picker.error().isEmpty(), qPrintable(picker.error()));
  const ModelInfo mlp = describeModel(picker.spec(), 1, 28, 28, 10);
  QVERIFY(info->text().contains(humanCount(double(mlp.params))));

  selectData(zoo, QStringLiteral("resnet20"));
  QVERIFY2(picker.error().isEmpty(), qPrintable(picker.error()));
  QCOMPARE(picker.spec().zoo, std::string("resnet20"));
  QVERIFY(info->text().contains(QStringLiteral("parameters")));

  selectData(zoo, QStringLiteral("mobilenetv2"));
  child<QDoubleSpinBox>(&picker, "widthSpin")->setValue(1.0);
  QCOMPARE(picker.spec().width, 1.0);
  QVERIFY2(picker.error().isEmpty(), qPrintable(picker.error()));

  // A spec describeModel rejects shows its message instead of the numbers.
  selectData(zoo, QStringLiteral("cnn"));
  child<QLineEdit>(&picker, "channelsEdit")->setText(QStringLiteral("8,8,8,8,8,8"));
  QVERIFY(!picker.error().isEmpty());
  QCOMPARE(info->text(), picker.error());
}

// ---- issue 4: the model card under each picker; TorchScript files as teacher and student
void TestWidgets::modelPickerCardAndTorchScript() {
  // A TorchScript file: a tiny trained mlp, exported as Python would load it.
  RunStore store(":memory:");
  RunConfig train = tinyTrainConfig(dataDir_, 1);
  RunObserver quiet;
  StopToken stop;
  RunOutcome out = executeRun(store, queueRun(store, train), train, quiet, stop);
  QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
  const QString file = tmp_.filePath("tiny.pt");
  QVERIFY(exportRunModel(store, out.run_id, file.toStdString()) > 0);

  ModelPicker picker;
  QSignalSpy cards(&picker, &ModelPicker::cardUpdated);
  auto* zoo = child<QComboBox>(&picker, "zooCombo");
  selectData(zoo, QStringLiteral("torchscript"));
  QVERIFY(!picker.error().isEmpty()); // no file chosen yet
  child<QLineEdit>(&picker, "torchScriptEdit")->setText(file);
  QVERIFY2(picker.error().isEmpty(), qPrintable(picker.error()));
  QCOMPARE(picker.spec().torchscript, file.toStdString());
  const int64_t params = 784 * 16 + 16 + 16 * 10 + 10;
  QVERIFY2(child<QLabel>(&picker, "modelInfoLabel")->text().contains(humanCount(double(params))),
           qPrintable(child<QLabel>(&picker, "modelInfoLabel")->text()));
  // Size and latency arrive from the worker thread, without blocking the form.
  picker.setComparison(modelSpecFromJson({{"zoo", "cnn"}}, "teacher"));
  QTRY_VERIFY_WITH_TIMEOUT(!picker.cardText().isEmpty(), 30000);
  const QString card = child<QLabel>(&picker, "modelCardLabel")->text();
  QVERIFY2(card.contains("latency on cpu") && card.contains("batch 128") && card.contains("Against cnn"),
           qPrintable(card));
  QVERIFY(picker.cardText().contains(QString::number(QFileInfo(file).size()) + " bytes"));
  child<QLineEdit>(&picker, "torchScriptEdit")->setText(tmp_.filePath("absent.pt"));
  QVERIFY2(picker.error().contains("no such file"), qPrintable(picker.error()));

  // In the New Run dialog, a TorchScript teacher makes a {"torchscript": PATH} teacher that is not trained.
  NewRunDialog dialog(store);
  auto* teacher = child<ModelPicker>(&dialog, "teacherPicker");
  selectData(child<QComboBox>(teacher, "zooCombo"), QStringLiteral("torchscript"));
  child<QLineEdit>(teacher, "torchScriptEdit")->setText(file);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  const RunConfig c = dialog.config();
  QVERIFY(c.teacher.kind == TeacherSource::Kind::TorchScript);
  QCOMPARE(c.toJson()["teacher"], nlohmann::json({{"torchscript", file.toStdString()}}));
  QVERIFY(!child<QSpinBox>(&dialog, "teacherEpochsSpin")->isEnabled());
  // The student's card compares it with that teacher.
  auto* student = child<ModelPicker>(&dialog, "studentPicker");
  QTRY_VERIFY_WITH_TIMEOUT(student->cardText().contains("against torchscript:tiny.pt"), 30000);
  QTRY_VERIFY_WITH_TIMEOUT(!teacher->cardText().isEmpty(), 30000);
  if (qEnvironmentVariableIsSet("DISTILLERY_SHOT_DIR")) {
    child<QLineEdit>(student, "hiddenEdit")->setText(QStringLiteral("8")); // a student smaller than its teacher
    QTRY_VERIFY_WITH_TIMEOUT(student->cardText().contains("compression"), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(student, "modelCardLabel")->text().contains("smaller"), 30000);
    child<QToolButton>(student, "layersButton")->setChecked(true);
    dialog.resize(1280, 900);
    dialog.show();
    QCoreApplication::processEvents();
    dialog.grab().save(qEnvironmentVariable("DISTILLERY_SHOT_DIR") + "/model_card.png");
  }
  dialog.setConfig(c); // and back
  QCOMPARE(dialog.config().toJson(), c.toJson());
}

void TestWidgets::configLabelsAreShort() {
  RunConfig c = RunConfig::defaultDistill();
  ConfigLabels labels = configLabels(c.toJson().dump());
  QCOMPARE(labels.teacher, QStringLiteral("cnn[32,64]fc256"));
  QCOMPARE(labels.student, QStringLiteral("mlp[128]"));
  QCOMPARE(labels.method, QStringLiteral("kd T=4 a=0.9"));
  c.teacher.kind = TeacherSource::Kind::Run;
  c.teacher.run_id = 7;
  QCOMPARE(configLabels(c.toJson().dump()).teacher, QStringLiteral("run #7"));
  c.teacher.kind = TeacherSource::Kind::Api; // the table says where the answers came from
  c.teacher.api.url = "http://127.0.0.1:8311";
  c.teacher.api.max_queries = 1000;
  c.select_best = false;
  QCOMPARE(configLabels(c.toJson().dump()).teacher, QStringLiteral("API 127.0.0.1:8311"));
  QCOMPARE(configLabels(std::string("{not json")).method, QStringLiteral("?"));
}

void TestWidgets::chartSkipsNonFiniteAndMarksDivergence() {
  MetricChartView chart(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  chart.setRuns({1, 2});
  chart.addPoints({point(1, "train_loss", 1, 2.0), point(1, "train_loss", 2, 1.5),
                   point(2, "train_loss", 1, 2.2), point(3, "train_loss", 1, 9.0),
                   point(1, "val_accuracy", 2, 0.5)});
  QCOMPARE(chart.pointCount(1), 2);
  QCOMPARE(chart.pointCount(2), 1);
  QCOMPARE(chart.pointCount(3), 0); // not shown
  chart.addPoints({point(1, "train_loss", 2, 1.5), // already drawn
                   point(1, "train_loss", 3, std::numeric_limits<double>::quiet_NaN()),
                   point(2, "train_loss", 2, 2.0)});
  QCOMPARE(chart.pointCount(1), 2);
  QCOMPARE(chart.pointCount(2), 2);
  QVERIFY(chart.isDiverged(1));
  QVERIFY(!chart.isDiverged(2));
  QVERIFY(chart.series(1, QStringLiteral("train_loss"))->name().contains(QStringLiteral("diverged")));
  chart.setRuns({2});
  QVERIFY(!chart.series(1, QStringLiteral("train_loss")));
  QCOMPARE(chart.pointCount(2), 2);
}

// Losses are >= 0 and fractions <= 1: the axes do not pad past those bounds
// (a loss axis from -0.05, an agreement axis up to 1.2).
void TestWidgets::liveChartsKeepAxesWithinTheMetricsRange() {
  MetricChartView loss(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  MetricChartView agreement(QStringLiteral("agreement"), QStringLiteral("agreement"), {QStringLiteral("val_agreement")});
  loss.setRuns({1});
  agreement.setRuns({1});
  std::vector<MetricPoint> points;
  for (int step = 1; step <= 50; ++step) {
    points.push_back(point(1, "train_loss", step, 0.01 + 2.0 / step));
    points.push_back(point(1, "val_agreement", step, step < 10 ? 0.9 + 0.01 * step : 1.0)); // a tiny LM: 100%
  }
  loss.addPoints(points);
  agreement.addPoints(points);
  QVERIFY2(loss.yMin() >= 0.0, qPrintable(QString::number(loss.yMin())));
  QVERIFY(loss.yMax() >= 2.01);
  for (const QString& l : loss.yTickLabels()) QVERIFY2(!l.startsWith(u'-'), qPrintable(l));
  QVERIFY2(agreement.yMax() <= 1.0, qPrintable(QString::number(agreement.yMax())));
  QVERIFY(agreement.yMin() <= 0.91);
  QVERIFY(agreement.yTickLabels().size() >= 2);
  for (const QString& l : agreement.yTickLabels()) QVERIFY2(l.toDouble() <= 1.0, qPrintable(l));
}

// Runs #2 and #14 share a palette entry; shown together they get two colours.
// Names are legend text, not HTML.
void TestWidgets::liveChartsGiveEachShownRunItsOwnColour() {
  MetricChartView chart(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  chart.setRuns({2, 14}, {{2, QStringLiteral("#2 <b>bold</b>")}, {14, QStringLiteral("#14 plain")}});
  chart.addPoints({point(2, "train_loss", 1, 1.0), point(2, "train_loss", 2, 0.5), point(14, "train_loss", 1, 0.9),
                   point(14, "train_loss", 2, 0.4)});
  const QColor a = chart.series(2, QStringLiteral("train_loss"))->pen().color();
  const QColor b = chart.series(14, QStringLiteral("train_loss"))->pen().color();
  QVERIFY(a != b);
  QCOMPARE(a, chart.colorOf(2));
  QCOMPARE(legendLabelText(chart.series(2, QStringLiteral("train_loss"))->name()), QStringLiteral("#2 <b>bold</b>"));
  // Twelve runs, ids colliding modulo 12: twelve colours.
  QList<int64_t> ids{1, 13, 25, 2, 14, 26, 3, 15, 27, 4, 16, 28};
  chart.setRuns(ids);
  std::vector<MetricPoint> points;
  for (int64_t id : ids) points.push_back(point(id, "train_loss", 1, 1.0));
  chart.addPoints(points);
  QSet<QRgb> colours;
  for (int64_t id : ids) colours.insert(chart.series(id, QStringLiteral("train_loss"))->pen().color().rgb());
  QCOMPARE(colours.size(), 12);
}

// 36 steps logged every 20: one loss point, which a line cannot draw. A dot
// shows it, and goes once the line has two points.
void TestWidgets::liveChartDrawsASinglePointAsADot() {
  MetricChartView chart(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  chart.setRuns({7});
  chart.addPoints({point(7, "train_loss", 20, 0.8)});
  QScatterSeries* dot = chart.dotSeries(7, QStringLiteral("train_loss"));
  QVERIFY(dot);
  QVERIFY(dot->isVisible());
  QCOMPARE(dot->count(), 1);
  QCOMPARE(dot->at(0), QPointF(20, 0.8));
  QCOMPARE(dot->color(), chart.colorOf(7));
  QVERIFY(chart.chart()->series().contains(dot));
  chart.addPoints({point(7, "train_loss", 40, 0.6)});
  QCOMPARE(dot->count(), 0);
  QCOMPARE(chart.pointCount(7), 2);
}

// A long run's curve is drawn at about two points per pixel column (its
// minimum and maximum), from every point the chart holds: a spike survives,
// and a batch that adds points redraws a bounded series.
void TestWidgets::liveChartDecimatesALongCurve() {
  MetricChartView chart(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  chart.resize(600, 400);
  chart.show();
  QVERIFY(QTest::qWaitForWindowExposed(&chart));
  chart.setRuns({7});
  std::vector<MetricPoint> points;
  for (int step = 1; step <= 20000; ++step) points.push_back(point(7, "train_loss", step, step == 12345 ? 9.0 : 1.0));
  chart.addPoints(points);
  QCOMPARE(chart.pointCount(7), 20000); // held
  QLineSeries* line = chart.series(7, QStringLiteral("train_loss"));
  const int columns = std::max(200, int(chart.chart()->plotArea().width()));
  QVERIFY2(line->count() <= 2 * columns + 4, qPrintable(QString::number(line->count())));
  QVERIFY(line->count() > 100);
  QCOMPARE(line->points().first(), QPointF(1, 1.0));
  QCOMPARE(line->points().last(), QPointF(20000, 1.0));
  bool spike = false;
  for (const QPointF& p : line->points()) spike = spike || p == QPointF(12345, 9.0);
  QVERIFY(spike);
  QCOMPARE(chart.yMax() >= 9.0, true);
  // More points: the whole held curve is decimated again, the new last point drawn.
  chart.addPoints({point(7, "train_loss", 20001, 0.5)});
  QCOMPARE(chart.pointCount(7), 20001);
  QCOMPARE(line->points().last(), QPointF(20001, 0.5));
  QVERIFY(line->count() <= 2 * columns + 4);
}

// The last x label ("150") is centred on the plot's right edge: the chart
// leaves room for its right half instead of clipping it to "15".
void TestWidgets::liveChartKeepsTheLastStepLabelInside() {
  MetricChartView chart(QStringLiteral("loss"), QStringLiteral("loss"), {QStringLiteral("train_loss")});
  chart.resize(260, 220);
  chart.show();
  QVERIFY(QTest::qWaitForWindowExposed(&chart));
  chart.setRuns({1});
  std::vector<MetricPoint> points;
  for (int step = 10; step <= 150; step += 10) points.push_back(point(1, "train_loss", step, 1.0 / step));
  chart.addPoints(points);
  QCoreApplication::processEvents();
  auto* axisX = qobject_cast<QCategoryAxis*>(chart.chart()->axes(Qt::Horizontal).value(0));
  QVERIFY(axisX);
  const QStringList labels = axisTickLabels(axisX);
  QCOMPARE(labels.last(), QStringLiteral("150"));
  const double half = QFontMetrics(axisX->labelsFont()).horizontalAdvance(labels.last()) / 2.0;
  const QRectF plot = chart.chart()->plotArea();
  QVERIFY2(plot.right() + half <= chart.chart()->size().width(),
           qPrintable(QStringLiteral("plot right %1 + %2 > %3").arg(plot.right()).arg(half).arg(chart.chart()->size().width())));
}

// Two runs and their teachers in charts a third of the window wide: each
// chart's legend row elided the names to "#10…". One legend below the charts
// wraps whole names instead.
void TestWidgets::runsTabLegendNamesEveryShownRun() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  RunView view(store);
  view.resize(1280, 420);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  const std::map<int64_t, QString> labels{{7, QStringLiteral("#7 gui-kd-1")},
                                          {8, QStringLiteral("#8 gui-kd-1-teacher")},
                                          {9, QStringLiteral("#9 gui-kd-2 <i>")},
                                          {10, QStringLiteral("#10 gui-kd-2-teacher")}};
  view.showRuns({9, 7, 10, 8}, 9, labels);
  QLabel* legend = view.findChild<QLabel*>(QStringLiteral("runLegend"));
  QVERIFY(legend);
  QVERIFY(legend->isVisible());
  const QString text = QTextDocumentFragment::fromHtml(legend->text()).toPlainText();
  for (const auto& [id, label] : labels) QVERIFY2(text.contains(label), qPrintable(text));
  QVERIFY(legend->text().contains(view.lossChart()->colorOf(10).name()));
  // The charts' own rows would only repeat the names, elided.
  for (MetricChartView* chart : view.charts()) QVERIFY(!chart->chart()->legend()->isVisible());
  // Whole names fit: the label wraps within the charts' width rather than widening them.
  QVERIFY(legend->width() <= view.width());
  view.addPoints({point(10, "train_loss", 20, 0.5), point(10, "train_loss", 40, std::numeric_limits<double>::quiet_NaN())});
  QVERIFY(QTextDocumentFragment::fromHtml(legend->text()).toPlainText().contains(QStringLiteral("gui-kd-2-teacher (diverged)")));
}

// A distill run trains its teacher as a child run, and the teacher phase logs
// under the distill run: selecting only the (cancelled) teacher showed an
// empty log pane. Its distill run's lines come with it, stored and live.
void TestWidgets::teacherRunShowsItsPhaseLogLines() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  const std::string config = tinyTrainConfig(dataDir_, 1).toJson().dump();
  const int64_t distill = store.createRun("gui-kd-2", "distill", config);
  const int64_t teacher = store.createRun("gui-kd-2-teacher", "train", config, distill);
  const int64_t other = store.createRun("unrelated", "train", config);
  store.appendLogs({{distill, 0.1, "info", "training teacher cnn as run #" + std::to_string(teacher)},
                    {distill, 2.0, "warning", "cancelled at step 60"},
                    {other, 0.5, "info", "someone else's line"}});
  RunView view(store);
  view.showRuns({teacher}, teacher, {{teacher, QStringLiteral("#%1 gui-kd-2-teacher").arg(teacher)}});
  auto* log = view.findChild<QPlainTextEdit*>(QStringLiteral("logView"));
  QVERIFY(log);
  QVERIFY2(log->toPlainText().contains(QStringLiteral("cancelled at step 60")), qPrintable(log->toPlainText()));
  QVERIFY(log->toPlainText().contains(QStringLiteral("#%1 ").arg(distill))); // whose line it is
  QVERIFY(!log->toPlainText().contains(QStringLiteral("someone else")));
  view.addLog({distill, 3.0, "info", "resumed at step 60"});
  QVERIFY(log->toPlainText().contains(QStringLiteral("resumed at step 60")));
  view.addLog({other, 3.0, "info", "not shown"});
  QVERIFY(!log->toPlainText().contains(QStringLiteral("not shown")));
}

// Language-model runs record perplexity, not accuracy: the Runs tab shows the
// panels the selected runs have.
void TestWidgets::runsTabPanelsFollowTheTask() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  const int64_t lm = store.createRun("gpt-kd", "lm", R"({"name":"gpt-kd","task":"lm"})");
  const int64_t image = store.createRun("mlp-kd", "distill", R"({"name":"mlp-kd","task":"distill"})");
  store.appendPoints({point(lm, "val_perplexity", 10, 12.5), point(lm, "val_perplexity", 20, 9.0),
                      point(lm, "val_agreement", 10, 1.0), point(image, "val_accuracy", 10, 0.8)});
  RunView view(store);
  view.showRuns({lm}, lm, {});
  QVERIFY(!view.perplexityChart()->isHidden());
  QVERIFY(view.accuracyChart()->isHidden());
  QCOMPARE(view.perplexityChart()->pointCount(lm, QStringLiteral("val_perplexity")), 2);
  QVERIFY(view.agreementChart()->yMax() <= 1.0);
  view.showRuns({image}, image, {});
  QVERIFY(view.perplexityChart()->isHidden());
  QVERIFY(!view.accuracyChart()->isHidden());
  view.showRuns({image, lm}, image, {});
  QVERIFY(!view.perplexityChart()->isHidden());
  QVERIFY(!view.accuracyChart()->isHidden());
}

// A run another process writes (a `distillery-cli launch`'s rank 0) sends the
// window no points: each look of followExternalRuns reads what it wrote since
// the last, not the whole run again, and a resume that dropped points makes
// the charts start over from the store.
void TestWidgets::runWrittenElsewhereIsFollowedIncrementally() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore store(path);
  RunStore writer(path); // the other process's connection
  const int64_t id = writer.createRun("launched", "distill", R"({"name":"launched","task":"distill"})");
  writer.setStatus(id, RunStatus::Running);
  auto lossPoints = [&](int from, int to, double value) {
    std::vector<MetricPoint> out;
    for (int step = from; step <= to; ++step) out.push_back(testsupport::point(id, "train_loss", step, value));
    return out;
  };
  writer.appendPoints(lossPoints(1, 20, 2.0));
  writer.appendPoints({testsupport::point(id, "val_accuracy", 20, 0.5)});

  MainWindow window(store);
  window.runModel()->refresh();
  window.selectRun(id);
  MetricChartView* loss = window.runView()->lossChart();
  window.followExternalRuns();
  QVERIFY(window.runFollower().follows(id));
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 20);
  const QModelIndex best = window.runModel()->index(window.runModel()->rowOf(id), RunTableModel::BestValAccuracyColumn);

  // New points: the look reads those rows and nothing else.
  int64_t readBefore = store.pointRowsRead();
  writer.appendPoints(lossPoints(21, 25, 1.0));
  writer.appendPoints({testsupport::point(id, "val_accuracy", 25, 0.75)});
  window.followExternalRuns();
  QCOMPARE(store.pointRowsRead() - readBefore, int64_t(6));
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 25);
  QCOMPARE(window.runView()->accuracyChart()->pointCount(id, QStringLiteral("val_accuracy")), 2);
  QCOMPARE(loss->series(id, QStringLiteral("train_loss"))->points().last(), QPointF(25, 1.0));
  QVERIFY2(best.data().toString().contains(QStringLiteral("75")), qPrintable(best.data().toString()));

  // Nothing new: nothing read.
  readBefore = store.pointRowsRead();
  window.followExternalRuns();
  QCOMPARE(store.pointRowsRead() - readBefore, int64_t(0));
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 25);

  // A resume from step 10 drops the steps after it and writes them again: the
  // charts hold the store's points, read once in full.
  writer.deletePointsAfter(id, 10);
  writer.appendPoints(lossPoints(11, 12, 5.0));
  readBefore = store.pointRowsRead();
  window.followExternalRuns();
  QCOMPARE(store.pointRowsRead() - readBefore, int64_t(12));
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 12);
  QCOMPARE(loss->series(id, QStringLiteral("train_loss"))->points().last(), QPointF(12, 5.0));
  QCOMPARE(window.runView()->accuracyChart()->pointCount(id, QStringLiteral("val_accuracy")), 0);
  QVERIFY2(best.data().toString().isEmpty(), qPrintable(best.data().toString())); // its 0.5 and 0.75 were dropped

  // Incremental again after the restart.
  writer.appendPoints(lossPoints(13, 13, 4.0));
  readBefore = store.pointRowsRead();
  window.followExternalRuns();
  QCOMPARE(store.pointRowsRead() - readBefore, int64_t(1));
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 13);

  // It ends: one last look for its last points, then it is no longer followed.
  writer.appendPoints(lossPoints(14, 14, 3.0));
  writer.setStatus(id, RunStatus::Finished);
  window.runModel()->refresh();
  window.followExternalRuns();
  QCOMPARE(loss->pointCount(id, QStringLiteral("train_loss")), 14);
  QVERIFY(!window.runFollower().follows(id));
}

void TestWidgets::runPointsReachChartAndTable() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  MainWindow window(store);
  RunController* controller = window.controller();
  QSignalSpy queued(controller, &RunController::runQueued);
  QSignalSpy finished(controller, &RunController::runFinished);
  QSignalSpy points(controller, &RunController::pointsArrived);

  const int64_t id = controller->startRun(tinyTrainConfig(dataDir_, 1));
  QVERIFY(id > 0);
  QCOMPARE(queued.count(), 1);
  QVERIFY(window.runModel()->rowOf(id) >= 0); // listed as soon as it is queued
  window.selectRun(id);
  QCOMPARE(window.runView()->shownRuns(), QList<int64_t>{id});

  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QCOMPARE(finished.at(0).at(0).value<qint64>(), qint64(id));
  QVERIFY2(finished.at(0).at(1).toString() == QStringLiteral("finished"),
           qPrintable(finished.at(0).at(2).toString()));
  QVERIFY(points.count() > 0);
  QCOMPARE(controller->activeCount(), 0);

  QVERIFY(window.runView()->lossChart()->pointCount(id, QStringLiteral("train_loss")) > 0);
  QVERIFY(window.runView()->accuracyChart()->pointCount(id, QStringLiteral("val_accuracy")) > 0);
  QCOMPARE(window.runModel()->statusText(id), QStringLiteral("finished"));
  const QModelIndex best = window.runModel()->index(window.runModel()->rowOf(id), RunTableModel::BestValAccuracyColumn);
  QVERIFY(!best.data().toString().isEmpty());
}

void TestWidgets::cancelledRunEndsCancelled() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  RunController controller(store);
  QSignalSpy progress(&controller, &RunController::progressChanged);
  QSignalSpy finished(&controller, &RunController::runFinished);

  RunConfig long_run = tinyTrainConfig(dataDir_, 500);
  long_run.batch_size = 8;
  const int64_t id = controller.startRun(long_run);
  QVERIFY(controller.isActive(id));
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 60000); // past data loading, inside the loop
  QVERIFY(controller.cancelRun(id));
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
  QVERIFY(!controller.isActive(id));
  QVERIFY(!controller.cancelRun(id));
  const auto record = store.run(id);
  QVERIFY(record);
  QCOMPARE(QString::fromStdString(toString(record->status)), QStringLiteral("cancelled"));
}

void TestWidgets::closingWindowStopsActiveRuns() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore store(path);
  int64_t id = 0;
  {
    MainWindow window(store);
    QSignalSpy progress(window.controller(), &RunController::progressChanged);
    RunConfig long_run = tinyTrainConfig(dataDir_, 500);
    long_run.batch_size = 8;
    id = window.startRun(long_run);
    QVERIFY(id > 0);
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 60000);
    // The destructor stops the run and joins its thread.
  }
  const auto record = store.run(id);
  QVERIFY(record);
  QCOMPARE(QString::fromStdString(toString(record->status)), QStringLiteral("cancelled"));
}

void TestWidgets::baselineIsOneClickFromADistillRun() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  RunConfig distill = tinyTrainConfig(dataDir_, 1);
  distill.name = "kd-tiny";
  distill.task = "distill";
  distill.teacher.kind = TeacherSource::Kind::Zoo;
  distill.teacher.model.zoo = "mlp";
  distill.teacher.model.hidden = {32};
  distill.student.zoo = "mlp";
  distill.student.hidden = {8};
  distill.method.name = "kd";
  distill.seed = 7;
  const int64_t distillId = store.createRun(distill.name, distill.task, distill.toJson().dump());

  MainWindow window(store);
  window.refresh();
  QSignalSpy queued(window.controller(), &RunController::runQueued);
  QSignalSpy finished(window.controller(), &RunController::runFinished);
  window.selectRun(distillId);
  QVERIFY(window.baselineAction()->isEnabled());
  window.baselineAction()->trigger();
  QCOMPARE(queued.count(), 1);
  const int64_t baselineId = queued.at(0).at(0).value<qint64>();
  QVERIFY(baselineId != distillId);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("finished"));

  const auto record = store.run(baselineId);
  QVERIFY(record);
  QCOMPARE(QString::fromStdString(record->task), QStringLiteral("train"));
  const RunConfig baseline = RunConfig::fromJsonText(record->config_json);
  QCOMPARE(baseline.model.zoo, std::string("mlp"));
  QCOMPARE(baseline.model.hidden, std::vector<int>{8}); // the student, not the teacher
  QCOMPARE(baseline.seed, uint64_t(7));
  QCOMPARE(baseline.epochs, distill.epochs);
  QCOMPARE(baseline.optim.lr, distill.optim.lr);

  // A train run has no teacher to drop: the action is off there.
  window.selectRun(baselineId);
  QVERIFY(!window.baselineAction()->isEnabled());
}

// The data-loss trap: a run a `distillery-cli launch` in a terminal writes
// (running in the store, not started by this window) is not deleted by Delete;
// a finished one still is. Cancel says why it cannot stop the launched run.
void TestWidgets::deleteRefusesARunAnotherProcessRuns() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  RunStore launcher(path); // the terminal's process
  const std::string config = RunConfig::defaultDistill().toJson().dump();
  const int64_t running = launcher.createRun("launched", "distill", config);
  launcher.setStatus(running, RunStatus::Running);
  launcher.appendPoints({point(running, "train_loss", 1, 1.0)});
  const int64_t done = launcher.createRun("done", "distill", config);
  launcher.setStatus(done, RunStatus::Running);
  launcher.setStatus(done, RunStatus::Finished);

  RunStore store(path);
  MainWindow window(store);
  window.selectRun(running);
  QVERIFY(!window.cancelAction()->isEnabled());
  QVERIFY2(window.cancelAction()->toolTip().contains(QStringLiteral("another process")),
           qPrintable(window.cancelAction()->toolTip()));
  QVERIFY(window.deleteAction()->isEnabled());

  // Answers the next modal message box with `button` (its text), keeping what it said.
  auto answer = [](const QString& button, QString* said) {
    auto* timer = new QTimer;
    QObject::connect(timer, &QTimer::timeout, [timer, button, said] {
      auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
      if (!box) return;
      *said = box->text();
      if (button.isEmpty()) box->done(0); // a plain warning: dismiss it
      for (QAbstractButton* b : box->buttons())
        if (!button.isEmpty() && b->text() == button) b->click();
      timer->deleteLater();
    });
    timer->start(20);
  };
  QString said;
  answer(QString(), &said);
  window.deleteAction()->trigger();
  QVERIFY2(said.contains(QStringLiteral("#%1 \"launched\" (running)").arg(running)), qPrintable(said));
  QVERIFY2(said.contains(QStringLiteral("Nothing was deleted")), qPrintable(said));
  QVERIFY(store.run(running));
  QCOMPARE(store.pointCount(running), int64_t(1));
  launcher.appendPoints({point(running, "train_loss", 2, 0.5)}); // no FOREIGN KEY failure

  // The table's delete is all or nothing too: a mix deletes none.
  RunTableModel model(store);
  model.refresh();
  QCOMPARE(model.deleteRuns({done, running}), 0);
  QVERIFY(store.run(done) && store.run(running));

  // A finished run still deletes, after the confirmation.
  window.selectRun(done);
  said.clear();
  answer(QStringLiteral("Delete"), &said);
  window.deleteAction()->trigger();
  QVERIFY2(said.contains(QStringLiteral("Delete this run?")), qPrintable(said));
  QVERIFY(!store.run(done));
  QVERIFY(store.run(running));
}

void TestWidgets::resumeContinuesACancelledRun() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  MainWindow window(store);
  RunController* controller = window.controller();
  QSignalSpy progress(controller, &RunController::progressChanged);
  QSignalSpy finished(controller, &RunController::runFinished);
  RunConfig config = tinyTrainConfig(dataDir_, 20);
  config.batch_size = 8;
  const int64_t id = window.startRun(config);
  QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 60000);
  QVERIFY(controller->cancelRun(id));
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
  const size_t pointsBefore = store.points(id, "train_loss").size();

  window.refresh();
  window.selectRun(id);
  QVERIFY(window.resumeAction()->isEnabled());
  window.resumeAction()->trigger();
  QVERIFY(controller->isActive(id));
  QVERIFY(!window.resumeAction()->isEnabled()); // not twice
  QVERIFY_EXCEPTION_THROWN(controller->resumeRun(id), StoreError);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 120000);
  QVERIFY2(finished.at(1).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(1).at(2).toString()));

  // The curve goes on from where it stopped: more points, steps strictly increasing.
  const auto points = store.points(id, "train_loss");
  QVERIFY(points.size() > pointsBefore);
  for (size_t i = 1; i < points.size(); ++i) QVERIFY(points[i].step > points[i - 1].step);
  QCOMPARE(QString::fromStdString(toString(store.run(id)->status)), QStringLiteral("finished"));
  // A finished run has nothing to resume.
  window.refresh();
  window.selectRun(id);
  QVERIFY(!window.resumeAction()->isEnabled());
}

// Issue 15 item 4 / issue 23: Resume is enabled exactly when resuming will
// start the run, whatever the table's status column says. Runs in each state
// are written to the store directly; one that will resume is then resumed.
void TestWidgets::resumeIsEnabledExactlyWhenItWillWork() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  const std::string train = tinyTrainConfig(dataDir_, 1).toJson().dump();
  nlohmann::json distill_json = tinyTrainConfig(dataDir_, 1).toJson();
  distill_json["task"] = "distill";
  distill_json.erase("model");
  distill_json["student"] = {{"zoo", "mlp"}, {"hidden", {8}}};
  distill_json["teacher"] = {{"zoo", "mlp"}, {"hidden", {16}}, {"train", {{"epochs", 1}}}};
  distill_json["method"] = {{"name", "kd"}};
  const std::string distill = RunConfig::fromJson(distill_json).toJson().dump();
  auto add = [&](const std::string& config, RunStatus status, bool checkpoint = false, int64_t parent = 0) {
    const int64_t id = store.createRun("r", parent ? "train" : RunConfig::fromJsonText(config).task, config, parent);
    if (status != RunStatus::Queued) store.setStatus(id, status, status == RunStatus::Failed ? "broke" : "");
    if (checkpoint) store.saveArtifact(id, kCheckpointArtifact, "bytes");
    return id;
  };
  // A distill run stopped in its teacher phase, and its teacher child.
  auto addDistill = [&](RunStatus status, RunStatus teacher_status) {
    const int64_t id = add(distill, status);
    const int64_t teacher = add(train, teacher_status, false, id);
    store.setTeacher(id, teacher);
    return id;
  };
  // A student of a sweep, cancelled before it started, whose shared teacher ran first.
  auto addWithTeacherRun = [&](RunStatus teacher_status) {
    const int64_t teacher = add(train, teacher_status);
    nlohmann::json j = nlohmann::json::parse(distill);
    j["teacher"] = {{"run", teacher}};
    return add(j.dump(), RunStatus::Cancelled);
  };
  struct Case {
    const char* what;
    int64_t id;
    bool enabled;
  };
  const std::vector<Case> cases = {
      {"cancelled, no checkpoint: starts again from step 0", add(train, RunStatus::Cancelled), true},
      {"interrupted, no checkpoint: starts again from step 0", add(train, RunStatus::Interrupted), true},
      {"failed with a checkpoint", add(train, RunStatus::Failed, true), true},
      {"failed before its first checkpoint: would fail again", add(train, RunStatus::Failed), false},
      {"finished", add(train, RunStatus::Finished, true), false},
      {"diverged", add(train, RunStatus::Diverged, true), false},
      {"cancelled while its teacher trained", addDistill(RunStatus::Cancelled, RunStatus::Cancelled), true},
      {"interrupted after its teacher finished", addDistill(RunStatus::Interrupted, RunStatus::Finished), true},
      {"failed: its teacher diverged", addDistill(RunStatus::Failed, RunStatus::Diverged), false},
      {"interrupted: its teacher is running elsewhere", addDistill(RunStatus::Interrupted, RunStatus::Running), false},
      {"cancelled: its {\"run\": ID} teacher was cancelled too", addWithTeacherRun(RunStatus::Cancelled), false},
      {"cancelled: its {\"run\": ID} teacher finished", addWithTeacherRun(RunStatus::Finished), true},
  };
  MainWindow window(store);
  for (const Case& c : cases) {
    window.refresh();
    window.selectRun(c.id);
    QVERIFY2(window.resumeAction()->isEnabled() == c.enabled, c.what);
    QCOMPARE(window.controller()->resumeRefusal(c.id).empty(), c.enabled);
    if (!c.enabled) {
      QVERIFY_EXCEPTION_THROWN(window.controller()->resumeRun(c.id), StoreError);
      QVERIFY2(window.resumeAction()->toolTip().contains(QStringLiteral("Unavailable")), c.what);
    }
  }
  // Resumed, the cancelled train run runs again from step 0, and the table follows it to finished.
  QSignalSpy finished(window.controller(), &RunController::runFinished);
  window.selectRun(cases[0].id);
  window.resumeAction()->trigger();
  QVERIFY(!window.resumeAction()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
  QVERIFY2(finished.at(0).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(0).at(2).toString()));
  QCOMPARE(window.runModel()->statusText(cases[0].id), QStringLiteral("finished"));
  QVERIFY(!window.resumeAction()->isEnabled());
}

// Issue 15 item 4: a distill run cancelled while its teacher trains resumes
// in the window: its teacher run continues, then it distils; the table shows
// both finished, and Resume is off again.
void TestWidgets::teacherPhaseCancelResumesInTheWindow() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  MainWindow window(store);
  RunController* controller = window.controller();
  QSignalSpy finished(controller, &RunController::runFinished);
  nlohmann::json j = tinyTrainConfig(dataDir_, 1).toJson();
  j["task"] = "distill";
  j.erase("model");
  j["student"] = {{"zoo", "mlp"}, {"hidden", {8}}};
  j["teacher"] = {{"zoo", "mlp"}, {"hidden", {16}}, {"train", {{"epochs", 6}, {"batch_size", 1}}}};
  j["method"] = {{"name", "kd"}};
  j["teacher_cache"] = {{"dir", dir.filePath(QStringLiteral("cache")).toStdString()}};
  bool cancelled = false;
  connect(controller, &RunController::progressChanged, this, [&](const RunProgress& p) {
    if (p.phase == "teacher" && !cancelled) cancelled = controller->cancelRun(p.run_id);
  });
  const int64_t id = window.startRun(RunConfig::fromJson(j));
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("cancelled"));
  const int64_t teacher = store.run(id)->teacher_run_id;
  QVERIFY(teacher > 0);
  QCOMPARE(QString::fromStdString(toString(store.run(teacher)->status)), QStringLiteral("cancelled"));

  window.refresh();
  window.selectRun(id);
  QVERIFY(window.resumeAction()->isEnabled());
  window.resumeAction()->trigger();
  QVERIFY(controller->isActive(id));
  QVERIFY(!window.resumeAction()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 120000);
  QVERIFY2(finished.at(1).at(1).toString() == QStringLiteral("finished"), qPrintable(finished.at(1).at(2).toString()));
  QCOMPARE(int(store.runs().size()), 2); // no second teacher
  QCOMPARE(window.runModel()->statusText(id), QStringLiteral("finished"));
  QCOMPARE(window.runModel()->statusText(teacher), QStringLiteral("finished"));
  QVERIFY(!window.resumeAction()->isEnabled());
  // The teacher's curve went on from its cancel: steps strictly increasing.
  const auto points = store.points(teacher, "train_loss");
  QVERIFY(!points.empty());
  for (size_t i = 1; i < points.size(); ++i) QVERIFY(points[i].step > points[i - 1].step);
}

void TestWidgets::sweepDialogStartsGridThroughCoreSweep() {
  // Values as typed: numbers and booleans as JSON, other words as strings, "[...]" as a JSON list.
  QCOMPARE(SweepDialog::parseValues(QStringLiteral("0.1, 1e-3, 2"), "optim.lr"), nlohmann::json::parse("[0.1, 0.001, 2]"));
  QCOMPARE(SweepDialog::parseValues(QStringLiteral("kd, dkd"), "method.name"), nlohmann::json::parse(R"(["kd", "dkd"])"));
  QCOMPARE(SweepDialog::parseValues(QStringLiteral(R"([{"zoo": "mlp", "hidden": [8]}])"), "student"),
           nlohmann::json::parse(R"([{"zoo": "mlp", "hidden": [8]}])"));
  QVERIFY_THROWS_EXCEPTION(ConfigError, SweepDialog::parseValues(QStringLiteral("1,,2"), "seed"));

  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  MainWindow window(store);

  // The base config (a run's), two axes: the count is their product.
  SweepDialog dialog;
  dialog.setBaseConfig(tinyTrainConfig(dataDir_, 1).toJson().dump());
  dialog.setSweepName(QStringLiteral("gui-grid"));
  dialog.addAxis(QStringLiteral("seed"), QStringLiteral("0, 1"));
  dialog.addAxis(QStringLiteral("optim.lr"), QStringLiteral("0.01, 0.1, 0.3"));
  QCOMPARE(dialog.runCount(), 6);
  QVERIFY(dialog.startButton()->isEnabled());
  QVERIFY2(dialog.countLabel()->text().contains(QStringLiteral("6 runs")), qPrintable(dialog.countLabel()->text()));
  // A key the config does not have is refused, naming it, before anything is stored.
  dialog.addAxis(QStringLiteral("optim.lrr"), QStringLiteral("1"));
  QCOMPARE(dialog.runCount(), 0);
  QVERIFY2(dialog.problem().contains(QStringLiteral("optim.lrr")), qPrintable(dialog.problem()));
  QVERIFY(!dialog.startButton()->isEnabled());
  dialog.axesTable()->removeRow(2);
  dialog.axesTable()->removeRow(1);
  dialog.addAxis({}, {}); // an empty row being typed into counts for nothing
  QCOMPARE(dialog.runCount(), 2);
  QVERIFY(store.runs().empty());

  // Started through core/training/sweep_runner.h: runs named as the CLI names them, in one sweep, grouped by it.
  SweepLauncher* launcher = window.sweepLauncher();
  QSignalSpy started(launcher, &SweepLauncher::sweepStarted);
  QSignalSpy finished(launcher, &SweepLauncher::sweepFinished);
  launcher->start(dialog.sweepDocument(), dialog.parallel());
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
  QCOMPARE(started.count(), 1);
  const qint64 sweepId = started.at(0).at(0).toLongLong();
  QCOMPARE(finished.at(0).at(0).toLongLong(), sweepId);
  QVERIFY2(finished.at(0).at(1).toString().contains(QStringLiteral("2 finished")), qPrintable(finished.at(0).at(1).toString()));
  QCOMPARE(launcher->activeCount(), 0);
  std::set<std::string> names;
  for (const RunRecord& run : store.runs()) {
    QCOMPARE(run.sweep_id, int64_t(sweepId));
    QVERIFY(run.status == RunStatus::Finished);
    names.insert(run.name);
  }
  QCOMPARE(names, (std::set<std::string>{"gui-grid/seed=0", "gui-grid/seed=1"}));
  QCOMPARE(window.runModel()->rowCount(), 2); // listed without a manual refresh
  QCOMPARE(window.runBrowser()->groupModel()->groupKey(), std::string("sweep"));
  QCOMPARE(window.runBrowser()->groupModel()->groupCount(), 1);

  // An in-memory store cannot be shared with the sweep's threads: a clear error, nothing started.
  RunStore memory(":memory:");
  SweepLauncher inMemory(memory);
  QVERIFY_THROWS_EXCEPTION(StoreError, inMemory.start(dialog.sweepDocument(), 1));
}

namespace {

// A finished run as the engine leaves it: config, summary and status.
int64_t finishedRun(RunStore& store, const std::string& task, const nlohmann::json& config, const nlohmann::json& summary) {
  const int64_t id = store.createRun("r" + std::to_string(store.runs().size() + 1), task, config.dump());
  store.setSummary(id, summary);
  store.setStatus(id, RunStatus::Finished);
  return id;
}

bool okEnabled(QDialog& dialog) {
  auto* box = dialog.findChild<QDialogButtonBox*>();
  return box && box->button(QDialogButtonBox::Ok)->isEnabled();
}

} // namespace

namespace {

// Every key sequence bound to more than one action or shortcut of the same
// window: Qt calls that an "ambiguous shortcut overload" and runs neither.
QStringList duplicateShortcuts(QWidget* top) {
  std::map<std::pair<QWidget*, QString>, QStringList> owners;
  auto windowOf = [](QObject* o) -> QWidget* {
    for (; o; o = o->parent())
      if (auto* w = qobject_cast<QWidget*>(o)) return w->window();
    return nullptr;
  };
  for (QAction* a : top->findChildren<QAction*>())
    for (const QKeySequence& key : a->shortcuts())
      if (!key.isEmpty()) owners[{windowOf(a), key.toString()}] << a->text();
  for (QShortcut* sc : top->findChildren<QShortcut*>())
    for (const QKeySequence& key : sc->keys())
      if (!key.isEmpty()) owners[{windowOf(sc), key.toString()}] << QStringLiteral("QShortcut ") + sc->objectName();
  QStringList out;
  for (const auto& [key, names] : owners)
    if (names.size() > 1) out << key.second + QStringLiteral(": ") + names.join(QStringLiteral(" / "));
  return out;
}

} // namespace

void TestWidgets::teacherRunsFitTheTaskAndData() {
  RunStore store(":memory:");
  RunConfig image = tinyTrainConfig(dataDir_, 1);
  const int64_t fits = finishedRun(store, "train", image.toJson(),
                                   {{"model", "mlp[16]"}, {"input_shape", {1, 28, 28}}, {"num_classes", 10},
                                    {"test_accuracy", 0.8}});
  const int64_t cifar = finishedRun(store, "train", image.toJson(),
                                    {{"model", "resnet20"}, {"input_shape", {3, 32, 32}}, {"num_classes", 10}});
  // A language-model run: its config has no image model; the old list labelled it "mlp[128]".
  const nlohmann::json lm = {{"name", "lm"}, {"task", "lm"}, {"corpus", {{"path", "/tmp"}}},
                             {"student", {{"zoo", "gpt"}, {"layers", 2}, {"heads", 2}, {"embed", 64}, {"context", 64}}},
                             {"method", {{"name", "none"}}}};
  const int64_t lmRun = finishedRun(store, "lm", lm, {{"model", "gpt L2 H2 d64 ctx64"}});

  NewRunDialog dialog(store);
  RunConfig c = RunConfig::defaultDistill();
  c.data = image.data;
  dialog.setConfig(c);
  QCOMPARE(dialog.offeredTeacherRuns(), std::vector<qint64>{fits});
  auto* runs = child<QComboBox>(&dialog, "teacherRunCombo");
  QVERIFY2(runs->itemText(0).contains(QStringLiteral("mlp[16]")), qPrintable(runs->itemText(0)));

  // CIFAR-shaped data: now the resnet fits and the Fashion-MNIST model does not.
  selectData(child<QComboBox>(&dialog, "datasetCombo"), QStringLiteral("cifar10"));
  QCOMPARE(dialog.offeredTeacherRuns(), std::vector<qint64>{cifar});

  // A config naming the LM run as teacher (pasted, duplicated) shows why it cannot teach.
  c.teacher.kind = TeacherSource::Kind::Run;
  c.teacher.run_id = lmRun;
  dialog.setConfig(c);
  QVERIFY2(dialog.validationError().contains(QStringLiteral("teacher.run")) &&
               dialog.validationError().contains(QStringLiteral("language-model")),
           qPrintable(dialog.validationError()));
  QVERIFY(!okEnabled(dialog));
  c.teacher.run_id = fits;
  dialog.setConfig(c);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  QCOMPARE(dialog.config().teacher.run_id, fits);
}

void TestWidgets::newRunDialogSetsEveryDataAndTrainingKey() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  RunConfig c = tinyTrainConfig(dataDir_, 1);
  dialog.setConfig(c);
  QCOMPARE(child<QSpinBox>(&dialog, "valSizeSpin")->value(), 100);
  child<QSpinBox>(&dialog, "valSizeSpin")->setValue(250);
  selectData(child<QComboBox>(&dialog, "scheduleCombo"), QStringLiteral("cosine"));
  child<QDoubleSpinBox>(&dialog, "weightDecaySpin")->setValue(5e-4);
  child<QCheckBox>(&dialog, "trackTestCheck")->setChecked(true);
  child<QSpinBox>(&dialog, "evalsPerEpochSpin")->setValue(2);
  RunConfig got = dialog.config();
  QCOMPARE(got.data.val_size, int64_t(250));
  QCOMPARE(got.optim.schedule, std::string("cosine"));
  QCOMPARE(got.optim.weight_decay, 5e-4);
  QVERIFY(got.track_test);
  QCOMPARE(got.evals_per_epoch, 2);
  const auto json = nlohmann::json::parse(dialog.configJson().toStdString());
  QCOMPARE(json["data"]["val_size"].get<int>(), 250);
  QCOMPARE(json["track_test"].get<bool>(), true);

  // A validation fraction instead of a size.
  selectData(child<QComboBox>(&dialog, "valModeCombo"), QStringLiteral("fraction"));
  child<QDoubleSpinBox>(&dialog, "valFractionSpin")->setValue(0.2);
  QVERIFY(dialog.config().data.val_fraction && *dialog.config().data.val_fraction == 0.2);

  // CSV: the label column is a field of its own (data.label_column).
  auto* label = child<QLineEdit>(&dialog, "labelColumnEdit");
  QVERIFY(!label->isEnabled());
  selectData(child<QComboBox>(&dialog, "datasetCombo"), QStringLiteral("csv"));
  QVERIFY(label->isEnabled());
  label->setText(QStringLiteral("species"));
  QCOMPARE(dialog.config().data.label_column, std::string("species"));

  // Any key through the editable JSON: Apply fills the form (and keys without a widget).
  dialog.setConfig(c);
  auto jsonEdit = nlohmann::json::parse(dialog.configJson().toStdString());
  jsonEdit["evals_per_epoch"] = 7;
  jsonEdit["log_every"] = 3;
  child<QPlainTextEdit>(&dialog, "jsonView")->setPlainText(QString::fromStdString(jsonEdit.dump(2)));
  child<QPushButton>(&dialog, "applyJsonButton")->click();
  QCOMPARE(child<QSpinBox>(&dialog, "evalsPerEpochSpin")->value(), 7);
  QCOMPARE(dialog.config().log_every, 3);
}

// The dataset combo is the format table: every format, in its order, with its
// summary as tooltip; picking one brings its defaults, its path hint, and the
// label-column field only where the format reads data.label_column.
void TestWidgets::newRunDialogListsTheFormatTable() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  auto* combo = child<QComboBox>(&dialog, "datasetCombo");
  auto* label = child<QLineEdit>(&dialog, "labelColumnEdit");
  auto* path = child<QLineEdit>(&dialog, "dataPathEdit");
  QCOMPARE(combo->count(), int(datasetFormats().size()));
  for (int i = 0; i < combo->count(); ++i) {
    const DatasetFormat& f = datasetFormats()[size_t(i)];
    QCOMPARE(combo->itemData(i).toString().toStdString(), f.name);
    QCOMPARE(combo->itemData(i, Qt::ToolTipRole).toString().toStdString(), f.summary);
    combo->setCurrentIndex(i);
    const bool reads_label = std::count(f.keys.begin(), f.keys.end(), "label_column") > 0;
    QCOMPARE(label->isEnabled(), reads_label);
    QCOMPARE(path->toolTip().toStdString(), f.path_hint);
    const RunConfig c = dialog.config();
    QCOMPARE(c.data.dataset, f.name);
    QCOMPARE(c.data.path, defaultDataConfig(f.name).path);
    QCOMPARE(c.data.mean, defaultDataConfig(f.name).mean);
  }
}

void TestWidgets::newRunDialogRefusesWhatCannotStart() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  NewRunDialog dialog(store);
  RunConfig c = tinyTrainConfig(dataDir_, 1);
  dialog.setConfig(c);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  // A missing data folder: named in the dialog, Start is off.
  child<QLineEdit>(&dialog, "dataPathEdit")->setText(dir.filePath(QStringLiteral("nowhere")));
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("data.path: ")), qPrintable(dialog.validationError()));
  QVERIFY(!okEnabled(dialog));
  child<QLineEdit>(&dialog, "dataPathEdit")->setText(dataDir_);

  // Every sample in validation (the old default of 5,000 with a train limit of 5,000).
  child<QSpinBox>(&dialog, "trainLimitSpin")->setValue(300);
  child<QSpinBox>(&dialog, "valSizeSpin")->setValue(300);
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("data.val_size: ")), qPrintable(dialog.validationError()));
  QVERIFY(!okEnabled(dialog));
  child<QSpinBox>(&dialog, "valSizeSpin")->setValue(100);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  // A layer name the teacher lacks: found when Start is pressed (the models are built then);
  // the dialog stays open, says why, and no run exists.
  RunConfig fitnets = RunConfig::defaultDistill();
  fitnets.data = c.data;
  fitnets.method = RunConfig::fromJson({{"task", "distill"}, {"data", {{"path", dataDir_.toStdString()}}},
                                        {"teacher", {{"run", 1}}}, {"student", {{"zoo", "mlp"}}},
                                        {"method", {{"name", "fitnets"}, {"teacher_layer", "bogus"}}}})
                       .method;
  dialog.setConfig(fitnets);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  dialog.accept();
  QVERIFY(dialog.result() != QDialog::Accepted);
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("method.teacher_layer: ")),
           qPrintable(dialog.validationError()));
  QVERIFY(child<QLabel>(&dialog, "errorLabel")->text().contains(QStringLiteral("bogus")));
  QCOMPARE(int(store.runs().size()), 0);

  // The GUI's one way to start a run checks the same, so nothing reaches the store.
  RunController controller(store);
  QVERIFY_THROWS_EXCEPTION(ConfigError, controller.startRun(fitnets));
  QCOMPARE(int(store.runs().size()), 0);
}

void TestWidgets::emptyRunNameIsRefused() {
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  RunConfig c = tinyTrainConfig(dataDir_, 1);
  dialog.setConfig(c);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  child<QLineEdit>(&dialog, "nameEdit")->setText(QStringLiteral("   "));
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("name: ")), qPrintable(dialog.validationError()));
  QVERIFY(!okEnabled(dialog));
  dialog.accept();
  QVERIFY(dialog.result() != QDialog::Accepted);
}

void TestWidgets::shortcutsAreUniqueAndWork() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  RunConfig distill = tinyTrainConfig(dataDir_, 1);
  distill.task = "distill";
  distill.teacher.kind = TeacherSource::Kind::Zoo;
  distill.teacher.model.zoo = "mlp";
  distill.teacher.model.hidden = {32};
  distill.student.zoo = "mlp";
  distill.student.hidden = {8};
  const int64_t id = store.createRun("kd", "distill", distill.toJson().dump());
  store.setStatus(id, RunStatus::Running);
  store.setStatus(id, RunStatus::Finished);

  MainWindow window(store);
  window.resize(1200, 800);
  window.show();
  window.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  // The compare view builds its export menu's actions up front; the run menu holds the rest.
  QVERIFY(window.menuBar()->actions().size() >= 2);
  const QStringList clashes = duplicateShortcuts(&window);
  QVERIFY2(clashes.isEmpty(), qPrintable(clashes.join(QStringLiteral("; "))));

  // Each key reaches its one action. Ctrl+B: Train Baseline (its slot is
  // swapped for a spy, so no run starts).
  window.selectRun(id);
  window.runBrowser()->tree()->setFocus();
  QVERIFY(window.baselineAction()->isEnabled());
  QObject::disconnect(window.baselineAction(), &QAction::triggered, &window, nullptr);
  QSignalSpy baseline(window.baselineAction(), &QAction::triggered);
  QTest::keyClick(&window, Qt::Key_B, Qt::ControlModifier);
  QCOMPARE(baseline.count(), 1);
  QVERIFY(!store.run(id)->starred);
  // Star / Unstar has a key of its own, and it toggles.
  const QKeySequence star = window.starAction()->shortcut();
  QVERIFY(!star.isEmpty() && star != QKeySequence(Qt::CTRL | Qt::Key_B));
  QTest::keySequence(&window, star);
  QVERIFY(store.run(id)->starred);
  QTest::keySequence(&window, star);
  QVERIFY(!store.run(id)->starred);
  // Ctrl+F puts the cursor in the filter box, from the Compare tab too.
  window.tabs()->setCurrentIndex(1);
  QTest::keyClick(&window, Qt::Key_F, Qt::ControlModifier);
  QCOMPARE(window.tabs()->currentIndex(), 0);
  QTRY_VERIFY(window.runBrowser()->filterEdit()->hasFocus());
}

void TestWidgets::wallTimeMatchesSummaryAfterARealRun() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  MainWindow window(store);
  QSignalSpy finished(window.controller(), &RunController::runFinished);
  const int64_t id = window.startRun(tinyTrainConfig(dataDir_, 1));
  QVERIFY(id > 0);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
  const auto record = store.run(id);
  QVERIFY(record && record->summary.contains("wall_s"));
  const double wall = record->summary["wall_s"].get<double>();
  RunTableModel* model = window.runModel();
  // The table, the details and the summary give the one figure: the training's wall_s.
  const QString cell = model->index(model->rowOf(id), RunTableModel::WallTimeColumn).data().toString();
  QCOMPARE(cell, formatWallTime(wall));
  window.selectRun(id);
  auto* details = window.runView()->findChild<QTreeWidget*>(QStringLiteral("summaryView"));
  QVERIFY(details);
  QString shown;
  for (QTreeWidgetItemIterator it(details); *it; ++it)
    if ((*it)->text(0) == QStringLiteral("wall time")) shown = (*it)->text(1);
  QCOMPARE(shown, cell);
}

// Issue 15 item 26: at 1024x700 the run table's accuracy and agreement
// columns and the details' Value column were cut off. The window is shown
// large first, as on a big screen, then made small: the fit must follow.
void TestWidgets::smallWindowShowsFiguresAndValues() {
  QTemporaryDir dir;
  RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
  RunConfig distill = tinyTrainConfig(dataDir_, 1);
  distill.task = "distill";
  distill.teacher.kind = TeacherSource::Kind::Zoo;
  distill.teacher.model.zoo = "cnn";
  distill.teacher.model.channels = {32, 64, 128};
  distill.teacher.model.hidden = {256};
  distill.student.zoo = "mlp";
  distill.student.hidden = {256, 128, 64};
  int64_t last = 0;
  for (const char* name : {"kd-wide-teacher-long-name-for-a-small-screen", "kd-second-run-with-notes", "baseline"}) {
    last = store.createRun(name, "distill", distill.toJson().dump());
    store.setSummary(last, {{"best_val_accuracy", 0.8125}, {"test_accuracy", 0.79921875}, {"test_agreement", 0.8437},
                            {"wall_s", 312.5}, {"student_params", 235146}, {"teacher_flops_per_sample", 31415926.0},
                            {"teacher_test_accuracy", 0.90234375}, {"model", "mlp[256,128,64]"}});
    store.setStatus(last, RunStatus::Running);
    store.setStatus(last, RunStatus::Finished);
  }
  MainWindow window(store);
  window.resize(1600, 1000);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  window.selectRun(last);
  QTest::qWait(50);
  window.resize(1024, 700);
  QTest::qWait(50);
  QCOMPARE(window.size(), QSize(1024, 700)); // no minimum size wider than the screen

  QTreeView* table = window.runBrowser()->tree();
  QHeaderView* header = table->header();
  QVERIFY(!table->viewport()->size().isEmpty());
  for (int column : {int(RunTableModel::BestValAccuracyColumn), int(RunTableModel::AgreementColumn),
                     int(RunTableModel::WallTimeColumn)}) {
    const int left = header->sectionViewportPosition(column), width = header->sectionSize(column);
    const QString what = QStringLiteral("column %1 at %2 + %3 in a viewport of %4")
                             .arg(header->model()->headerData(column, Qt::Horizontal).toString())
                             .arg(left).arg(width).arg(table->viewport()->width());
    QVERIFY2(left >= 0 && left + width <= table->viewport()->width(), qPrintable(what));
    // Not elided: every cell's text, with the item's margins, fits its column.
    for (int row = 0; row < table->model()->rowCount(); ++row) {
      const QString text = table->model()->index(row, column).data().toString();
      QVERIFY2(width >= table->fontMetrics().horizontalAdvance(text) + 6, qPrintable(what + QStringLiteral(": ") + text));
    }
  }
  QCOMPARE(table->horizontalScrollBar()->value(), 0);
  // A data-parallel run that starts after the columns were fitted (to finished
  // runs) reads "running on 2 ranks" whole, not "running…".
  RunConfig twoRanks = distill;
  twoRanks.distributed.world_size = 2;
  const int64_t ddp = store.createRun("ddp", "distill", twoRanks.toJson().dump());
  store.setStatus(ddp, RunStatus::Running); // owned by this process, so it stays running
  window.refresh();
  const QString ddpStatus = window.runModel()->statusText(ddp);
  QCOMPARE(ddpStatus, QStringLiteral("running on 2 ranks"));
  QVERIFY2(header->sectionSize(RunTableModel::StatusColumn) >= table->fontMetrics().horizontalAdvance(ddpStatus) + 6,
           qPrintable(QString::number(header->sectionSize(RunTableModel::StatusColumn))));
  for (int column : {int(RunTableModel::BestValAccuracyColumn), int(RunTableModel::WallTimeColumn)})
    QVERIFY(header->sectionViewportPosition(column) + header->sectionSize(column) <= table->viewport()->width());
  store.setStatus(ddp, RunStatus::Cancelled);

  auto* details = window.runView()->findChild<QTreeWidget*>(QStringLiteral("summaryView"));
  QVERIFY(details);
  QVERIFY(details->isVisible());
  QHeaderView* keys = details->header();
  const int valueLeft = keys->sectionViewportPosition(1), valueWidth = keys->sectionSize(1);
  const QString where = QStringLiteral("Value at %1 + %2 in a viewport of %3 (details %4 px wide)")
                            .arg(valueLeft).arg(valueWidth).arg(details->viewport()->width()).arg(details->width());
  QVERIFY2(valueLeft > 0 && valueLeft + valueWidth <= details->viewport()->width(), qPrintable(where));
  // Every value (status, timestamps, the summary's figures, counts and model) reads whole.
  int values = 0;
  for (QTreeWidgetItemIterator it(details); *it; ++it) {
    if ((*it)->parent() == nullptr || (*it)->text(1).isEmpty()) continue;
    ++values;
    const int needed = details->fontMetrics().horizontalAdvance((*it)->text(1)) + 6;
    QVERIFY2(valueWidth >= needed, qPrintable(where + QStringLiteral(": ") + (*it)->text(0) + QStringLiteral(" = ") +
                                              (*it)->text(1) + QStringLiteral(" needs %1").arg(needed)));
  }
  QVERIFY2(values >= 8 + 5, qPrintable(QString::number(values))); // the record's name, status, ... and the summary
  // Keys are elided in the narrow panel; hovering one shows it whole.
  for (QTreeWidgetItemIterator it(details); *it; ++it)
    if (!(*it)->text(0).isEmpty())
      QVERIFY2((*it)->toolTip(0).contains((*it)->text(0)), qPrintable((*it)->text(0)));

  // Wider again: the narrowed text columns widen back.
  const int narrowed = header->sectionSize(RunTableModel::NameColumn);
  window.resize(1600, 1000);
  QTRY_VERIFY(header->sectionSize(RunTableModel::NameColumn) > narrowed);
}


// ---- issue 17 part 3 in the GUI: a teacher behind an HTTP API

namespace {

const char* kTestKeyEnv = "DISTILLERY_TST_WIDGETS_API_KEY";

// A store holding one finished run whose model fits the synthetic data (the API's reference).
int64_t fittingRun(RunStore& store, const QString& dataDir) {
  return finishedRun(store, "train", tinyTrainConfig(dataDir, 1).toJson(),
                     {{"model", "mlp[16]"}, {"input_shape", {1, 28, 28}}, {"num_classes", 10}, {"test_accuracy", 0.8}});
}

} // namespace

void TestWidgets::newRunDialogBuildsAnApiTeacherConfig() {
  qputenv(kTestKeyEnv, "secret-key-0123456789");
  RunStore store(":memory:");
  const int64_t reference = fittingRun(store, dataDir_);
  NewRunDialog dialog(store);
  RunConfig c = RunConfig::defaultDistill();
  c.data = tinyTrainConfig(dataDir_, 1).data;
  c.select_best = true;
  dialog.setConfig(c);
  auto* apiRadio = child<QRadioButton>(&dialog, "teacherApiRadio");
  QVERIFY(apiRadio);
  QVERIFY(child<QWidget>(&dialog, "apiPanel")->isHidden()); // shown only for this source
  // Settings an API run cannot have, set before the source changes: they are left out.
  child<QCheckBox>(&dialog, "augmentFlipCheck")->setChecked(true);
  child<QDoubleSpinBox>(&dialog, "transferFractionSpin")->setValue(0.5);
  QVERIFY(nlohmann::json::parse(dialog.configJson().toStdString())["data"].contains("augment"));

  apiRadio->setChecked(true);
  QVERIFY(!child<QWidget>(&dialog, "apiPanel")->isHidden());
  QVERIFY(!child<QCheckBox>(&dialog, "augmentFlipCheck")->isEnabled());
  child<QLineEdit>(&dialog, "apiUrlEdit")->setText(QStringLiteral("http://10.0.0.7:9000"));
  child<QLineEdit>(&dialog, "apiKeyEnvEdit")->setText(QString::fromLatin1(kTestKeyEnv));
  auto* keyState = child<QLabel>(&dialog, "apiKeyStateLabel");
  QCOMPARE(keyState->text(), QStringLiteral("set"));
  QVERIFY(!keyState->toolTip().contains(QStringLiteral("secret")));
  child<QSpinBox>(&dialog, "apiMaxQueriesSpin")->setValue(400); // the tiny data's training split holds 500
  child<QSpinBox>(&dialog, "apiBatchSpin")->setValue(64);
  auto* referenceCombo = child<QComboBox>(&dialog, "apiReferenceRunCombo");
  QCOMPARE(referenceCombo->count(), 2); // none, and the run that fits
  QCOMPARE(referenceCombo->itemData(0).toLongLong(), qint64(0));
  referenceCombo->setCurrentIndex(referenceCombo->findData(QVariant::fromValue<qint64>(reference)));
  child<QCheckBox>(&dialog, "apiMeasureBenignCheck")->setChecked(false);
  child<QSpinBox>(&dialog, "epochsSpin")->setValue(3);
  auto* strategy = child<QComboBox>(&dialog, "queryStrategyCombo");
  selectData(strategy, QStringLiteral("active"));
  QVERIFY(child<QWidget>(&dialog, "queryRoundsSpin")->isVisibleTo(&dialog));
  child<QSpinBox>(&dialog, "queryRoundsSpin")->setValue(3);
  child<QDoubleSpinBox>(&dialog, "queryInitialSpin")->setValue(0.5);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  nlohmann::json json = nlohmann::json::parse(dialog.configJson().toStdString());
  const nlohmann::json api = {{"url", "http://10.0.0.7:9000"}, {"key_env", kTestKeyEnv}, {"max_queries", 400},
                              {"batch", 64}, {"reference_run", reference}, {"measure_benign", false},
                              {"retries", 5}, {"timeout_s", 30.0}};
  QCOMPARE(json["teacher"].dump(), nlohmann::json({{"api", api}}).dump());
  QCOMPARE(json["queries"].dump(), nlohmann::json({{"strategy", "active"}, {"rounds", 3}, {"initial", 0.5}}).dump());
  QCOMPARE(json["select_best"].get<bool>(), false);
  QVERIFY(!json.contains("transfer"));
  QVERIFY(!json["data"].contains("augment"));
  QVERIFY(dialog.configJson().indexOf(QStringLiteral("secret")) < 0); // the key never reaches the config
  QCOMPARE(RunConfig::fromJson(json).toJson(), json);

  // Another dataset's images: the folder and format picked for the queries.
  selectData(strategy, QStringLiteral("transfer"));
  QVERIFY(!child<QWidget>(&dialog, "queryRoundsSpin")->isVisibleTo(&dialog));
  QVERIFY(child<QWidget>(&dialog, "queryDataPathEdit")->isVisibleTo(&dialog));
  selectData(child<QComboBox>(&dialog, "queryDatasetCombo"), QStringLiteral("fashion-mnist"));
  child<QLineEdit>(&dialog, "queryDataPathEdit")->setText(dataDir_);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  json = nlohmann::json::parse(dialog.configJson().toStdString());
  QCOMPARE(json["queries"]["strategy"].get<std::string>(), std::string("transfer"));
  QCOMPARE(json["queries"]["data"]["dataset"].get<std::string>(), std::string("fashion-mnist"));
  QCOMPARE(json["queries"]["data"]["path"].get<std::string>(), dataDir_.toStdString());
  QCOMPARE(json["queries"]["data"]["val_size"].get<int>(), 0); // none of its images held out
  QVERIFY(!json["queries"].contains("rounds"));

  // Random noise needs no data; the key variable unset shows it (the run could not start).
  selectData(strategy, QStringLiteral("noise"));
  QCOMPARE(nlohmann::json::parse(dialog.configJson().toStdString())["queries"].dump(),
           nlohmann::json({{"strategy", "noise"}}).dump());
  qunsetenv(kTestKeyEnv);
  child<QSpinBox>(&dialog, "apiBatchSpin")->setValue(65); // any edit looks again
  QCOMPARE(keyState->text(), QStringLiteral("not set"));
  QVERIFY2(dialog.validationError().startsWith(QStringLiteral("teacher.api.key_env: ")),
           qPrintable(dialog.validationError()));
}

void TestWidgets::newRunDialogLoadsAnApiConfigBack() {
  qputenv(kTestKeyEnv, "secret-key-0123456789");
  RunStore store(":memory:");
  const int64_t reference = fittingRun(store, dataDir_);
  const nlohmann::json data = tinyTrainConfig(dataDir_, 1).toJson()["data"];
  nlohmann::json stored = {
      {"name", "clone"}, {"task", "distill"}, {"data", data}, {"epochs", 4},
      {"teacher", {{"api", {{"url", "http://127.0.0.1:8400"}, {"key_env", kTestKeyEnv}, {"max_queries", 345},
                            {"batch", 32}, {"reference_run", reference}, {"measure_benign", false},
                            {"retries", 2}, {"timeout_s", 5.0}, {"cache_dir", "/tmp/answers"}}}}},
      {"student", {{"zoo", "mlp"}, {"hidden", {32}}}},
      {"method", {{"name", "kd"}}},
      {"queries", {{"strategy", "transfer"}, {"data", {{"dataset", "fashion-mnist"}, {"path", dataDir_.toStdString()},
                                                       {"val_size", 50}}}}}};
  // As Run > Duplicate does: the stored JSON read back, then given to the dialog.
  const RunConfig given = RunConfig::fromJsonText(stored.dump());
  NewRunDialog dialog(store);
  dialog.setConfig(given);
  QVERIFY(child<QRadioButton>(&dialog, "teacherApiRadio")->isChecked());
  QVERIFY(!child<QWidget>(&dialog, "apiPanel")->isHidden());
  QCOMPARE(child<QLineEdit>(&dialog, "apiUrlEdit")->text(), QStringLiteral("http://127.0.0.1:8400"));
  QCOMPARE(child<QLineEdit>(&dialog, "apiKeyEnvEdit")->text(), QString::fromLatin1(kTestKeyEnv));
  QCOMPARE(child<QSpinBox>(&dialog, "apiMaxQueriesSpin")->value(), 345);
  QCOMPARE(child<QSpinBox>(&dialog, "apiBatchSpin")->value(), 32);
  QCOMPARE(child<QComboBox>(&dialog, "apiReferenceRunCombo")->currentData().toLongLong(), reference);
  QVERIFY(!child<QCheckBox>(&dialog, "apiMeasureBenignCheck")->isChecked());
  QCOMPARE(child<QComboBox>(&dialog, "queryStrategyCombo")->currentData().toString(), QStringLiteral("transfer"));
  QCOMPARE(child<QComboBox>(&dialog, "queryDatasetCombo")->currentData().toString(), QStringLiteral("fashion-mnist"));
  QCOMPARE(child<QLineEdit>(&dialog, "queryDataPathEdit")->text(), dataDir_);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  // Keys without a widget (retries, timeout, cache, the query data's split) survive too.
  QCOMPARE(dialog.config().toJson().dump(), given.toJson().dump());

  // An active config: its rounds and initial fraction, and a pool left to the training split.
  stored["queries"] = {{"strategy", "active"}, {"rounds", 2}, {"initial", 0.3}};
  const RunConfig active = RunConfig::fromJsonText(stored.dump());
  dialog.setConfig(active);
  QCOMPARE(child<QSpinBox>(&dialog, "queryRoundsSpin")->value(), 2);
  QCOMPARE(child<QDoubleSpinBox>(&dialog, "queryInitialSpin")->value(), 0.3);
  QVERIFY(child<QLineEdit>(&dialog, "queryDataPathEdit")->text().isEmpty());
  QCOMPARE(dialog.config().toJson().dump(), active.toJson().dump());

  // A zoo teacher again: the API panel hides and the config has no api or queries.
  dialog.setConfig(RunConfig::defaultDistill());
  QVERIFY(child<QRadioButton>(&dialog, "teacherZooRadio")->isChecked());
  QVERIFY(child<QWidget>(&dialog, "apiPanel")->isHidden());
  QVERIFY(!nlohmann::json::parse(dialog.configJson().toStdString()).contains("queries"));
}

void TestWidgets::newRunDialogNamesTheApiFieldAtFault() {
  qputenv(kTestKeyEnv, "secret-key-0123456789");
  RunStore store(":memory:");
  NewRunDialog dialog(store);
  RunConfig c = RunConfig::defaultDistill();
  c.data = tinyTrainConfig(dataDir_, 1).data;
  dialog.setConfig(c);
  child<QRadioButton>(&dialog, "teacherApiRadio")->setChecked(true);
  child<QLineEdit>(&dialog, "apiKeyEnvEdit")->setText(QString::fromLatin1(kTestKeyEnv));
  // The default budget (20,000) is more than the tiny data's 500 training images: named.
  QVERIFY2(dialog.validationError().contains("teacher.api.max_queries"), qPrintable(dialog.validationError()));
  child<QSpinBox>(&dialog, "apiMaxQueriesSpin")->setValue(400);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));
  QVERIFY(okEnabled(dialog));

  auto expectError = [&](const char* field) {
    const QString error = dialog.validationError();
    QVERIFY2(error.startsWith(QString::fromLatin1(field) + QStringLiteral(": ")), qPrintable(error));
    QCOMPARE(child<QLabel>(&dialog, "errorLabel")->text(), error);
    QVERIFY(!okEnabled(dialog));
  };
  auto* url = child<QLineEdit>(&dialog, "apiUrlEdit");
  url->clear();
  expectError("teacher.api.url");
  url->setText(QStringLiteral("https://api.example.com"));
  expectError("teacher.api.url");
  QVERIFY(dialog.validationError().contains(QStringLiteral("https is not supported")));
  url->setText(QStringLiteral("http://127.0.0.1:8311"));
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  // The key: its variable named, and set in this process.
  auto* keyEnv = child<QLineEdit>(&dialog, "apiKeyEnvEdit");
  keyEnv->clear();
  expectError("teacher.api.key_env");
  keyEnv->setText(QStringLiteral("DISTILLERY_TST_WIDGETS_NO_SUCH_VARIABLE"));
  expectError("teacher.api.key_env");
  QVERIFY(dialog.validationError().contains(QStringLiteral("not set")));
  QCOMPARE(child<QLabel>(&dialog, "apiKeyStateLabel")->text(), QStringLiteral("not set"));
  keyEnv->setText(QString::fromLatin1(kTestKeyEnv));

  // A method that reads the teacher's features: refused, naming the methods that fit.
  selectData(child<QComboBox>(&dialog, "methodCombo"), QStringLiteral("fitnets"));
  expectError("method.name");
  QVERIFY(dialog.validationError().contains(QStringLiteral("kd")));
  selectData(child<QComboBox>(&dialog, "methodCombo"), QStringLiteral("kd"));

  // Another dataset's images: their folder is required and must hold them.
  selectData(child<QComboBox>(&dialog, "queryStrategyCombo"), QStringLiteral("transfer"));
  child<QLineEdit>(&dialog, "queryDataPathEdit")->clear();
  expectError("queries.data");
  child<QLineEdit>(&dialog, "queryDataPathEdit")->setText(dataDir_ + QStringLiteral("/nowhere"));
  expectError("queries.data.path");

  // Active rounds beyond the epochs.
  selectData(child<QComboBox>(&dialog, "queryStrategyCombo"), QStringLiteral("active"));
  child<QLineEdit>(&dialog, "queryDataPathEdit")->clear(); // the pool: the training split
  child<QSpinBox>(&dialog, "epochsSpin")->setValue(2);
  child<QSpinBox>(&dialog, "queryRoundsSpin")->setValue(3);
  expectError("queries.rounds");
  child<QSpinBox>(&dialog, "queryRoundsSpin")->setValue(2);
  QVERIFY2(dialog.validationError().isEmpty(), qPrintable(dialog.validationError()));

  // A reference run that does not exist (a pasted config).
  RunConfig pasted = dialog.config();
  pasted.teacher.api.reference_run = 99;
  dialog.setConfig(pasted);
  expectError("teacher.api.reference_run");
}

QTEST_MAIN(TestWidgets)
#include "tst_widgets.moc"
