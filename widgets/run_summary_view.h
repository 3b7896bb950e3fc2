#pragma once
// A run's record and its summary JSON (final accuracies, agreement, KL, sizes,
// wall time, whatever the engine wrote) as a key/value tree.
#include "core/run_store.h"

#include <QTreeWidget>

namespace distillery::gui {

class RunSummaryView : public QTreeWidget {
  Q_OBJECT
public:
  explicit RunSummaryView(QWidget* parent = nullptr);

  void showRun(const distillery::RunRecord& run);
  void showNothing(const QString& hint);
};

// Number formatting for summary values: integers with digit grouping, others
// with four significant digits.
QString formatSummaryValue(const nlohmann::json& value);

} // namespace distillery::gui
