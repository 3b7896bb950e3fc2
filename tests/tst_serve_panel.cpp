// Run ▸ Serve Teacher… and the traffic panel (issue 17 part 1). A tiny mlp is
// trained into a file store, served from the panel's worker thread on a free
// port and spoken to over real HTTP; the panel's table must then show each
// key's answered queries, requests, refusals by status, money and budget left,
// as counted by hand from the requests sent. The rate is checked on a log
// written directly, with the poll times given. Stopping (the button, closing
// the window) must end the server; bad configs must be refused by name.
#include "core/base/base64.h"
#include "core/base/errors.h"
#include "core/config/run_config.h"
#include "core/data/idx_reader.h"
#include "core/forensics/log_audit.h"
#include "core/serve/request_log.h"
#include "core/serve/serve_config.h"
#include "core/store/run_store.h"
#include "core/training/engine.h"
#include "test_support.h"
#include "widgets/main_window.h"
#include "widgets/serve_detector_worker.h"
#include "widgets/serve_dialog.h"
#include "widgets/serve_panel.h"
#include "widgets/serve_traffic_model.h"

#include <httplib.h>

#include <QFile>
#include <QLabel>
#include <QLineSeries>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QTableView>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <random>

using json = nlohmann::json;
using namespace distillery;
using namespace distillery::gui;

namespace {

const char* kAlice = "alice-secret-0001";
const char* kBob = "bob-secret-0002";
const char* kCarol = "carol-secret-0003";

std::string classifyBody(int batch) {
  return json{{"dtype", "uint8"}, {"shape", {batch, 1, 28, 28}}, {"data", encodeBase64(std::string(size_t(batch) * 784, '\7'))}}
      .dump();
}

int post(int port, const char* key, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  httplib::Headers headers;
  if (key) headers.emplace("Authorization", std::string("Bearer ") + key);
  auto res = client.Post("/v1/classify", headers, body, "application/json");
  return res ? res->status : -1;
}

int portOf(const QString& url) { return url.section(u':', -1).toInt(); }

} // namespace

class TestServePanel : public QObject {
  Q_OBJECT

private:
  QTemporaryDir dir_;
  int64_t runId_ = 0;
  QString store() const { return dir_.filePath("runs.sqlite"); }

  QString writeFile(const QString& name, const QByteArray& bytes) {
    QFile f(dir_.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(bytes);
    return f.fileName();
  }
  QString writeJson(const QString& name, const json& j) { return writeFile(name, QByteArray::fromStdString(j.dump(2))); }

  // alice: plenty of everything, batches of at most 4; bob: a bucket of 2, refilled every
  // 100 s; carol: a budget of 3 queries. Price 0.25 per 1,000 queries.
  json serveConfig(const QString& log) const {
    return {{"keys",
             {{{"name", "alice"}, {"key", kAlice}, {"budget", 1000}, {"rate_per_s", 1000}, {"burst", 1000}},
              {{"name", "bob"}, {"key", kBob}, {"budget", 500}, {"rate_per_s", 0.01}, {"burst", 2}},
              {{"name", "carol"}, {"key", kCarol}, {"budget", 3}, {"rate_per_s", 1000}, {"burst", 1000}}}},
            {"price_per_1000", 0.25},
            {"currency", "EUR"},
            {"max_batch", 4},
            {"output", {{"mode", "topk"}, {"k", 3}}},
            {"log", dir_.filePath(log).toStdString()}};
  }

  ServeOptions options(const QString& config) const {
    ServeOptions o;
    o.teacher = QString::number(runId_);
    o.configPath = config;
    o.storePath = store();
    o.port = 0;
    return o;
  }

  static qint64 count(ServeTrafficModel* m, const QString& key, int column) {
    const int row = m->rowOf(key);
    return row < 0 ? -1 : m->data(m->index(row, column), ServeTrafficModel::ValueRole).toLongLong();
  }
  static QString text(ServeTrafficModel* m, int row, int column) {
    return m->data(m->index(row, column)).toString();
  }

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    const QString data = dir_.filePath("data");
    QVERIFY(QDir().mkpath(data));
    testsupport::writeSyntheticDataset(data.toStdString(), 600, 100);
    RunConfig c;
    c.name = "tiny";
    c.task = "train";
    c.model.zoo = "mlp";
    c.model.hidden = {16};
    c.data.path = data.toStdString();
    c.data.val_size = 100;
    c.epochs = 1;
    c.batch_size = 64;
    c.device = "cpu";
    c.threads = 1;
    RunStore s(store().toStdString());
    RunObserver quiet;
    StopToken stop;
    const RunOutcome out = executeRun(s, queueRun(s, c), c, quiet, stop);
    QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
    runId_ = out.run_id;
  }

