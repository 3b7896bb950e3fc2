#include "widgets/model_io_actions.h"

#include "core/models/model_export.h"
#include "core/store/run_store.h"
#include "widgets/file_dialogs.h"

#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEvent>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QUrl>
#include <QWidget>

#include <exception>

namespace distillery::gui {

QString exportModelInteractively(distillery::RunStore& store, int64_t runId, QWidget* parent) {
  if (runId <= 0) {
    QMessageBox::information(parent, QObject::tr("Export Model"), QObject::tr("Select a finished run first."));
    return {};
  }
  const QString file = saveFileName(parent, QObject::tr("Export the model of run #%1").arg(runId),
                                                    QStringLiteral("run%1.pt").arg(runId),
                                                    QObject::tr("TorchScript (*.pt)"));
  if (file.isEmpty()) return {};
  QApplication::setOverrideCursor(Qt::WaitCursor);
  QString error;
  int64_t bytes = 0;
  try {
    bytes = distillery::exportRunModel(store, runId, file.toStdString());
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
  QApplication::restoreOverrideCursor();
  if (!error.isEmpty()) {
    QMessageBox::warning(parent, QObject::tr("Export Model"), QObject::tr("Could not export: %1").arg(error));
    return {};
  }
  QMessageBox::information(parent, QObject::tr("Export Model"),
                           QObject::tr("Wrote %1 (%2 KiB).\nIn Python: model = torch.jit.load(\"%3\")")
                               .arg(QFileInfo(file).fileName())
                               .arg(double(bytes) / 1024.0, 0, 'f', 1)
                               .arg(file));
  return file;
}

namespace {

bool isTorchScriptName(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  return suffix == QLatin1String("pt") || suffix == QLatin1String("pth");
}

QString droppedFile(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const QUrl& url : mime->urls())
    if (url.isLocalFile() && isTorchScriptName(url.toLocalFile())) return url.toLocalFile();
  return {};
}

class TorchScriptDropFilter : public QObject {
public:
  TorchScriptDropFilter(QObject* parent, std::function<void(const QString&)> onFile)
      : QObject(parent), onFile_(std::move(onFile)) {}

protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove) {
      auto* drag = static_cast<QDragMoveEvent*>(event);
      if (!droppedFile(drag->mimeData()).isEmpty()) {
        drag->acceptProposedAction();
        return true;
      }
    } else if (event->type() == QEvent::Drop) {
      auto* drop = static_cast<QDropEvent*>(event);
      const QString file = droppedFile(drop->mimeData());
      if (!file.isEmpty()) {
        drop->acceptProposedAction();
        onFile_(file);
        return true;
      }
    }
    return QObject::eventFilter(watched, event);
  }

private:
  std::function<void(const QString&)> onFile_;
};

} // namespace

void acceptTorchScriptDrops(QWidget* window, std::function<void(const QString&)> onFile) {
  window->setAcceptDrops(true);
  window->installEventFilter(new TorchScriptDropFilter(window, std::move(onFile)));
}

} // namespace distillery::gui
