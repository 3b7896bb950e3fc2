#pragma once
// Groups the (sorted, filtered) runs by the value of one key, e.g.
// "method.name": each group is a header row whose children are its runs, in
// the order of the model below. Without a key the runs stay a flat list.
// Structural changes below are passed on as layout changes, so selections,
// the current row and expanded groups survive filtering, sorting and refreshes.
#include "core/analysis/group_statistics.h"

#include <QAbstractProxyModel>
#include <QList>
#include <QPersistentModelIndex>
#include <QString>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace distillery::gui {

class RunTableModel;

class RunGroupProxyModel : public QAbstractProxyModel {
  Q_OBJECT
public:
  // runs: where group values come from; the source model (set separately)
  // must list runs with RunTableModel::RunIdRole, one per row.
  explicit RunGroupProxyModel(RunTableModel* runs, QObject* parent = nullptr);

  void setSourceModel(QAbstractItemModel* source) override;
  // "" turns grouping off.
  void setGroupKey(const std::string& key);
  const std::string& groupKey() const { return key_; }
  bool isGrouped() const { return !key_.empty(); }
  bool isGroup(const QModelIndex& index) const;
  // The run of a run row, or every run of a group row.
  QList<int64_t> runIds(const QModelIndex& index) const;
  int groupCount() const { return int(groups_.size()); }
  // What a group row shows in its numeric columns (accuracy, agreement, wall
  // time, numeric added columns): the best run's accuracy and agreement
  // (the default), or mean ± std, mean, min or max of every numeric column.
  void setAggregate(distillery::GroupAggregate aggregate);
  distillery::GroupAggregate aggregate() const { return aggregate_; }
  // The statistics behind a group cell; nullopt when no run has a value.
  std::optional<distillery::GroupStatistics> groupStatistics(int group, int column) const;
  QString groupValue(int group) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  bool hasChildren(const QModelIndex& parent = {}) const override;
  QModelIndex mapToSource(const QModelIndex& proxy) const override;
  QModelIndex mapFromSource(const QModelIndex& source) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

private:
  struct Group {
    QString value;
    std::vector<int> rows; // source rows, in source order
  };
  struct Saved {
    QModelIndex proxy;
    QPersistentModelIndex source; // for run rows
    QString group;                // for group rows
    bool isGroup = false;
  };

  void rebuild();
  void beginLayout();
  void endLayout();
  void sourceDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight, const QList<int>& roles);
  QString valueOfSourceRow(int row) const;
  QVariant groupData(const Group& group, int column, int role) const;
  QString aggregateText(const Group& group, int column) const;
  QString formatFigure(int column, double value) const;
  int groupIndex(const Group& group) const;

  RunTableModel* runs_;
  std::string key_;
  distillery::GroupAggregate aggregate_ = distillery::GroupAggregate::Best;
  std::vector<Group> groups_;
  std::vector<std::pair<int, int>> where_; // per source row: (group, position in group)
  std::vector<Saved> saved_;
  bool inLayout_ = false;
  QList<QMetaObject::Connection> connections_;
};

} // namespace distillery::gui
