#pragma once
// The run table as the user works with it: a filter box (core/analysis/run_filter.h
// syntax), a group-by combo and a tree of runs, sortable on every column.
// Stack: RunTableModel -> RunFilterProxyModel (filter, sort) ->
// RunGroupProxyModel (group rows) -> QTreeView. Names, tags and notes are
// edited in place; a click on the star column stars a run.
#include <QList>
#include <QString>
#include <QWidget>

#include <cstdint>
#include <map>
#include <set>
#include <string>

class QComboBox;
class QLabel;
class QLineEdit;
class QModelIndex;
class QTimer;
class QTreeView;

namespace distillery::gui {

class RunFilterProxyModel;
class RunGroupProxyModel;
class RunTableHeaderMenu;
class RunTableModel;

class RunBrowser : public QWidget {
  Q_OBJECT
public:
  explicit RunBrowser(RunTableModel* runs, QWidget* parent = nullptr);

  QTreeView* tree() const { return tree_; }
  QLineEdit* filterEdit() const { return filterEdit_; }
  QComboBox* groupCombo() const { return groupCombo_; }
  RunFilterProxyModel* filterModel() const { return filter_; }
  RunGroupProxyModel* groupModel() const { return group_; }
  // Right-click on the header: columns shown and what group rows show.
  RunTableHeaderMenu* headerMenu() const { return headerMenu_; }

  // Applies at once (typing in the box applies after a short pause).
  void setFilterText(const QString& text);
  // Puts the cursor in the filter box with its text selected (Ctrl+F).
  void focusFilter();
  // "" for no grouping; keys not in the combo are added to it.
  void setGroupKey(const std::string& key);

  // Selected runs, sorted; a selected group header stands for all its runs.
  QList<int64_t> selectedRunIds() const;
  // The run of the current row when it is selected, else the first selected run.
  int64_t currentRunId() const;
  void selectRun(int64_t runId);
  void selectRuns(const QList<int64_t>& runIds);
  int visibleRunCount() const;

Q_SIGNALS:
  void selectionChanged();
  void currentChanged();

protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  void updateHint();
  // Narrows the text columns from their natural widths until every column up
  // to Wall time fits the viewport; on the first rows and on every resize.
  void fitFiguresInView();
  void refreshGroupKeys();
  void expandGroups();
  QModelIndex viewIndexOf(int64_t runId, int column = 0) const;

  RunTableModel* runs_;
  RunFilterProxyModel* filter_;
  RunGroupProxyModel* group_;
  QLineEdit* filterEdit_;
  QComboBox* groupCombo_;
  QLabel* hint_;
  QTreeView* tree_;
  RunTableHeaderMenu* headerMenu_;
  QTimer* filterTimer_;
  QTimer* keysTimer_;
  std::set<QString> collapsed_; // group values the user collapsed
  bool widthsSet_ = false;
  bool fitting_ = false;              // our own resizes, not the user's
  std::map<int, int> naturalWidths_;  // the narrowable columns' widths before fitting: content or the user's
  QTimer* fitTimer_;                  // one fit per burst of resizes
};

} // namespace distillery::gui
