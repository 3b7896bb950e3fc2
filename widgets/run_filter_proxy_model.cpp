#include "widgets/run_filter_proxy_model.h"

#include "widgets/run_table_model.h"

namespace distillery::gui {

RunFilterProxyModel::RunFilterProxyModel(RunTableModel* runs, QObject* parent)
    : QSortFilterProxyModel(parent), runs_(runs) {
  setSourceModel(runs);
  setSortRole(RunTableModel::SortRole);
  setSortCaseSensitivity(Qt::CaseInsensitive);
  setDynamicSortFilter(true);
}

void RunFilterProxyModel::setFilterText(const QString& text) {
  if (text == text_) return;
  text_ = text;
  filter_ = distillery::RunFilter::parse(text.toStdString());
  // invalidate() re-filters in one layout change; invalidateFilter() would
  // emit one removal per run range, which costs more with 1,000 runs.
  invalidate();
  Q_EMIT filterApplied();
}

QStringList RunFilterProxyModel::unknownFields() const {
  std::vector<const distillery::RunFilterSubject*> subjects;
  for (int row = 0; row < runs_->rowCount(); ++row) subjects.push_back(&runs_->filterSubject(runs_->runIdAt(row)));
  QStringList out;
  for (const std::string& field : filter_.unknownFields(subjects)) out << QString::fromStdString(field);
  return out;
}

QStringList RunFilterProxyModel::errors() const {
  QStringList out;
  for (const std::string& error : filter_.errors()) out << QString::fromStdString(error);
  return out;
}

bool RunFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  if (sourceParent.isValid()) return false;
  if (filter_.empty()) return true;
  return filter_.matches(runs_->filterSubject(runs_->runIdAt(sourceRow)));
}

bool RunFilterProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const QVariant l = left.data(sortRole()), r = right.data(sortRole());
  // Runs without a value (no accuracy yet) stay at the bottom in both orders.
  if (!l.isValid() || !r.isValid()) {
    if (l.isValid() == r.isValid()) return left.row() < right.row();
    return l.isValid() == (sortOrder() == Qt::AscendingOrder);
  }
  const QPartialOrdering order = QVariant::compare(l, r);
  if (order == QPartialOrdering::Less) return true;
  if (order == QPartialOrdering::Greater) return false;
  // Ties: newest first, like the unsorted table.
  return runs_->runIdAt(left.row()) > runs_->runIdAt(right.row());
}

} // namespace distillery::gui
