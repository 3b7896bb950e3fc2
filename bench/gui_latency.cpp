// How responsive the GUI stays while runs train: the main window with two
// distillation runs going, their curves updating live, and a probe timer that
// asks the event loop for a wake-up every 2 ms. The lateness of each wake-up
// is the time an input event would have waited. Prints p50/p99/max in ms.
//
//   gui_latency [--train-limit N] [--epochs N] [--seconds S]   (under Xvfb or -platform offscreen)
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "widgets/main_window.h"
#include "widgets/run_controller.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QItemSelectionModel>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

} // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  int64_t train_limit = 20000;
  int epochs = 2;
  double max_seconds = 120;
  const QStringList args = app.arguments();
  for (int i = 1; i + 1 < args.size(); ++i) {
    if (args[i] == "--train-limit") train_limit = args[i + 1].toLongLong();
    if (args[i] == "--epochs") epochs = args[i + 1].toInt();
    if (args[i] == "--seconds") max_seconds = args[i + 1].toDouble();
  }

  QTemporaryDir dir;
  distillery::RunStore store(dir.filePath("bench.sqlite").toStdString());
  distillery::gui::MainWindow window(store);
  window.resize(1400, 900);
  window.show();

  distillery::RunConfig config = distillery::RunConfig::defaultDistill();
  config.data.train_limit = train_limit;
  config.epochs = epochs;
  config.log_every = 5; // many points: the charts redraw often
  config.evals_per_epoch = 10;
  config.teacher_cache.dir = dir.filePath("cache").toStdString();
  config.name = "latency-a";
  const int64_t a = window.startRun(config);
  config.name = "latency-b";
  config.seed = 1;
  const int64_t b = window.startRun(config);
  // Both runs selected: both sets of curves update live.
  window.selectRun(a);
  auto* selection = window.runTable()->selectionModel();
  for (int row = 0; row < window.runTable()->model()->rowCount(); ++row)
    selection->select(window.runTable()->model()->index(row, 0),
                      QItemSelectionModel::Select | QItemSelectionModel::Rows);

  constexpr int kIntervalMs = 2;
  std::vector<double> lateness_ms;
  QElapsedTimer clock;
  clock.start();
  qint64 last = clock.nsecsElapsed();
  QTimer probe;
  probe.setTimerType(Qt::PreciseTimer);
  probe.setInterval(kIntervalMs);
  QObject::connect(&probe, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    lateness_ms.push_back(std::max(0.0, double(now - last) / 1e6 - kIntervalMs));
    last = now;
    const bool done = !window.controller()->isActive(a) && !window.controller()->isActive(b);
    if (done || clock.elapsed() > max_seconds * 1000) app.quit();
  });
  probe.start();
  app.exec();

  std::printf("runs=%lld,%lld samples=%zu wall_s=%.1f\n", (long long)a, (long long)b, lateness_ms.size(),
              clock.elapsed() / 1000.0);
  std::printf("event_loop_lateness_p50_ms=%.2f\n", percentile(lateness_ms, 0.50));
  std::printf("event_loop_lateness_p99_ms=%.2f (target < 16)\n", percentile(lateness_ms, 0.99));
  std::printf("event_loop_lateness_max_ms=%.2f\n", percentile(lateness_ms, 1.0));
  return 0;
}
