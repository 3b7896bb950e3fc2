#pragma once
// The configs of the compared runs side by side, one column per run, with
// "only what differs" on by default: the keys that explain why two runs
// differ, without the dozens that are the same.
#include "core/analysis/config_diff.h"
#include "core/store/run_store.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QLabel;
class QTableView;

namespace distillery::gui {

class TableDataModel;
class TableExportBar;

class ConfigDiffView : public QWidget {
  Q_OBJECT
public:
  explicit ConfigDiffView(QWidget* parent = nullptr);

  void setRuns(const std::vector<distillery::RunRecord>& runs);
  void setOnlyDiffering(bool only);
  bool onlyDiffering() const;
  // The table as shown (and exported).
  distillery::TableData table() const;
  int rowCount() const;
  QTableView* view() const { return view_; }
  TableExportBar* exportBar() const { return bar_; }

private:
  void rebuild();

  std::vector<distillery::RunRecord> runs_;
  QCheckBox* only_;
  QLabel* note_;
  QTableView* view_;
  TableDataModel* model_;
  TableExportBar* bar_;
};

} // namespace distillery::gui
