// What following a run another process writes costs the GUI thread: a store
// with one running run of N points, another connection appending B points
// (and a log line) between looks, and the main window showing the run. Each
// look is MainWindow::followExternalRuns (incremental, RunFollower); for
// comparison, the same ticks redone the way the window followed runs before
// (every point of the run read again for the table, the charts and the
// summary, and the log re-read). Prints ms and point rows read per look.
//
//   follow_cost [--points N] [--batch B] [--looks K]   (under Xvfb or -platform offscreen)
#include "core/store/run_store.h"
#include "widgets/main_window.h"
#include "widgets/run_table_model.h"
#include "widgets/run_view.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<distillery::MetricPoint> lossPoints(int64_t run, int64_t from, int64_t count) {
  std::vector<distillery::MetricPoint> out;
  for (int64_t step = from; step < from + count; ++step) {
    distillery::MetricPoint p;
    p.run_id = run;
    p.metric = step % 50 == 0 ? "val_accuracy" : "train_loss";
    p.step = step;
    p.wall_s = double(step) * 0.01;
    p.value = 1.0 / double(step);
    out.push_back(p);
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  int64_t points = 100000, batch = 50;
  int looks = 20;
  const QStringList args = app.arguments();
  for (int i = 1; i + 1 < args.size(); ++i) {
    if (args[i] == QLatin1String("--points")) points = args[++i].toLongLong();
    else if (args[i] == QLatin1String("--batch")) batch = args[++i].toLongLong();
    else if (args[i] == QLatin1String("--looks")) looks = args[++i].toInt();
  }
  QTemporaryDir dir;
  const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
  distillery::RunStore store(path);
  distillery::RunStore writer(path); // the other process
  const int64_t id = writer.createRun("followed", "train", R"({"name":"followed","task":"train"})");
  writer.setStatus(id, distillery::RunStatus::Running);
  writer.appendPoints(lossPoints(id, 1, points));
  int64_t next = points + 1;

  distillery::gui::MainWindow window(store);
  window.show();
  window.runModel()->refresh();
  window.selectRun(id);
  window.followExternalRuns(); // the first look reads the run once
  app.processEvents();

  auto tick = [&](auto&& look) {
    double ms = 0;
    int64_t rows = 0;
    for (int k = 0; k < looks; ++k) {
      writer.appendPoints(lossPoints(id, next, batch));
      writer.appendLogs({{id, double(next) * 0.01, "info", "step " + std::to_string(next)}});
      next += batch;
      const int64_t before = store.pointRowsRead();
      QElapsedTimer t;
      t.start();
      look();
      app.processEvents(); // the repaint the look asked for
      ms += double(t.nsecsElapsed()) / 1e6;
      rows += store.pointRowsRead() - before;
    }
    return std::pair<double, double>(ms / looks, double(rows) / looks);
  };
  const auto incremental = tick([&] { window.followExternalRuns(); });
  const auto full = tick([&] {
    // The former look: RunTableModel::reloadMetrics read the run's accuracy,
    // agreement and all of its points; RunView::reloadRun all points and every
    // shown log line; refreshSummary all points again (no summary yet).
    store.points(id, "val_accuracy");
    store.points(id, "val_agreement");
    store.points(id);
    window.runView()->reloadRun(id);
    window.runView()->refreshSummary();
  });
  std::printf("run of %lld points, %lld new per look, %d looks\n", (long long)points, (long long)batch, looks);
  std::printf("incremental look (RunFollower):  %8.2f ms, %10.0f point rows read\n", incremental.first,
              incremental.second);
  std::printf("full re-read look (before):      %8.2f ms, %10.0f point rows read\n", full.first, full.second);
  return 0;
}
