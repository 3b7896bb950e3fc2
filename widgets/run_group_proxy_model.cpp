#include "widgets/run_group_proxy_model.h"

#include "widgets/run_table_model.h"

#include <QApplication>
#include <QBrush>
#include <QFont>
#include <QPalette>

#include <algorithm>
#include <map>
#include <optional>

namespace distillery::gui {

namespace {

constexpr quintptr kTopLevel = 0;

std::optional<double> asNumber(const QString& text) {
  bool ok = false;
  const double v = text.toDouble(&ok);
  return ok ? std::optional<double>(v) : std::nullopt;
}

// Numbers in numeric order ("2" before "10"), then text; "(none)" last.
bool groupValueLess(const QString& a, const QString& b) {
  if (a.isEmpty() != b.isEmpty()) return b.isEmpty();
  const auto x = asNumber(a), y = asNumber(b);
  if (x && y) return *x < *y;
  if (x.has_value() != y.has_value()) return x.has_value();
  return QString::compare(a, b, Qt::CaseInsensitive) < 0;
}

} // namespace

RunGroupProxyModel::RunGroupProxyModel(RunTableModel* runs, QObject* parent)
    : QAbstractProxyModel(parent), runs_(runs) {}

void RunGroupProxyModel::setSourceModel(QAbstractItemModel* source) {
  beginResetModel();
  for (const auto& c : connections_) disconnect(c);
  connections_.clear();
  QAbstractProxyModel::setSourceModel(source);
  if (source) {
    connections_ << connect(source, &QAbstractItemModel::dataChanged, this, &RunGroupProxyModel::sourceDataChanged);
    connections_ << connect(source, &QAbstractItemModel::headerDataChanged, this, &QAbstractItemModel::headerDataChanged);
    connections_ << connect(source, &QAbstractItemModel::layoutAboutToBeChanged, this, [this] { beginLayout(); });
    connections_ << connect(source, &QAbstractItemModel::layoutChanged, this, [this] { endLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] { beginLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsInserted, this, [this] { endLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsAboutToBeRemoved, this, [this] { beginLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsRemoved, this, [this] { endLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsAboutToBeMoved, this, [this] { beginLayout(); });
    connections_ << connect(source, &QAbstractItemModel::rowsMoved, this, [this] { endLayout(); });
    // Added columns (run_table_model.h) are appended at the top level only.
    connections_ << connect(source, &QAbstractItemModel::columnsAboutToBeInserted, this,
                            [this](const QModelIndex& parent, int first, int last) {
                              if (!parent.isValid()) beginInsertColumns({}, first, last);
                            });
    connections_ << connect(source, &QAbstractItemModel::columnsInserted, this,
                            [this](const QModelIndex& parent) {
                              if (!parent.isValid()) endInsertColumns();
                            });
    connections_ << connect(source, &QAbstractItemModel::modelAboutToBeReset, this, [this] { beginResetModel(); });
    connections_ << connect(source, &QAbstractItemModel::modelReset, this, [this] {
      rebuild();
      endResetModel();
    });
  }
  rebuild();
  endResetModel();
}

void RunGroupProxyModel::setGroupKey(const std::string& key) {
  if (key == key_) return;
  // A different shape altogether: a reset is honest here (the view re-expands).
  beginResetModel();
  key_ = key;
  rebuild();
  endResetModel();
}

void RunGroupProxyModel::setAggregate(distillery::GroupAggregate aggregate) {
  if (aggregate == aggregate_) return;
  aggregate_ = aggregate;
  if (isGrouped() && !groups_.empty())
    Q_EMIT dataChanged(index(0, 0), index(int(groups_.size()) - 1, columnCount() - 1));
}

std::optional<distillery::GroupStatistics> RunGroupProxyModel::groupStatistics(int group, int column) const {
  if (!sourceModel() || group < 0 || group >= int(groups_.size())) return std::nullopt;
  std::vector<double> values;
  for (int row : groups_[size_t(group)].rows) {
    const QVariant v = sourceModel()->index(row, column).data(RunTableModel::SortRole);
    // Numbers only: a text column (or a text value in an added column) has no statistics.
    if (v.isValid() && v.typeId() == QMetaType::Double) values.push_back(v.toDouble());
  }
  return distillery::groupStatistics(values);
}

QString RunGroupProxyModel::valueOfSourceRow(int row) const {
  const int64_t id = sourceModel()->index(row, 0).data(RunTableModel::RunIdRole).toLongLong();
  return runs_->fieldValue(id, key_);
}

void RunGroupProxyModel::rebuild() {
  groups_.clear();
  where_.clear();
  if (!sourceModel() || key_.empty()) return;
  const int n = sourceModel()->rowCount();
  std::map<QString, std::vector<int>> byValue;
  for (int row = 0; row < n; ++row) byValue[valueOfSourceRow(row)].push_back(row);
  for (auto& [value, rows] : byValue) groups_.push_back(Group{value, std::move(rows)});
  std::stable_sort(groups_.begin(), groups_.end(),
                   [](const Group& a, const Group& b) { return groupValueLess(a.value, b.value); });
  where_.assign(size_t(n), {-1, -1});
  for (size_t g = 0; g < groups_.size(); ++g)
    for (size_t i = 0; i < groups_[g].rows.size(); ++i) where_[size_t(groups_[g].rows[i])] = {int(g), int(i)};
}

void RunGroupProxyModel::beginLayout() {
  if (inLayout_) return;
  inLayout_ = true;
  Q_EMIT layoutAboutToBeChanged();
  saved_.clear();
  for (const QModelIndex& p : persistentIndexList()) {
    Saved s;
    s.proxy = p;
    s.isGroup = isGroup(p);
    if (s.isGroup) s.group = groups_[size_t(p.row())].value;
    else s.source = QPersistentModelIndex(mapToSource(p));
    saved_.push_back(s);
  }
}

void RunGroupProxyModel::endLayout() {
  if (!inLayout_) return;
  rebuild();
  QModelIndexList from, to;
  for (const Saved& s : saved_) {
    QModelIndex now;
    if (s.isGroup) {
      for (size_t g = 0; g < groups_.size(); ++g)
        if (groups_[g].value == s.group) now = index(int(g), s.proxy.column());
    } else if (s.source.isValid()) {
      now = mapFromSource(s.source);
    }
    from << s.proxy;
    to << now;
  }
  saved_.clear();
  changePersistentIndexList(from, to);
  inLayout_ = false;
  Q_EMIT layoutChanged();
}

void RunGroupProxyModel::sourceDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight,
                                           const QList<int>& roles) {
  if (!topLeft.isValid() || !bottomRight.isValid()) return;
  if (!isGrouped()) {
    Q_EMIT dataChanged(mapFromSource(topLeft), mapFromSource(bottomRight), roles);
    return;
  }
  // A run whose group value changed (grouped by status, say) moves.
  for (int row = topLeft.row(); row <= bottomRight.row(); ++row) {
    if (row >= int(where_.size()) || where_[size_t(row)].first < 0) return;
    if (groups_[size_t(where_[size_t(row)].first)].value != valueOfSourceRow(row)) {
      beginLayout();
      endLayout();
      return;
    }
  }
  // One signal per touched group (its changed span, and its header's figures).
  std::map<int, std::pair<int, int>> spans;
  for (int row = topLeft.row(); row <= bottomRight.row(); ++row) {
    const auto [g, pos] = where_[size_t(row)];
    auto it = spans.find(g);
    if (it == spans.end()) spans[g] = {pos, pos};
    else it->second = {std::min(it->second.first, pos), std::max(it->second.second, pos)};
  }
  const int lastColumn = columnCount() - 1;
  for (const auto& [g, span] : spans) {
    const QModelIndex group = index(g, 0);
    Q_EMIT dataChanged(index(span.first, topLeft.column(), group), index(span.second, bottomRight.column(), group), roles);
    Q_EMIT dataChanged(group, index(g, lastColumn));
  }
}

bool RunGroupProxyModel::isGroup(const QModelIndex& index) const {
  return isGrouped() && index.isValid() && index.model() == this && index.internalId() == kTopLevel &&
         index.row() < int(groups_.size());
}

QList<int64_t> RunGroupProxyModel::runIds(const QModelIndex& index) const {
  QList<int64_t> ids;
  if (!index.isValid()) return ids;
  if (isGroup(index)) {
    for (int row : groups_[size_t(index.row())].rows)
      ids << sourceModel()->index(row, 0).data(RunTableModel::RunIdRole).toLongLong();
    return ids;
  }
  const QModelIndex source = mapToSource(index);
  if (source.isValid()) ids << source.data(RunTableModel::RunIdRole).toLongLong();
  return ids;
}

QString RunGroupProxyModel::groupValue(int group) const {
  return group >= 0 && group < int(groups_.size()) ? groups_[size_t(group)].value : QString();
}

QModelIndex RunGroupProxyModel::index(int row, int column, const QModelIndex& parent) const {
  if (row < 0 || column < 0 || column >= columnCount()) return {};
  if (!parent.isValid()) return row < rowCount() ? createIndex(row, column, kTopLevel) : QModelIndex();
  if (!isGroup(parent)) return {};
  const Group& g = groups_[size_t(parent.row())];
  if (row >= int(g.rows.size())) return {};
  return createIndex(row, column, quintptr(parent.row()) + 1);
}

QModelIndex RunGroupProxyModel::parent(const QModelIndex& child) const {
  if (!isGrouped() || !child.isValid() || child.internalId() == kTopLevel) return {};
  return createIndex(int(child.internalId() - 1), 0, kTopLevel);
}

int RunGroupProxyModel::rowCount(const QModelIndex& parent) const {
  if (!sourceModel()) return 0;
  if (!parent.isValid()) return isGrouped() ? int(groups_.size()) : sourceModel()->rowCount();
  if (isGroup(parent) && parent.column() == 0) return int(groups_[size_t(parent.row())].rows.size());
  return 0;
}

int RunGroupProxyModel::columnCount(const QModelIndex&) const {
  return sourceModel() ? sourceModel()->columnCount() : 0;
}

bool RunGroupProxyModel::hasChildren(const QModelIndex& parent) const { return rowCount(parent) > 0; }

QModelIndex RunGroupProxyModel::mapToSource(const QModelIndex& proxy) const {
  if (!sourceModel() || !proxy.isValid()) return {};
  if (!isGrouped()) return sourceModel()->index(proxy.row(), proxy.column());
  if (proxy.internalId() == kTopLevel) return {};
  const size_t g = size_t(proxy.internalId() - 1);
  if (g >= groups_.size() || proxy.row() >= int(groups_[g].rows.size())) return {};
  return sourceModel()->index(groups_[g].rows[size_t(proxy.row())], proxy.column());
}

QModelIndex RunGroupProxyModel::mapFromSource(const QModelIndex& source) const {
  if (!sourceModel() || !source.isValid()) return {};
  if (!isGrouped()) return index(source.row(), source.column());
  if (source.row() >= int(where_.size())) return {};
  const auto [g, pos] = where_[size_t(source.row())];
  if (g < 0) return {};
  return createIndex(pos, source.column(), quintptr(g) + 1);
}

QVariant RunGroupProxyModel::groupData(const Group& group, int column, int role) const {
  switch (role) {
    case Qt::DisplayRole:
      if (column == RunTableModel::NameColumn) {
        const QString value = group.value.isEmpty() ? tr("(none)") : runs_->groupLabel(key_, group.value);
        const int n = int(group.rows.size());
        return QStringLiteral("%1 = %2  ·  %3").arg(QString::fromStdString(key_), value,
                                                     n == 1 ? tr("1 run") : tr("%1 runs").arg(n));
      }
      return aggregateText(group, column);
    case Qt::FontRole: {
      QFont font = QApplication::font();
      font.setBold(true);
      return font;
    }
    case Qt::BackgroundRole: return QApplication::palette().brush(QPalette::Button);
    case Qt::TextAlignmentRole:
      if (column != RunTableModel::NameColumn) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case Qt::ToolTipRole: {
      QString tip = tr("Runs whose %1 is %2; select the row to select them all")
                        .arg(QString::fromStdString(key_), group.value.isEmpty() ? tr("missing") : group.value);
      if (column != RunTableModel::NameColumn) {
        const auto stats = groupStatistics(groupIndex(group), column);
        if (stats)
          tip += tr("\n%1 of %2 runs have a value: mean %3, std %4 (sample, n-1), min %5, max %6")
                     .arg(stats->count)
                     .arg(group.rows.size())
                     .arg(stats->mean, 0, 'g', 6)
                     .arg(stats->std, 0, 'g', 6)
                     .arg(stats->min, 0, 'g', 6)
                     .arg(stats->max, 0, 'g', 6);
      }
      return tip;
    }
  }
  return {};
}

int RunGroupProxyModel::groupIndex(const Group& group) const { return int(&group - groups_.data()); }

QString RunGroupProxyModel::formatFigure(int column, double value) const {
  if (column == RunTableModel::BestValAccuracyColumn || column == RunTableModel::AgreementColumn)
    return QString::number(value * 100.0, 'f', 1);
  if (column == RunTableModel::WallTimeColumn) return formatDuration(value);
  return QString::number(value, 'g', 4);
}

QString RunGroupProxyModel::aggregateText(const Group& group, int column) const {
  using distillery::GroupAggregate;
  const bool percent = column == RunTableModel::BestValAccuracyColumn || column == RunTableModel::AgreementColumn;
  if (column == RunTableModel::NameColumn) return {};
  if (column < RunTableModel::ColumnCount && !RunTableModel::isNumericColumn(column)) return {};
  // "Best" is the higher accuracy or agreement; other columns have no best.
  if (aggregate_ == GroupAggregate::Best && !percent) return {};
  const auto stats = groupStatistics(groupIndex(group), column);
  if (!stats) return {};
  const QString unit = percent ? QStringLiteral("%") : QString();
  switch (aggregate_) {
    case GroupAggregate::Best: return tr("best %1%2").arg(formatFigure(column, stats->max), unit);
    case GroupAggregate::MeanStd:
      if (stats->count < 2) return formatFigure(column, stats->mean) + unit; // no spread from one run
      return QStringLiteral("%1 \u00b1 %2%3").arg(formatFigure(column, stats->mean), formatFigure(column, stats->std), unit);
    case GroupAggregate::Mean: return tr("mean %1%2").arg(formatFigure(column, stats->mean), unit);
    case GroupAggregate::Min: return tr("min %1%2").arg(formatFigure(column, stats->min), unit);
    case GroupAggregate::Max: return tr("max %1%2").arg(formatFigure(column, stats->max), unit);
  }
  return {};
}

QVariant RunGroupProxyModel::data(const QModelIndex& index, int role) const {
  if (isGroup(index)) return groupData(groups_[size_t(index.row())], index.column(), role);
  return QAbstractProxyModel::data(index, role);
}

QVariant RunGroupProxyModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (!sourceModel() || orientation != Qt::Horizontal) return {};
  return sourceModel()->headerData(section, orientation, role);
}

Qt::ItemFlags RunGroupProxyModel::flags(const QModelIndex& index) const {
  if (isGroup(index)) return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  return QAbstractProxyModel::flags(index);
}

void RunGroupProxyModel::sort(int column, Qt::SortOrder order) {
  if (sourceModel()) sourceModel()->sort(column, order);
}

} // namespace distillery::gui
