#pragma once
// The main window's View menu: the run table's columns, grouping and group
// rows (the same choices as the header's right-click menu), and the compare
// charts' smoothing. Submenus are filled when they open, so they always show
// the current state and the keys the runs have now.
class QMenu;
class QMenuBar;

namespace distillery::gui {

class CompareView;
class RunBrowser;

QMenu* addViewMenu(QMenuBar* bar, RunBrowser* browser, CompareView* compare);

} // namespace distillery::gui