  // The table against the requests sent, counted by hand.
  void panelCountsEachKeysTraffic() {
    ServePanel panel;
    QSignalSpy listening(&panel, &ServePanel::listening);
    QSignalSpy failed(&panel, &ServePanel::failed);
    QVERIFY(panel.start(options(writeJson("serve.json", serveConfig("traffic.sqlite")))));
    QVERIFY(!panel.start(options(writeJson("serve.json", serveConfig("traffic.sqlite"))))); // one at a time
    QVERIFY2(listening.wait(60000), qPrintable(panel.errorText()));
    QCOMPARE(failed.count(), 0);
    QVERIFY(panel.url().startsWith("http://127.0.0.1:"));
    const int port = portOf(panel.url());
    QVERIFY(port > 0);

    for (int i = 0; i < 3; ++i) QCOMPARE(post(port, kAlice, classifyBody(2)), 200);
    QCOMPARE(post(port, kAlice, "{}"), 400);
    QCOMPARE(post(port, kAlice, classifyBody(5)), 413); // max_batch 4
    QCOMPARE(post(port, kBob, classifyBody(1)), 200);
    QCOMPARE(post(port, kBob, classifyBody(1)), 200);
    QCOMPARE(post(port, kBob, classifyBody(1)), 429); // the bucket of 2 is empty
    QCOMPARE(post(port, kBob, classifyBody(1)), 429);
    QCOMPARE(post(port, kCarol, classifyBody(2)), 200);
    QCOMPARE(post(port, kCarol, classifyBody(2)), 402); // 1 query left
    QCOMPARE(post(port, nullptr, classifyBody(1)), 401);
    QCOMPARE(post(port, "not-a-key-at-all", classifyBody(1)), 401);
    panel.pollNow();

    ServeTrafficModel* m = panel.trafficModel();
    using M = ServeTrafficModel;
    QCOMPARE(count(m, "alice", M::QueriesColumn), 6);
    QCOMPARE(count(m, "alice", M::RequestsColumn), 5);
    QCOMPARE(count(m, "alice", M::Status400Column), 1);
    QCOMPARE(count(m, "alice", M::Status413Column), 1);
    QCOMPARE(count(m, "alice", M::Status429Column), 0);
    QCOMPARE(count(m, "alice", M::BudgetColumn), 994);
    QCOMPARE(count(m, "bob", M::QueriesColumn), 2);
    QCOMPARE(count(m, "bob", M::RequestsColumn), 4);
    QCOMPARE(count(m, "bob", M::Status429Column), 2);
    QCOMPARE(count(m, "bob", M::BudgetColumn), 498);
    QCOMPARE(count(m, "carol", M::QueriesColumn), 2);
    QCOMPARE(count(m, "carol", M::Status402Column), 1);
    QCOMPARE(count(m, "carol", M::BudgetColumn), 1);
    QCOMPARE(count(m, M::noKeyName(), M::Status401Column), 2);
    QCOMPARE(count(m, M::noKeyName(), M::QueriesColumn), 0);
    // Money: queries × 0.25 / 1,000.
    QCOMPARE(m->data(m->index(m->rowOf("alice"), M::SpentColumn), M::ValueRole).toDouble(), 6 * 0.25 / 1000);
    QCOMPARE(text(m, m->rowOf("alice"), M::SpentColumn), QLocale().toString(0.0015, 'f', 4));
    QCOMPARE(m->headerData(M::SpentColumn, Qt::Horizontal).toString(), QStringLiteral("Spent (EUR)"));
    // Totals, the last row.
    const int total = m->rowCount() - 1;
    QCOMPARE(text(m, total, M::KeyColumn), QStringLiteral("Total"));
    QCOMPARE(m->data(m->index(total, M::QueriesColumn), M::ValueRole).toLongLong(), 10);
    QCOMPARE(m->data(m->index(total, M::RequestsColumn), M::ValueRole).toLongLong(), 13);
    QCOMPARE(m->data(m->index(total, M::SpentColumn), M::ValueRole).toDouble(), 10 * 0.25 / 1000);
    // The mode and its parameters, as served.
    QVERIFY2(panel.findChild<QLabel*>("serveServed")->text().contains("topk (k=3); no defenses"),
             qPrintable(panel.findChild<QLabel*>("serveServed")->text()));
    QCOMPARE(panel.findChild<QLineEdit*>("serveUrl")->text(), panel.url());

    // Stop: the server ends, the port stops answering, the last counts stay.
    QSignalSpy finished(&panel, &ServePanel::finished);
    panel.findChild<QPushButton*>("stopServerButton")->click();
    QVERIFY(finished.wait(10000));
    QVERIFY(!panel.isServing());
    QCOMPARE(post(port, kAlice, classifyBody(1)), -1);
    QCOMPARE(count(m, "alice", M::QueriesColumn), 6);
    QCOMPARE(m->data(m->index(m->rowOf("alice"), M::RateColumn), M::ValueRole).toDouble(), 0.0);
  }

