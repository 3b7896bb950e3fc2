#include "widgets/serve_worker.h"

#include "core/serve/served_teacher.h"
#include "serve/serve_teacher.h"

#include <exception>

namespace distillery::gui {

void ServeWorker::run() {
  qint64 requests = -1;
  // The worker boundary: a bad config, teacher or address becomes a message, never a crash.
  try {
    const ServedTeacher served = loadServedTeacher(options_.teacher.toStdString(), options_.configPath.toStdString(),
                                                   options_.storePath.toStdString());
    if (!stop_.stopRequested())
      requests = serveTeacher(served.config, served.model.input, served.model.teacher, served.model.forward,
                              options_.host.toStdString(), options_.port, stop_, [&](const ServeListening& at) {
                                ServeStarted started;
                                started.url = QStringLiteral("http://%1:%2")
                                                  .arg(QString::fromStdString(at.host))
                                                  .arg(at.port);
                                started.logPath = QString::fromStdString(at.log_path);
                                started.outputMode = QString::fromStdString(at.output_mode);
                                started.teacher = QString::fromStdString(served.model.teacher.dump());
                                started.config = served.config;
                                Q_EMIT listening(started);
                              });
  } catch (const std::exception& e) {
    Q_EMIT failed(QString::fromUtf8(e.what()));
  }
  Q_EMIT finished(requests);
}

} // namespace distillery::gui
