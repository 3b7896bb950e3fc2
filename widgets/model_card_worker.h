#pragma once
// Measures model cards (core/models/model_card.h) off the GUI thread: building a
// network and timing forwards at batch 128 takes from milliseconds to
// seconds. One worker lives on its own QThread per model picker; requests
// arrive by queued calls, answers leave by a queued signal, and a newer
// request makes older ones obsolete (they are skipped, or abandoned between
// two timed forwards).
#include "core/models/model_card.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <map>
#include <string>

namespace distillery::gui {

struct CardRequest {
  quint64 ticket = 0;
  QString spec_json;    // the model, as RunConfig writes a ModelSpec
  QString teacher_json; // empty: no comparison
  distillery::CardInput input;
  QString device = QStringLiteral("cpu");
  bool latency = true;
};

class ModelCardWorker : public QObject {
  Q_OBJECT
public:
  ModelCardWorker();
  // Thread-safe: marks every request before `ticket` obsolete.
  void supersede(quint64 ticket) {
    latest_.store(ticket);
    obsolete_.store(true);
  }
  // Thread-safe: abandons whatever is being measured and all that follows (on shutdown).
  void cancel() {
    cancel_.store(true);
    obsolete_.store(true);
  }

  // Runs on the worker's thread (queued by the picker).
  void measure(const CardRequest& request);

Q_SIGNALS:
  // card_json: toJson(ModelCard) with the comparison filled in; error: why it could not be made.
  void measured(quint64 ticket, const QString& card_json, const QString& card_text, const QString& error);

private:
  distillery::ModelCard cardFor(const QString& spec_json, const CardRequest& request);

  std::atomic<quint64> latest_{0};
  std::atomic<bool> cancel_{false};
  std::atomic<bool> obsolete_{false}; // the request being measured is no longer wanted
  std::map<std::string, distillery::ModelCard> cache_; // by spec, input and device
};

} // namespace distillery::gui
