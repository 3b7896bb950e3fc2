#pragma once
// Sorts and filters the run table: the filter box text is parsed by
// core/analysis/run_filter.h and matched against each run's cached filter subject;
// numeric columns sort as numbers, missing values last in either order.
#include "core/analysis/run_filter.h"

#include <QSortFilterProxyModel>
#include <QStringList>

namespace distillery::gui {

class RunTableModel;

class RunFilterProxyModel : public QSortFilterProxyModel {
  Q_OBJECT
public:
  explicit RunFilterProxyModel(RunTableModel* runs, QObject* parent = nullptr);

  void setFilterText(const QString& text);
  QString filterText() const { return text_; }
  // Fields of the filter that no run has (likely typos), for a hint under the box.
  QStringList unknownFields() const;
  // What is malformed in the filter text (acc>abc); those terms are left out.
  QStringList errors() const;
  RunTableModel* runModel() const { return runs_; }

Q_SIGNALS:
  void filterApplied();

protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
  RunTableModel* runs_;
  QString text_;
  distillery::RunFilter filter_;
};

} // namespace distillery::gui
