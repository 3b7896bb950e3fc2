#pragma once
// The traffic panel's detectors (issue 18, part 4), off the GUI thread: per
// API key, PRADA's W and the distribution-shift score after each answered
// query, extended on each poll() from the rows the request log gained
// (core/forensics/log_audit.h's LogAuditStream, the audit `distillery-cli
// audit-log` prints), so a poll costs what arrived. The shift score needs the
// task's data: the served run's dataset when it is an IDX image set, else a
// folder the user picks; without one only PRADA runs, and reference() says why.
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVector>

#include <map>
#include <memory>
#include <string>

namespace distillery {
class LogAuditStream;
struct ShiftReference;
} // namespace distillery

namespace distillery::gui {

// One key's scores from one poll: the points its new queries added and where it stands.
struct KeyDetectorScores {
  QString key;
  qint64 first = 0;       // the index (0-based query) of w[0] and shift[0]
  QVector<double> w;      // PRADA's W after each new query; NaN: too few distances yet
  QVector<double> shift;  // the shift score after each; empty without a reference
  qint64 queries = 0;     // answered queries so far
  double wNow = -1;       // -1: too few distances
  double shiftNow = -1;   // -1: no reference
  qint64 pradaFlaggedAfter = 0; // queries when W first fell below delta; 0: never
  qint64 shiftFlaggedAfter = 0;
  QString verdict;        // audit-log's: "extraction?", "shifted", "honest-looking", "too few queries"
};

struct DetectorUpdate {
  bool restart = false; // the scores start over (a new log or reference): drop what came before
  QVector<KeyDetectorScores> keys;
};

class ServeDetectorWorker : public QObject {
  Q_OBJECT
public:
  ServeDetectorWorker();
  ~ServeDetectorWorker() override;

  // Slots, called queued on the worker's thread.
  // A new log; the shift reference from the served teacher (/v1/info's teacher object) when it is a run.
  void open(const QString& logPath, const QString& teacherJson, const QString& storePath);
  // The task's IDX image folder, picked by the user ("fashion-mnist" or "mnist").
  void setReferenceFolder(const QString& folder, const QString& dataset);
  void poll();

  double delta() const;
  double shiftThreshold() const;
  int64_t minDistances() const;

Q_SIGNALS:
  void updated(const distillery::gui::DetectorUpdate& update);
  // What the shift score is measured against, or why there is none.
  void referenceChanged(const QString& description, bool hasShift);
  void failed(const QString& message);

private:
  void restart();

  QString logPath_;
  std::shared_ptr<const distillery::ShiftReference> reference_;
  std::unique_ptr<distillery::LogAuditStream> stream_;
  std::map<std::string, qint64> sent_; // per key: points already sent
  bool restartPending_ = false;
};

} // namespace distillery::gui

Q_DECLARE_METATYPE(distillery::gui::DetectorUpdate)
