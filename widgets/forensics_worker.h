#pragma once
// The engine work of the Forensics view (issue 18, part 4) on a thread of its
// own: the forensic tests of a suspect (stored in the run store like the
// CLI's) or the calibration of the tests on stored runs, through
// core/forensics/forensic_session.h. It opens its own connection to the
// store. Progress and results leave by queued signals; cancel() stops it at
// the next model asked.
#include "core/base/stop_token.h"
#include "core/forensics/forensic_request.h"

#include <QObject>
#include <QString>

namespace distillery::gui {

class ForensicsWorker : public QObject {
  Q_OBJECT
public:
  explicit ForensicsWorker(QString storePath) : storePath_(std::move(storePath)) {}
  // Thread-safe.
  void cancel() { stop_.requestStop(); }

  // Run on the worker's thread; each emits finished() last, whatever happened.
  void runTests(const distillery::ForensicRequest& request);
  void runCalibration(const distillery::CalibrationRequest& request);

Q_SIGNALS:
  void progress(const QString& step, qint64 done, qint64 total);
  // What `distillery-cli forensics --json` prints (ForensicSession::toJson).
  void testsDone(const QString& sessionJson);
  // {"inputs": CalibrationResult::inputs, "rows": HarnessRow::toJson each, with
  // its positive_scores and negative_scores}.
  void calibrationDone(const QString& resultJson);
  // Why it could not run (names the model or field), or that it was cancelled.
  void failed(const QString& message, bool cancelled);
  void finished();

private:
  QString storePath_;
  distillery::StopToken stop_;
};

} // namespace distillery::gui
