#pragma once
// A read-only Qt model over a TableData (core/export/table_data.h), the form every
// exported table takes, so the screen shows exactly what Markdown and LaTeX get.
#include "core/export/table_data.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QVariant>

#include <vector>

namespace distillery::gui {

class TableDataModel : public QAbstractTableModel {
  Q_OBJECT
public:
  explicit TableDataModel(QObject* parent = nullptr);

  // rowColors / columnColors: a swatch before the row's first cell or in the
  // column's header (run colours); rowsMarked: rows drawn bold and tinted.
  enum Role { SortRole = Qt::UserRole + 1 }; // the cell's sort key: its number, else its text

  void setTable(distillery::TableData table, std::vector<QColor> rowColors = {},
                std::vector<QColor> columnColors = {}, std::vector<bool> rowsMarked = {});
  // Per row and column, the value to sort by (e.g. 0.8234 for "82.34",
  // 1.2e6 for "1.2M"); an invalid QVariant for a missing figure. Without
  // them, cells sort by their text.
  void setSortValues(std::vector<std::vector<QVariant>> values);
  const distillery::TableData& table() const { return table_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  distillery::TableData table_;
  std::vector<QColor> rowColors_, columnColors_;
  std::vector<bool> marked_;
  std::vector<std::vector<QVariant>> sortValues_;
};

} // namespace distillery::gui
