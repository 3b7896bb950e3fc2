#pragma once
// Every file dialog of the app goes through here, for two reasons.
// - Safety: Qt's own dialog (never the platform's) with an icon provider that
//   decides "folder" or "file" from the directory entry alone. A dialog that
//   opens store.sqlite-shm or -wal to guess an icon drops SQLite's locks on the
//   run store, and another process may then delete the files this one writes
//   into (docs/architecture.md, "Sharing a store").
// - Convenience: a dialog starts in the last folder one was accepted in,
//   remembered across restarts (QSettings key "fileDialogs/lastFolder"); the
//   first time, in the run store's folder.
#include <QFileDialog>
#include <QString>

class QWidget;

namespace distillery::gui {

// Where dialogs start before any was used: the GUI sets the store's folder.
void setDefaultDialogFolder(const QString& folder);
// The last folder used, else the default folder, else the current directory.
QString lastDialogFolder();
// Where a dialog offering `suggestion` starts: a bare file name ("report.html")
// goes into lastDialogFolder(); a path that names an existing folder is kept.
QString dialogStartPath(const QString& suggestion);

// A configured dialog, not shown yet (tests look at it without a user). The
// caller owns it; rememberDialogFolder() records the chosen folder.
QFileDialog* createFileDialog(QWidget* parent, const QString& caption, const QString& suggestion,
                              const QString& filter, QFileDialog::AcceptMode acceptMode,
                              QFileDialog::FileMode fileMode);
void rememberDialogFolder(const QString& chosenPath);

// Modal dialogs, as QFileDialog's static functions; empty when cancelled.
// selectedFilter, when given, receives the filter the user picked (to add its extension).
QString saveFileName(QWidget* parent, const QString& caption, const QString& suggestion, const QString& filter,
                     QString* selectedFilter = nullptr);
QString openFileName(QWidget* parent, const QString& caption, const QString& suggestion, const QString& filter);
QString existingDirectory(QWidget* parent, const QString& caption, const QString& suggestion);

} // namespace distillery::gui
