#include "widgets/table_data_model.h"

#include <QBrush>
#include <QFont>

namespace distillery::gui {

TableDataModel::TableDataModel(QObject* parent) : QAbstractTableModel(parent) {}

void TableDataModel::setTable(distillery::TableData table, std::vector<QColor> rowColors,
                              std::vector<QColor> columnColors, std::vector<bool> rowsMarked) {
  beginResetModel();
  table_ = std::move(table);
  rowColors_ = std::move(rowColors);
  columnColors_ = std::move(columnColors);
  marked_ = std::move(rowsMarked);
  sortValues_.clear();
  endResetModel();
}

void TableDataModel::setSortValues(std::vector<std::vector<QVariant>> values) {
  sortValues_ = std::move(values);
  if (rowCount() > 0) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1), {SortRole});
}

int TableDataModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(table_.rows.size());
}

int TableDataModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(table_.headers.size());
}

QVariant TableDataModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const size_t r = size_t(index.row()), c = size_t(index.column());
  if (r >= table_.rows.size() || c >= table_.rows[r].size()) return {};
  const bool marked = r < marked_.size() && marked_[r];
  switch (role) {
    case Qt::DisplayRole:
    case Qt::ToolTipRole: return QString::fromStdString(table_.rows[r][c]);
    case SortRole:
      if (r < sortValues_.size() && c < sortValues_[r].size()) return sortValues_[r][c];
      return QString::fromStdString(table_.rows[r][c]).toLower();
    case Qt::DecorationRole:
      if (c == 0 && r < rowColors_.size() && rowColors_[r].isValid()) return rowColors_[r];
      break;
    case Qt::TextAlignmentRole:
      if (c < table_.numeric.size() && table_.numeric[c]) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
    case Qt::FontRole:
      if (marked) {
        QFont f;
        f.setBold(true);
        return f;
      }
      break;
    case Qt::BackgroundRole:
      if (marked) return QBrush(QColor(255, 200, 60, 60));
      break;
  }
  return {};
}

QVariant TableDataModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || section < 0 || size_t(section) >= table_.headers.size()) return {};
  if (role == Qt::DisplayRole) return QString::fromStdString(table_.headers[size_t(section)]);
  if (role == Qt::DecorationRole && size_t(section) < columnColors_.size() && columnColors_[size_t(section)].isValid())
    return columnColors_[size_t(section)];
  return {};
}

} // namespace distillery::gui