  // The detectors (issue 18 part 4): an honest key (the task's test images, some
  // sent twice) and one stepping in small moves from four seeds, sent in two
  // phases so the scores grow across polls. The panel's scores after each
  // query, its table and its chart must be what the batch audit (audit-log's
  // auditRequestLog) finds on the same log, against the served run's data.
  void panelScoresKeysLikeTheAudit() {
    // Real images: the synthetic set's ten bars on noise make any client's distances bimodal.
    const std::string data = "/usr/share/datasets/fashion-mnist";
    if (!QFile::exists(QString::fromStdString(data + "/t10k-images-idx3-ubyte.gz")))
      QSKIP("Fashion-MNIST is not in /usr/share/datasets/fashion-mnist");
    RunConfig c;
    c.name = "fashion-tiny";
    c.task = "train";
    c.model.zoo = "mlp";
    c.model.hidden = {16};
    c.data.path = data;
    c.data.train_limit = 600;
    c.data.test_limit = 100;
    c.data.val_size = 100;
    c.epochs = 1;
    c.batch_size = 64;
    c.device = "cpu";
    c.threads = 1;
    int64_t fashionRun = 0;
    {
      RunStore s(store().toStdString());
      RunObserver quiet;
      StopToken stop;
      const RunOutcome out = executeRun(s, queueRun(s, c), c, quiet, stop);
      QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
      fashionRun = out.run_id;
    }
    const char* honestKey = "honest-secret-0004";
    const char* stepsKey = "steps-secret-0005";
    const QString log = dir_.filePath("detectors.sqlite");
    json config = {{"keys",
                    {{{"name", "honest"}, {"key", honestKey}, {"budget", 100000}, {"rate_per_s", 100000}, {"burst", 100000}},
                     {{"name", "steps"}, {"key", stepsKey}, {"budget", 100000}, {"rate_per_s", 100000}, {"burst", 100000}}}},
                   {"max_batch", 16},
                   {"output", {{"mode", "label"}}},
                   {"log", log.toStdString()}};
    ServePanel panel;
    QSignalSpy listening(&panel, &ServePanel::listening);
    ServeOptions served = options(writeJson("detectors.json", config));
    served.teacher = QString::number(fashionRun);
    QVERIFY(panel.start(served));
    QVERIFY2(listening.wait(60000), qPrintable(panel.errorText()));
    const int port = portOf(panel.url());

    const IdxArray test = readIdx(data + "/t10k-images-idx3-ubyte.gz");
    auto image = [&](int i) { return std::string(reinterpret_cast<const char*>(test.data.data()) + size_t(i) * 784, 784); };
    auto send = [&](const char* key, const std::vector<std::string>& images) {
      std::string bytes;
      for (const auto& im : images) bytes += im;
      const json body = {{"dtype", "uint8"}, {"shape", {int(images.size()), 1, 28, 28}}, {"data", encodeBase64(bytes)}};
      return post(port, key, body.dump());
    };
    std::map<QString, size_t> sent;
    // Waits until the panel's detectors have every query sent.
    auto caughtUp = [&] {
      QSignalSpy updated(&panel, &ServePanel::detectorsUpdated);
      for (int tries = 0; tries < 100; ++tries) {
        bool all = true;
        for (const auto& [key, n] : sent) {
          const auto it = panel.detectorScores().find(key);
          all = all && it != panel.detectorScores().end() && it->second.w.size() == n;
        }
        if (all) return true;
        panel.pollNow();
        updated.wait(300);
      }
      return false;
    };
    std::mt19937_64 rng(9);
    std::vector<std::string> steps;
    for (int i = 0; i < 4; ++i) steps.push_back(image(11 * i + 3));
    for (int phase = 0; phase < 2; ++phase) {
      for (int k = 0; k < 40; ++k) {
        std::vector<std::string> batch = {image(phase * 40 + k)};
        if (k % 8 == 0) batch.push_back(image(k)); // again, or a second one
        QCOMPARE(send(honestKey, batch), 200);
        sent["honest"] += batch.size();
        std::string x = steps[size_t(std::uniform_int_distribution<int>(0, int(steps.size()) - 1)(rng))];
        for (char& c : x) c = char(std::clamp(int(uint8_t(c)) + std::uniform_int_distribution<int>(-4, 4)(rng), 0, 255));
        steps.push_back(x);
        QCOMPARE(send(stepsKey, {x}), 200);
        sent["steps"] += 1;
      }
      QVERIFY2(caughtUp(), qPrintable(panel.errorText()));
    }
    QVERIFY2(panel.detectorReference().contains(QString::fromStdString(data)), qPrintable(panel.detectorReference()));

    const ShiftReference reference = shiftReferenceFromIdx(data, "fashion-mnist");
    const std::vector<KeyAudit> audit = auditRequestLog(log.toStdString(), &reference);
    QCOMPARE(audit.size(), size_t(2));
    ServeTrafficModel* m = panel.trafficModel();
    using M = ServeTrafficModel;
    for (const KeyAudit& a : audit) {
      const QString key = QString::fromStdString(a.key);
      const ServePanel::KeyScores& s = panel.detectorScores().at(key);
      QCOMPARE(int64_t(s.w.size()), a.prada.queries);
      QCOMPARE(s.shift.size(), s.w.size());
      QCOMPARE(s.w.back(), a.prada.w);
      QCOMPARE(s.shift.back(), a.shift);
      // Each query's W: too few distances (NaN) until the batch trace of the prefix has one, then its value.
      std::map<std::string, std::vector<PradaQuery>> all = readLoggedQueries(log.toStdString());
      const auto& qs = all[a.key];
      for (size_t q = 0; q < qs.size(); q += 9) {
        const PradaTrace t = pradaTrace(std::vector<PradaQuery>(qs.begin(), qs.begin() + std::ptrdiff_t(q + 1)));
        if (t.w < 0) QVERIFY(std::isnan(s.w[q]));
        else QCOMPARE(s.w[q], t.w);
      }
      const int row = m->rowOf(key);
      QCOMPARE(m->data(m->index(row, M::PradaColumn), M::ValueRole).toDouble(), a.prada.w);
      QCOMPARE(m->data(m->index(row, M::ShiftColumn), M::ValueRole).toDouble(), a.shift);
      QCOMPARE(m->data(m->index(row, M::VerdictColumn), M::ValueRole).toString(), QString::fromStdString(a.verdict));
      QCOMPARE(m->isFlagged(row), a.prada_flag || a.shift_flag);

      // The chart draws W from where it is defined on: no point at 0 for the queries before.
      const QLineSeries* w = panel.detectorSeries(key, "W");
      QVERIFY(w);
      QVERIFY(!w->points().isEmpty());
      QVERIFY(w->points().first().x() > 20);
      for (const QPointF& p : w->points()) QVERIFY(p.y() > 0 && p.y() <= 1);
      QVERIFY(panel.detectorSeries(key, "shift") && panel.detectorSeries(key, "shift")->isVisible());
    }
    // An honest key looks honest; the one stepping from four seeds is flagged by PRADA.
    const KeyAudit& honest = audit[0];
    const KeyAudit& stepping = audit[1];
    QCOMPARE(honest.key, std::string("honest"));
    QVERIFY2(!honest.prada_flag && !honest.shift_flag, qPrintable(QString("honest W %1 (min %2), shift %3")
                                                                     .arg(honest.prada.w).arg(honest.prada.min_w).arg(honest.shift)));
    QVERIFY(honest.prada.exact_repeats > 0);
    QVERIFY2(stepping.prada_flag, qPrintable(QString("steps W %1").arg(stepping.prada.w)));
    QVERIFY(stepping.prada.w < honest.prada.w);
    QCOMPARE(text(m, m->rowOf("steps"), M::VerdictColumn).startsWith(QStringLiteral("⚑")), true);
    QCOMPARE(m->data(m->index(m->rowCount() - 1, M::VerdictColumn), M::ValueRole).toInt(), 1); // one flagged

    // Selecting a key in the table narrows the chart to it.
    panel.findChild<QTableView*>("trafficTable")->selectRow(m->rowOf("steps"));
    QCOMPARE(panel.detectorKeys(), QStringList{"steps"});
    QVERIFY(panel.detectorSeries("honest", "W") == nullptr);
    QVERIFY(panel.detectorSeries("steps", "W") != nullptr);
  }

