#pragma once
// One row of figures per compared run (core/analysis/run_summary_table.h): accuracy
// kept, agreement and KL with the teacher, size and compression against the
// teacher, and cost (wall time, throughput, training FLOPs, teacher queries).
// A click on a header sorts by the figures (not their text; missing last);
// exports follow the order shown.
#include "core/analysis/run_summary_table.h"

#include <QWidget>

#include <cstdint>
#include <vector>

class QSortFilterProxyModel;
class QTableView;

namespace distillery {
class RunStore;
}

namespace distillery::gui {

class TableDataModel;
class TableExportBar;

class SummaryTableView : public QWidget {
  Q_OBJECT
public:
  explicit SummaryTableView(distillery::RunStore& store, QWidget* parent = nullptr);

  void setRuns(const std::vector<int64_t>& runIds);
  // What the view shows, in its current sort order.
  distillery::TableData table() const;
  QSortFilterProxyModel* sortModel() const { return sort_; }
  const std::vector<distillery::RunSummaryRow>& rows() const { return rows_; }
  QTableView* view() const { return view_; }
  TableExportBar* exportBar() const { return bar_; }

private:
  distillery::RunStore& store_;
  std::vector<distillery::RunSummaryRow> rows_;
  QTableView* view_;
  TableDataModel* model_;
  QSortFilterProxyModel* sort_;
  TableExportBar* bar_;
};

} // namespace distillery::gui
