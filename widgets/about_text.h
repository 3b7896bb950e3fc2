#pragma once
// What Help ▸ About says: the app, a line on what it does, the versions of the
// app, LibTorch, Qt and SQLite (the lines `distillery --version` prints, from
// core/base/version.h) and the run store in use.
#include <QString>

namespace distillery::gui {

QString aboutText(const QString& storePath); // rich text for QMessageBox::about

} // namespace distillery::gui