  // A teacher whose data the server does not know (a TorchScript file): PRADA
  // only, saying why, and W's scores without a shift; a picked folder brings it.
  void detectorsWithoutDataShowPradaOnly() {
    const std::string path = dir_.filePath("prada-only.sqlite").toStdString();
    {
      RequestLog log(path);
      std::mt19937_64 rng(2);
      std::normal_distribution<double> noise(0, 30);
      for (int k = 0; k < 30; ++k) {
        LoggedRequest r;
        r.time_ms = k;
        r.key = "solo";
        r.method = "POST";
        r.path = "/v1/classify";
        r.status = 200;
        r.batch = 1;
        InputSketch s;
        s.height = s.width = 8;
        for (int i = 0; i < 64; ++i) s.cells.push_back(float(100 + noise(rng)));
        r.inputs.push_back({"sha-" + std::to_string(k), s});
        log.append(r);
      }
    }
    ServeDetectorWorker worker; // on this thread: its signals arrive at once
    QSignalSpy reference(&worker, &ServeDetectorWorker::referenceChanged);
    QSignalSpy updated(&worker, &ServeDetectorWorker::updated);
    worker.open(QString::fromStdString(path), R"({"torchscript":"/models/teacher.pt","sha256":"ab"})", store());
    QCOMPARE(reference.count(), 1);
    QCOMPARE(reference[0][1].toBool(), false);
    QVERIFY2(reference[0][0].toString().contains("PRADA only") && reference[0][0].toString().contains("TorchScript"),
             qPrintable(reference[0][0].toString()));
    QCOMPARE(updated.count(), 1);
    const auto update = updated[0][0].value<DetectorUpdate>();
    QVERIFY(update.restart);
    QCOMPARE(update.keys.size(), 1);
    QCOMPARE(update.keys[0].w.size(), 30);
    QVERIFY(update.keys[0].shift.isEmpty());
    QCOMPARE(update.keys[0].shiftNow, -1.0);
    QCOMPARE(update.keys[0].wNow, auditRequestLog(path, nullptr)[0].prada.w);
    // 19 distances after 20 queries: W is NaN until the 21st query.
    QVERIFY(std::isnan(update.keys[0].w[19]) && !std::isnan(update.keys[0].w[20]));

    // The task's data picked by hand: the scores start over with a shift.
    worker.setReferenceFolder(dir_.filePath("data"), "fashion-mnist");
    QCOMPARE(reference.count(), 2);
    QCOMPARE(reference[1][1].toBool(), true);
    const auto again = updated.last()[0].value<DetectorUpdate>();
    QVERIFY(again.restart);
    QCOMPARE(again.keys[0].shift.size(), 30);
    const ShiftReference ref = shiftReferenceFromIdx(dir_.filePath("data").toStdString(), "fashion-mnist");
    QCOMPARE(again.keys[0].shiftNow, auditRequestLog(path, &ref)[0].shift);
    // A folder that is not one: said, and the scores stay.
    const int before = updated.count();
    QSignalSpy failed(&worker, &ServeDetectorWorker::failed);
    worker.setReferenceFolder(dir_.filePath("nowhere"), "fashion-mnist");
    QCOMPARE(failed.count(), 1);
    QVERIFY2(failed[0][0].toString().contains("nowhere"), qPrintable(failed[0][0].toString()));
    QCOMPARE(updated.count(), before);
  }

