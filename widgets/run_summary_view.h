#pragma once
// A run's record and its summary JSON (final accuracies, agreement, KL, sizes,
// wall time, whatever the engine wrote) as a key/value tree.
#include "core/store/run_store.h"

#include <QTreeWidget>

namespace distillery::gui {

class RunSummaryView : public QTreeWidget {
  Q_OBJECT
public:
  explicit RunSummaryView(QWidget* parent = nullptr);

  // latestPointWallS: the wall_s of the run's latest point, for a run without
  // a summary yet (runWallSeconds in run_table_model.h).
  void showRun(const distillery::RunRecord& run, double latestPointWallS = -1.0);
  void showNothing(const QString& hint);
  // Live update of the shown run's wall time while it trains.
  void setLatestPointWallSeconds(double seconds);

  // Wide enough for a short key and a whole timestamp or figure as its value,
  // so a splitter on a small screen (1024 px) cannot squeeze the values away.
  QSize minimumSizeHint() const override;

protected:
  // The viewport narrows when the vertical scroll bar appears, without a resize of the view.
  bool viewportEvent(QEvent* event) override;

private:
  void fitKeyColumn();
  int valueMinimum() const; // the Value column's least width

  QTreeWidgetItem* record_ = nullptr;   // the "Run #N" section
  QTreeWidgetItem* wallTime_ = nullptr; // its "wall time" row, once known
  distillery::RunRecord shown_;
};

// Number formatting for summary values: integers with digit grouping, others
// with four significant digits.
QString formatSummaryValue(const nlohmann::json& value);

} // namespace distillery::gui
