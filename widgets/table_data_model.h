#pragma once
// A read-only Qt model over a TableData (core/table_data.h), the form every
// exported table takes, so the screen shows exactly what Markdown and LaTeX get.
#include "core/table_data.h"

#include <QAbstractTableModel>
#include <QColor>

#include <vector>

namespace distillery::gui {

class TableDataModel : public QAbstractTableModel {
  Q_OBJECT
public:
  explicit TableDataModel(QObject* parent = nullptr);

  // rowColors / columnColors: a swatch before the row's first cell or in the
  // column's header (run colours); rowsMarked: rows drawn bold and tinted.
  void setTable(distillery::TableData table, std::vector<QColor> rowColors = {},
                std::vector<QColor> columnColors = {}, std::vector<bool> rowsMarked = {});
  const distillery::TableData& table() const { return table_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  distillery::TableData table_;
  std::vector<QColor> rowColors_, columnColors_;
  std::vector<bool> marked_;
};

} // namespace distillery::gui
