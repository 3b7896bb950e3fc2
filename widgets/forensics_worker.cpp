#include "widgets/forensics_worker.h"

#include "core/forensics/forensic_session.h"
#include "core/store/run_store.h"

#include <exception>

namespace distillery::gui {

namespace {

// Worker-thread progress: a queued signal, and stop when asked.
template <class Emit>
distillery::ForensicProgress progressOf(const distillery::StopToken& stop, Emit emit) {
  return [&stop, emit](const std::string& step, int64_t done, int64_t total) {
    emit(QString::fromStdString(step), qint64(done), qint64(total));
    return !stop.stopRequested();
  };
}

} // namespace

void ForensicsWorker::runTests(const distillery::ForensicRequest& request) {
  // The worker boundary: a model that does not fit becomes a message, never a crash.
  try {
    distillery::RunStore store(storePath_.toStdString());
    const auto session = distillery::runStoredForensics(
        store, request, progressOf(stop_, [this](const QString& s, qint64 d, qint64 t) { Q_EMIT progress(s, d, t); }));
    Q_EMIT testsDone(QString::fromStdString(session.toJson().dump()));
  } catch (const distillery::RunCancelled&) {
    Q_EMIT failed(tr("Cancelled; nothing was stored."), true);
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromUtf8(e.what()), false);
  }
  Q_EMIT finished();
}

void ForensicsWorker::runCalibration(const distillery::CalibrationRequest& request) {
  try {
    distillery::RunStore store(storePath_.toStdString());
    const auto result = distillery::runStoredCalibration(
        store, request, progressOf(stop_, [this](const QString& s, qint64 d, qint64 t) { Q_EMIT progress(s, d, t); }));
    nlohmann::json out = {{"inputs", result.inputs}, {"rows", nlohmann::json::array()}};
    for (const auto& r : result.rows) {
      nlohmann::json j = r.toJson();
      j["positive_scores"] = r.positive_scores;
      j["negative_scores"] = r.negative_scores;
      out["rows"].push_back(j);
    }
    Q_EMIT calibrationDone(QString::fromStdString(out.dump()));
  } catch (const distillery::RunCancelled&) {
    Q_EMIT failed(tr("Cancelled."), true);
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromUtf8(e.what()), false);
  }
  Q_EMIT finished();
}

} // namespace distillery::gui
