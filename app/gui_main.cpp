// The desktop app: opens the run store on the GUI thread and shows the main
// window. Runs execute on worker threads, each with its own store connection.
#include "core/base/errors.h"
#include "core/base/paths.h"
#include "core/config/run_config.h"
#include "core/store/run_store.h"
#include "core/base/version.h"
#include "widgets/app_icon.h"
#include "widgets/file_dialogs.h"
#include "widgets/main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QTimer>

#include <cstdio>
#include <exception>
#include <memory>

namespace {

// The app, LibTorch, Qt and SQLite versions (as Help ▸ About shows them).
int printVersion() {
  std::fputs(distillery::versionText(qVersion()).c_str(), stdout);
  return 0;
}

} // namespace

int main(int argc, char* argv[]) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Knowledge-distillation workbench"));
  const QCommandLineOption helpOption = parser.addHelpOption();
  const QCommandLineOption versionOption(QStringList{QStringLiteral("v"), QStringLiteral("version")},
                                         QStringLiteral("Displays version information."));
  parser.addOption(versionOption);
  const QCommandLineOption dbOption(
      QStringLiteral("db"),
      QStringLiteral("Run store (SQLite file). Default: $DISTILLERY_DB, else "
                     "$XDG_DATA_HOME/distillery/runs.sqlite."),
      QStringLiteral("path"));
  const QCommandLineOption runDefaultOption(
      QStringLiteral("run-default"),
      QStringLiteral("Start the built-in default distillation run right away."));
  const QCommandLineOption runOption(
      QStringLiteral("run"), QStringLiteral("Start the run a config file (JSON, as for distillery-cli run) describes."),
      QStringLiteral("config"));
  parser.addOption(dbOption);
  parser.addOption(runDefaultOption);
  parser.addOption(runOption);

  // --version, --help and a bad option before the QApplication, which aborts without a display.
  QStringList arguments;
  for (int i = 0; i < argc; ++i) arguments << QString::fromLocal8Bit(argv[i]);
  const bool parsed = parser.parse(arguments);
  if (parsed && parser.isSet(versionOption)) return printVersion();
  if (!parsed || parser.isSet(helpOption) || parser.isSet(QStringLiteral("help-all"))) {
    QCoreApplication core(argc, argv); // no display needed
    QCoreApplication::setApplicationName(QStringLiteral("Distillery"));
    parser.process(core); // --help: the usage on stdout, exit 0; a bad option: the error on stderr, exit 1
    return 0;
  }

  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Distillery"));
  QApplication::setOrganizationName(QStringLiteral("Distillery"));
  QApplication::setApplicationVersion(QString::fromStdString(distillery::appVersion()));
  QApplication::setWindowIcon(distillery::gui::appIcon());
  QGuiApplication::setDesktopFileName(QStringLiteral("distillery")); // packaging/distillery.desktop
  parser.process(app);
  if (parser.isSet(versionOption)) return printVersion();

  std::unique_ptr<distillery::RunStore> store;
  QString path;
  try {
    path = QString::fromStdString(distillery::resolveStorePath(parser.value(dbOption).toStdString()));
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir))
      throw distillery::StoreError(QStringLiteral("%1: cannot create the folder").arg(dir).toStdString());
    store = std::make_unique<distillery::RunStore>(path.toStdString());
    distillery::gui::setDefaultDialogFolder(dir); // until a dialog has been used
  } catch (const std::exception& e) {
    QMessageBox::critical(nullptr, QStringLiteral("Distillery"),
                          QStringLiteral("Cannot open the run store %1:\n%2").arg(path, QString::fromUtf8(e.what())));
    return 1;
  }

  // Declared after the store, so it is destroyed (and its runs joined) first.
  distillery::gui::MainWindow window(*store);
  window.show();
  if (parser.isSet(runDefaultOption)) {
    QTimer::singleShot(0, &window, [&window] { window.startRun(distillery::RunConfig::defaultDistill()); });
  }
  if (parser.isSet(runOption)) {
    const QString file = parser.value(runOption);
    QTimer::singleShot(0, &window, [&window, file] {
      try {
        window.startRun(distillery::RunConfig::fromJsonFile(file.toStdString()));
      } catch (const std::exception& e) {
        QMessageBox::warning(&window, QStringLiteral("Distillery"),
                             QStringLiteral("Cannot start the run in %1:\n%2").arg(file, QString::fromUtf8(e.what())));
      }
    });
  }
  return app.exec();
}