  // A restarted server's panel starts from what the log says was spent (the budgets do too).
  void panelReadsTheLogsHistory() {
    const QString config = writeJson("again.json", serveConfig("history.sqlite"));
    {
      ServePanel panel;
      QSignalSpy listening(&panel, &ServePanel::listening);
      QVERIFY(panel.start(options(config)));
      QVERIFY2(listening.wait(60000), qPrintable(panel.errorText()));
      QCOMPARE(post(portOf(panel.url()), kCarol, classifyBody(3)), 200);
    } // the destructor stops and joins the server
    ServePanel panel;
    QSignalSpy listening(&panel, &ServePanel::listening);
    QVERIFY(panel.start(options(config)));
    QVERIFY2(listening.wait(60000), qPrintable(panel.errorText()));
    QCOMPARE(post(portOf(panel.url()), kCarol, classifyBody(1)), 402);
    panel.pollNow();
    ServeTrafficModel* m = panel.trafficModel();
    QCOMPARE(count(m, "carol", ServeTrafficModel::QueriesColumn), 3);
    QCOMPARE(count(m, "carol", ServeTrafficModel::Status402Column), 1);
    QCOMPARE(count(m, "carol", ServeTrafficModel::BudgetColumn), 0);
  }

  // Queries a second: those answered since the newest poll at least 5 s old, over the time since it.
  void rateIsQueriesOverTheLastSeconds() {
    const QString path = dir_.filePath("rate.sqlite");
    RequestLog log(path.toStdString());
    auto answered = [&](const std::string& key, int64_t batch, int status = 200) {
      LoggedRequest r;
      r.time_ms = 1;
      r.key = key;
      r.method = "POST";
      r.path = "/v1/classify";
      r.status = status;
      r.batch = status == 200 ? batch : 0;
      log.append(r);
    };
    answered("alice", 100); // history: no rate
    ServeConfig config;
    config.keys = {ApiKey{"alice", "alice-secret-0001", 1000}, ApiKey{"bob", "bob-secret-0002", 1000}};
    ServeTrafficModel m;
    m.open(path, config);
    using M = ServeTrafficModel;
    auto rate = [&](const char* key) { return m.data(m.index(m.rowOf(key), M::RateColumn), M::ValueRole).toDouble(); };
    m.poll(10.0);
    QCOMPARE(rate("alice"), 0.0);
    QCOMPARE(count(&m, "alice", M::QueriesColumn), 100);
    answered("alice", 10);
    answered("bob", 4);
    answered("bob", 9, 429); // refused: no queries
    m.poll(11.0);
    QCOMPARE(rate("alice"), 10.0);
    QCOMPARE(rate("bob"), 4.0);
    m.poll(12.0);
    QCOMPARE(rate("alice"), 5.0); // 10 over 2 s
    for (double t = 13; t <= 15; ++t) m.poll(t);
    QCOMPARE(rate("alice"), 2.0); // 10 over 5 s
    m.poll(16.0);
    QCOMPARE(rate("alice"), 0.0); // the 10 arrived before the 11 s poll, now the window's start
    answered("alice", 30);
    m.poll(17.0);
    QCOMPARE(rate("alice"), 6.0); // 30 over the 5 s since the 12 s poll
    QCOMPARE(m.data(m.index(m.rowCount() - 1, M::RequestsColumn), M::ValueRole).toLongLong(), 5);
    // One chart point per poll and key.
    QCOMPARE(int(m.rateHistory().at("alice").size()), 8);
    QCOMPARE(m.rateHistory().at("alice")[1].rate, 10.0);
    QCOMPARE(m.rateHistory().at("bob").back().rate, 0.0);
  }

