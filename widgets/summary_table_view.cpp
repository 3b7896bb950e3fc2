#include "widgets/summary_table_view.h"

#include "core/base/errors.h"
#include "widgets/run_colors.h"
#include "widgets/table_data_model.h"
#include "widgets/table_export_bar.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace distillery::gui {

namespace {

// Sorts by TableDataModel::SortRole; runs without the figure stay last in
// either order, as in the run table.
class MissingLastSortModel : public QSortFilterProxyModel {
public:
  using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override {
    const QVariant l = left.data(sortRole()), r = right.data(sortRole());
    if (!l.isValid() || !r.isValid()) {
      if (l.isValid() == r.isValid()) return left.row() < right.row();
      return l.isValid() == (sortOrder() == Qt::AscendingOrder);
    }
    return QVariant::compare(l, r) == QPartialOrdering::Less;
  }
};

} // namespace

SummaryTableView::SummaryTableView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  model_ = new TableDataModel(this);
  view_ = new QTableView(this);
  view_->setObjectName(QStringLiteral("summaryTable"));
  sort_ = new MissingLastSortModel(this);
  sort_->setSourceModel(model_);
  sort_->setSortRole(TableDataModel::SortRole);
  view_->setModel(sort_);
  view_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder); // the compare order until a click
  view_->setSortingEnabled(true);
  view_->horizontalHeader()->setSortIndicatorShown(true);
  view_->setAlternatingRowColors(true);
  view_->setWordWrap(false);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  bar_ = new TableExportBar([this] { return table(); }, QStringLiteral("summary"), this);
  bar_->setLatexFitWidth(true); // 14 columns are wider than a page
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(view_, 1);
  layout->addWidget(bar_);
}

void SummaryTableView::setRuns(const std::vector<int64_t>& runIds) {
  try {
    rows_ = distillery::summarizeRuns(store_, runIds);
  } catch (const distillery::DistilleryError&) {
    rows_.clear(); // the store is unreadable; the compare view reports that itself
  }
  // As the compared runs' curves: colours unique within the set.
  const auto colorOf = runColors(QList<int64_t>(runIds.begin(), runIds.end()));
  std::vector<QColor> colors;
  for (const auto& row : rows_) {
    const auto it = colorOf.find(row.run_id);
    colors.push_back(it != colorOf.end() ? it->second : runColor(row.run_id));
  }
  model_->setTable(distillery::summaryTable(rows_), std::move(colors));
  // Sort keys: the run id for the run column, the raw figures for the others
  // (summaryTable(rows) has one column per summaryColumns() entry, in order).
  std::vector<std::vector<QVariant>> keys;
  for (const auto& row : rows_) {
    std::vector<QVariant> cells{QVariant::fromValue<qint64>(row.run_id)};
    for (const distillery::SummaryColumn& column : distillery::summaryColumns()) {
      const auto it = row.values.find(column.key);
      cells.push_back(it == row.values.end() ? QVariant() : QVariant(it->second));
    }
    keys.push_back(std::move(cells));
  }
  model_->setSortValues(std::move(keys));
  sort_->invalidate();
}

distillery::TableData SummaryTableView::table() const {
  distillery::TableData shown = model_->table();
  shown.rows.clear();
  for (int row = 0; row < sort_->rowCount(); ++row)
    shown.rows.push_back(model_->table().rows[size_t(sort_->mapToSource(sort_->index(row, 0)).row())]);
  return shown;
}

} // namespace distillery::gui
