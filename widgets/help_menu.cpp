#include "widgets/help_menu.h"

#include "widgets/about_text.h"


#include <QAction>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QUrl>

#include <map>

namespace distillery::gui {

namespace {

QString plainText(QString menuText) {
  menuText.remove(u'&');
  return menuText;
}

} // namespace

QString shortcutList(const QMainWindow* window) {
  std::multimap<QString, QString> lines; // by action text
  for (const QAction* action : window->findChildren<QAction*>()) {
    if (action->shortcut().isEmpty() || action->text().isEmpty()) continue;
    lines.emplace(plainText(action->text()), action->shortcut().toString(QKeySequence::NativeText));
  }
  QString text;
  for (const auto& [name, keys] : lines) text += QStringLiteral("%1\t%2\n").arg(keys, name);
  text += QObject::tr("F2\tEdit the current cell (name, tags, notes)\n"
                      "Right-click the table header\tChoose columns and what group rows show\n");
  return text;
}

QString documentationFolder() {
  const QDir app(QCoreApplication::applicationDirPath());
  // A build tree (build/app/distillery) sits below the sources.
  QDir dir = app;
  for (int up = 0; up < 5; ++up) {
    if (QFileInfo::exists(dir.filePath(QStringLiteral("docs/architecture.md"))) &&
        QFileInfo::exists(dir.filePath(QStringLiteral("README.md"))))
      return dir.absolutePath();
    if (!dir.cdUp()) break;
  }
  const QString installed = app.filePath(QStringLiteral("../share/doc/distillery"));
  if (QFileInfo::exists(installed)) return QDir(installed).absolutePath();
  return {};
}

QMenu* addHelpMenu(QMainWindow* window, const QString& storePath) {
  QMenu* help = window->menuBar()->addMenu(QObject::tr("&Help"));
  help->setObjectName(QStringLiteral("helpMenu"));

  QAction* shortcuts = help->addAction(QObject::tr("&Keyboard Shortcuts"));
  shortcuts->setObjectName(QStringLiteral("shortcutsAction"));
  QObject::connect(shortcuts, &QAction::triggered, window, [window] {
    QMessageBox box(QMessageBox::NoIcon, QObject::tr("Keyboard Shortcuts"), QString(), QMessageBox::Close, window);
    QString rows;
    for (const QString& line : shortcutList(window).split(u'\n', Qt::SkipEmptyParts)) {
      const QStringList parts = line.split(u'\t');
      rows += QStringLiteral("<tr><td><b>%1</b></td><td>&nbsp;&nbsp;%2</td></tr>")
                  .arg(parts.value(0).toHtmlEscaped(), parts.value(1).toHtmlEscaped());
    }
    box.setTextFormat(Qt::RichText);
    box.setText(QStringLiteral("<table>%1</table>").arg(rows));
    box.exec();
  });

  QAction* docs = help->addAction(QObject::tr("&Documentation"));
  docs->setObjectName(QStringLiteral("documentationAction"));
  QObject::connect(docs, &QAction::triggered, window, [window] {
    const QString folder = documentationFolder();
    if (folder.isEmpty()) {
      QMessageBox::information(window, QObject::tr("Documentation"),
                               QObject::tr("No documentation was found beside this program. It is README.md and "
                                           "docs/*.md (architecture.md, methods.md) in the source tree."));
      return;
    }
    QMessageBox box(QMessageBox::Information, QObject::tr("Documentation"),
                    QObject::tr("The documentation is in\n%1\n\nREADME.md: quick start, CLI, run config\n"
                                "docs/architecture.md: how it works, file by file\ndocs/methods.md: the distillation methods")
                        .arg(QDir::toNativeSeparators(folder)),
                    QMessageBox::Close, window);
    QPushButton* open = box.addButton(QObject::tr("Open README"), QMessageBox::ActionRole);
    box.exec();
    if (box.clickedButton() == open)
      QDesktopServices::openUrl(QUrl::fromLocalFile(QDir(folder).filePath(QStringLiteral("README.md"))));
  });

  help->addSeparator();
  QAction* about = help->addAction(QObject::tr("&About Distillery"));
  about->setObjectName(QStringLiteral("aboutAction"));
  about->setMenuRole(QAction::AboutRole);
  QObject::connect(about, &QAction::triggered, window, [window, storePath] {
    QMessageBox::about(window, QObject::tr("About Distillery"), aboutText(storePath));
  });
  return help;
}

} // namespace distillery::gui