  // What the server would refuse at start is refused in the dialog, naming the file and field.
  void badConfigsAreNamed() {
    RunStore s(store().toStdString());
    const auto runs = s.runs();
    ServeDialog dialog(runs, runId_, store());
    QCOMPARE(dialog.options().teacher, QString::number(runId_)); // the selected finished run
    QCOMPARE(dialog.options().host, QStringLiteral("127.0.0.1"));
    QCOMPARE(dialog.options().port, 0);
    auto* config = dialog.findChild<QLineEdit*>("configEdit");

    QVERIFY(dialog.problem().contains("Serve config"));
    config->setText(dir_.filePath("missing.json"));
    QVERIFY2(dialog.problem().contains("missing.json") && dialog.problem().contains("cannot read"),
             qPrintable(dialog.problem()));
    config->setText(writeFile("broken.json", "{\"keys\": ["));
    QVERIFY2(dialog.problem().contains("broken.json") && dialog.problem().contains("not valid JSON"),
             qPrintable(dialog.problem()));
    json unknown = serveConfig("x.sqlite");
    unknown["keys"][1]["budgett"] = 5;
    config->setText(writeJson("unknown.json", unknown));
    QVERIFY2(dialog.problem().contains("unknown.json: keys[1].budgett"), qPrintable(dialog.problem()));
    dialog.accept(); // refused, and said
    QCOMPARE(dialog.result(), int(QDialog::Rejected));
    QCOMPARE(dialog.errorText(), dialog.problem());
    config->setText(writeJson("good.json", serveConfig("x.sqlite")));
    QCOMPARE(dialog.problem(), QString());

    // A TorchScript teacher needs the config's "input".
    dialog.findChild<QLineEdit*>("teacherFileEdit")->setText(writeFile("model.pt", "not really"));
    dialog.findChild<QRadioButton*>("fileChoice")->setChecked(true);
    QVERIFY2(dialog.problem().contains("good.json: input"), qPrintable(dialog.problem()));

    // What only the model can check (topk's k against its 10 classes) comes from the worker, named.
    json tooMany = serveConfig("k.sqlite");
    tooMany["output"]["k"] = 50;
    ServePanel panel;
    QSignalSpy failed(&panel, &ServePanel::failed);
    QSignalSpy finished(&panel, &ServePanel::finished);
    QVERIFY(panel.start(options(writeJson("k.json", tooMany))));
    QVERIFY(finished.wait(60000));
    QCOMPARE(failed.count(), 1);
    QVERIFY2(panel.errorText().contains("k.json: output.k"), qPrintable(panel.errorText()));
    QVERIFY(!panel.isServing());
  }

