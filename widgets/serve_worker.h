#pragma once
// The teacher server of Run ▸ Serve Teacher… (issue 17), on a thread of its
// own: loads the teacher (LibTorch), opens the request log and serves HTTP
// until stop() (serve/serve_teacher.h, the same session the CLI runs). Answers
// leave by queued signals; the GUI thread never blocks on the model or a socket.
#include "core/base/stop_token.h"
#include "core/serve/serve_config.h"

#include <QMetaType>
#include <QObject>
#include <QString>

namespace distillery::gui {

struct ServeOptions {
  QString teacher;    // a run id (digits) or a TorchScript file
  QString configPath; // the serve config (JSON)
  QString storePath;  // the run store, for a run id
  QString host = QStringLiteral("127.0.0.1");
  int port = 0;       // 0: any free port
};

// What a bound server reports: where it listens and what it serves.
struct ServeStarted {
  QString url;        // http://HOST:PORT
  QString logPath;    // the request log
  QString outputMode; // "probs", "topk", ...
  QString teacher;    // /v1/info's teacher object, as JSON
  distillery::ServeConfig config; // keys (with budgets), price, output and its defenses
};

class ServeWorker : public QObject {
  Q_OBJECT
public:
  explicit ServeWorker(ServeOptions options) : options_(std::move(options)) {}
  // Thread-safe: the server finishes the requests in progress and returns.
  void stop() { stop_.requestStop(); }

  // Runs on the worker's thread until stop(); emits finished() last, whatever happened.
  void run();

Q_SIGNALS:
  void listening(const distillery::gui::ServeStarted& started);
  // Why the server could not start or stopped early (the message names the file or field).
  void failed(const QString& message);
  void finished(qint64 loggedRequests);

private:
  ServeOptions options_;
  distillery::StopToken stop_;
};

} // namespace distillery::gui

Q_DECLARE_METATYPE(distillery::gui::ServeStarted)
