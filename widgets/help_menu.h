#pragma once
// The Help menu: About (version, store, Qt), the keyboard shortcuts of every
// action the window has (read from the actions, so the list never goes
// stale), and where the documentation is on this machine.
#include <QString>

class QMainWindow;
class QMenu;

namespace distillery::gui {

QMenu* addHelpMenu(QMainWindow* window, const QString& storePath);
// "Ctrl+N  New Run…" lines, one per action with a shortcut, sorted by menu text.
QString shortcutList(const QMainWindow* window);
// The folder holding README.md and docs/ (searched beside and above the
// program, then share/doc/distillery); empty when none is found.
QString documentationFolder();

} // namespace distillery::gui