  void starterConfigIsServable() {
    const QString path = dir_.filePath("starter.json");
    QCOMPARE(writeStarterServeConfig(path), QString());
    QCOMPARE(QFile(path).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
    const ServeConfig config = ServeConfig::fromJsonFile(path.toStdString());
    QCOMPARE(int(config.keys.size()), 1);
    QVERIFY(config.keys[0].secret.size() >= 16);
    QCOMPARE(config.output["mode"], json("probs"));
    QVERIFY(config.log_path.find("starter.log.sqlite") != std::string::npos);
    // Two starters never share a secret.
    QVERIFY(starterServeConfig()["keys"][0]["key"] != starterServeConfig()["keys"][0]["key"]);
  }

  // Run ▸ Serve Teacher… is there; the Serve tab's server stops when the window closes.
  void closingTheWindowStopsTheServer() {
    RunStore s(store().toStdString());
    MainWindow window(s);
    bool found = false;
    for (QAction* menu : window.menuBar()->actions())
      if (menu->menu())
        for (QAction* a : menu->menu()->actions()) found = found || a->text() == QStringLiteral("Ser&ve Teacher…");
    QVERIFY(found);
    QVERIFY(window.startServing(options(writeJson("window.json", serveConfig("window.sqlite")))));
    ServePanel* panel = window.servePanel();
    QVERIFY(panel);
    QCOMPARE(window.tabs()->currentWidget(), panel);
    QSignalSpy listening(panel, &ServePanel::listening);
    QVERIFY2(listening.wait(60000), qPrintable(panel->errorText()));
    const int port = portOf(panel->url());
    QCOMPARE(post(port, kAlice, classifyBody(1)), 200);
    QVERIFY(window.close());
    QVERIFY(!panel->isServing());
    QCOMPARE(post(port, kAlice, classifyBody(1)), -1);
  }
};

QTEST_MAIN(TestServePanel)
#include "tst_serve_panel.moc"
