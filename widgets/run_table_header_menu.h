#pragma once
// The run table header's right-click menu: which columns show (the fixed
// ones, and any config key or summary figure added as a column) and what a
// group row shows (best, mean ± std, mean, min, max). The View menu shows
// the same menu.
#include <QList>
#include <QObject>

#include <string>
#include <vector>

class QMenu;
class QPoint;

namespace distillery::gui {

class RunBrowser;

class RunTableHeaderMenu : public QObject {
  Q_OBJECT
public:
  explicit RunTableHeaderMenu(RunBrowser* browser);

  // Fixed column (RunTableModel::Column) or added column.
  void setColumnVisible(int column, bool visible);
  bool isColumnVisible(int column) const;
  // Shows a config key ("optim.lr") or summary key ("summary.test_accuracy")
  // as a column, adding it to the model first; hiding keeps it in the model.
  void setKeyVisible(const std::string& key, bool visible);
  // Scrolls the table to a column: one the user adds goes at the right end,
  // often past the viewport. (Restoring a saved layout does not scroll.)
  void revealColumn(int column);
  std::vector<std::string> visibleKeys() const; // added columns shown, in column order
  QList<int> hiddenColumns() const;             // fixed columns hidden

  // Fills a menu with the column and group-row choices (checkable actions).
  void fillColumnsMenu(QMenu* menu);
  void fillAggregateMenu(QMenu* menu);

Q_SIGNALS:
  // Columns shown or hidden, or the group rows' aggregate changed.
  void changed();

private:
  void showMenu(const QPoint& at);

  RunBrowser* browser_;
};

} // namespace distillery::gui
