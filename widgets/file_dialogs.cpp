#include "widgets/file_dialogs.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileIconProvider>
#include <QFileInfo>
#include <QSettings>

namespace distillery::gui {

namespace {

const char* const kLastFolderKey = "fileDialogs/lastFolder";

QString& defaultFolder() {
  static QString folder;
  return folder;
}

// Qt's default provider asks QMimeDatabase, which reads a file's first bytes
// when its name is not conclusive (store.sqlite-shm): exactly the open/close
// that costs SQLite its locks. This one only looks at the directory entry.
class EntryOnlyIconProvider : public QFileIconProvider {
public:
  QIcon icon(IconType type) const override { return QFileIconProvider::icon(type); }
  QIcon icon(const QFileInfo& info) const override {
    return QFileIconProvider::icon(info.isDir() ? QFileIconProvider::Folder : QFileIconProvider::File);
  }
  QString type(const QFileInfo& info) const override {
    if (info.isDir()) return QCoreApplication::translate("FileDialogs", "Folder");
    const QString suffix = info.suffix();
    return suffix.isEmpty() ? QCoreApplication::translate("FileDialogs", "File")
                            : QCoreApplication::translate("FileDialogs", "%1 File").arg(suffix);
  }
};

// One for the whole process, never destroyed: dialogs' background threads may
// still hold it while they shut down.
QAbstractFileIconProvider* entryOnlyIconProvider() {
  static auto* provider = new EntryOnlyIconProvider;
  return provider;
}

QString runDialog(QFileDialog* dialog) {
  QString chosen;
  if (dialog->exec() == QDialog::Accepted && !dialog->selectedFiles().isEmpty()) {
    chosen = dialog->selectedFiles().constFirst();
    rememberDialogFolder(chosen);
  }
  delete dialog;
  return chosen;
}

} // namespace

void setDefaultDialogFolder(const QString& folder) { defaultFolder() = folder; }

QString lastDialogFolder() {
  const QString remembered = QSettings().value(QLatin1String(kLastFolderKey)).toString();
  if (!remembered.isEmpty() && QFileInfo(remembered).isDir()) return remembered;
  if (!defaultFolder().isEmpty() && QFileInfo(defaultFolder()).isDir()) return defaultFolder();
  return QDir::currentPath();
}

QString dialogStartPath(const QString& suggestion) {
  if (suggestion.isEmpty()) return lastDialogFolder();
  const QFileInfo info(suggestion);
  if (info.isDir()) return info.absoluteFilePath();
  // "run3.pt" or "report.html": a name to offer, in the last folder.
  if (!suggestion.contains(u'/')) return QDir(lastDialogFolder()).filePath(suggestion);
  return QFileInfo(info.absolutePath()).isDir() ? info.absoluteFilePath()
                                                : QDir(lastDialogFolder()).filePath(info.fileName());
}

void rememberDialogFolder(const QString& chosenPath) {
  if (chosenPath.isEmpty()) return;
  const QFileInfo info(chosenPath);
  QSettings().setValue(QLatin1String(kLastFolderKey), info.isDir() ? info.absoluteFilePath() : info.absolutePath());
}

QFileDialog* createFileDialog(QWidget* parent, const QString& caption, const QString& suggestion,
                              const QString& filter, QFileDialog::AcceptMode acceptMode,
                              QFileDialog::FileMode fileMode) {
  // Built in "/" first: the dialog starts listing its folder at once, with
  // Qt's sniffing provider, before ours can be set. No store lives in "/".
  auto* dialog = new QFileDialog(parent, caption, QDir::rootPath(), filter);
  dialog->setOption(QFileDialog::DontUseNativeDialog, true);
  dialog->setIconProvider(entryOnlyIconProvider());
  dialog->setAcceptMode(acceptMode);
  dialog->setFileMode(fileMode);
  if (fileMode == QFileDialog::Directory) dialog->setOption(QFileDialog::ShowDirsOnly, true);
  const QString start = dialogStartPath(suggestion);
  const QFileInfo info(start);
  if (info.isDir()) {
    dialog->setDirectory(start);
  } else {
    dialog->setDirectory(info.absolutePath());
    dialog->selectFile(info.fileName());
  }
  return dialog;
}

QString saveFileName(QWidget* parent, const QString& caption, const QString& suggestion, const QString& filter,
                     QString* selectedFilter) {
  QFileDialog* dialog = createFileDialog(parent, caption, suggestion, filter, QFileDialog::AcceptSave,
                                         QFileDialog::AnyFile);
  if (selectedFilter) QObject::connect(dialog, &QFileDialog::filterSelected, dialog,
                                       [selectedFilter](const QString& f) { *selectedFilter = f; });
  if (selectedFilter) *selectedFilter = dialog->selectedNameFilter();
  return runDialog(dialog);
}

QString openFileName(QWidget* parent, const QString& caption, const QString& suggestion, const QString& filter) {
  return runDialog(createFileDialog(parent, caption, suggestion, filter, QFileDialog::AcceptOpen,
                                    QFileDialog::ExistingFile));
}

QString existingDirectory(QWidget* parent, const QString& caption, const QString& suggestion) {
  return runDialog(createFileDialog(parent, caption, suggestion, {}, QFileDialog::AcceptOpen,
                                    QFileDialog::Directory));
}

} // namespace distillery::gui
