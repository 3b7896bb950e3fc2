#include "widgets/serve_detector_worker.h"

#include "core/base/errors.h"
#include "core/config/run_config.h"
#include "core/forensics/log_audit.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <QDir>

#include <algorithm>
#include <exception>

namespace distillery::gui {

ServeDetectorWorker::ServeDetectorWorker() { qRegisterMetaType<distillery::gui::DetectorUpdate>(); }

ServeDetectorWorker::~ServeDetectorWorker() = default;

double ServeDetectorWorker::delta() const { return LogAuditOptions{}.prada.delta; }
double ServeDetectorWorker::shiftThreshold() const { return LogAuditOptions{}.shift_threshold; }
int64_t ServeDetectorWorker::minDistances() const { return LogAuditOptions{}.prada.min_distances; }

void ServeDetectorWorker::open(const QString& logPath, const QString& teacherJson, const QString& storePath) {
  logPath_ = logPath;
  reference_.reset();
  // The worker boundary: a run or data folder that cannot be read becomes a message.
  QString why;
  try {
    const auto teacher = nlohmann::json::parse(teacherJson.toStdString(), nullptr, false);
    if (!teacher.is_object() || !teacher.contains("run") || !teacher["run"].is_number_integer()) {
      why = tr("the teacher is a TorchScript file, whose dataset the server does not know: pick its IDX folder");
    } else {
      const int64_t id = teacher["run"].get<int64_t>();
      RunStore store(storePath.toStdString());
      const auto run = store.run(id);
      if (!run) throw StoreError(storePath.toStdString() + ": run " + std::to_string(id) + " is gone");
      const DataConfig data = RunConfig::fromJsonText(run->config_json).data;
      if (data.dataset != "fashion-mnist" && data.dataset != "mnist") {
        why = tr("run #%1 trained on %2; the shift score reads IDX image sets (fashion-mnist, mnist) only")
                  .arg(id)
                  .arg(QString::fromStdString(data.dataset));
      } else {
        reference_ = std::make_shared<const ShiftReference>(shiftReferenceFromIdx(data.path, data.dataset));
        Q_EMIT referenceChanged(tr("shift against run #%1's data: %2 (%3)")
                                    .arg(id)
                                    .arg(QDir::toNativeSeparators(QString::fromStdString(data.path)),
                                         QString::fromStdString(data.dataset)),
                                true);
      }
    }
  } catch (const std::exception& e) {
    why = tr("the served run's data cannot be read (%1)").arg(QString::fromUtf8(e.what()));
  }
  if (!reference_) Q_EMIT referenceChanged(tr("PRADA only, no shift score: %1").arg(why), false);
  restart();
}

void ServeDetectorWorker::setReferenceFolder(const QString& folder, const QString& dataset) {
  try {
    reference_ = std::make_shared<const ShiftReference>(
        shiftReferenceFromIdx(folder.toStdString(), dataset.toStdString()));
    Q_EMIT referenceChanged(tr("shift against %1 (%2)").arg(QDir::toNativeSeparators(folder), dataset), true);
  } catch (const std::exception& e) {
    Q_EMIT failed(tr("No shift reference: %1").arg(QString::fromUtf8(e.what())));
    return;
  }
  if (!logPath_.isEmpty()) restart();
}

// Starts the scores over: a new log, or a new reference (the shift of every earlier query changes).
void ServeDetectorWorker::restart() {
  stream_.reset();
  sent_.clear();
  restartPending_ = true;
  poll();
}

void ServeDetectorWorker::poll() {
  DetectorUpdate update;
  if (logPath_.isEmpty()) {
    Q_EMIT updated(update);
    return;
  }
  try {
    if (!stream_) stream_ = std::make_unique<LogAuditStream>(logPath_.toStdString(), reference_);
    const std::vector<std::string> grown = stream_->readNew();
    // Sent even when nothing is new: the panel queues one poll at a time and waits for this.
    update.restart = restartPending_;
    restartPending_ = false;
    for (const std::string& key : grown) {
      const KeyAudit a = stream_->audit(key);
      const auto* scores = stream_->scores(a.key);
      qint64& sent = sent_[a.key];
      KeyDetectorScores k;
      k.key = QString::fromStdString(a.key);
      k.first = sent;
      k.w = QVector<double>(scores->w.begin() + sent, scores->w.end());
      if (!scores->shift.empty()) k.shift = QVector<double>(scores->shift.begin() + sent, scores->shift.end());
      sent = qint64(scores->w.size());
      k.queries = a.prada.queries;
      k.wNow = a.prada.w;
      k.shiftNow = a.shift;
      k.pradaFlaggedAfter = a.prada.flagged_after;
      k.shiftFlaggedAfter = a.shift_flagged_after;
      k.verdict = QString::fromStdString(a.verdict);
      update.keys.push_back(std::move(k));
    }
  } catch (const std::exception& e) {
    // The log vanished or is not one: say so, and try again from scratch on the next poll.
    stream_.reset();
    sent_.clear();
    restartPending_ = true;
    Q_EMIT failed(QString::fromUtf8(e.what()));
    update = {};
  }
  Q_EMIT updated(update);
}

} // namespace distillery::gui
