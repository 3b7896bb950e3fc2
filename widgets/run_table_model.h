#pragma once
// The list of runs in the store, newest first, plus what only the live workers
// know: progress, ETA, and metrics between store refreshes. Records come from
// the GUI thread's own store connection.
#include "core/run_observer.h"
#include "core/run_store.h"
#include "widgets/config_labels.h"

#include <QAbstractTableModel>
#include <QString>

#include <cstdint>
#include <map>
#include <vector>

namespace distillery::gui {

class RunTableModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column {
    NameColumn,
    StatusColumn,
    TaskColumn,
    TeacherColumn,
    StudentColumn,
    MethodColumn,
    ProgressColumn,
    BestValAccuracyColumn,
    AgreementColumn,
    WallTimeColumn,
    ColumnCount
  };
  enum Role {
    RunIdRole = Qt::UserRole + 1,
    ProgressFractionRole, // double in [0, 1]; negative when there is no bar to draw
  };

  explicit RunTableModel(distillery::RunStore& store, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // Re-reads the runs. Rows are inserted and removed individually, so
  // selections and the current row survive a refresh.
  void refresh();
  void setProgress(const distillery::RunProgress& progress);
  void addPoints(const std::vector<distillery::MetricPoint>& points);

  int rowOf(int64_t runId) const; // -1 if not listed
  int64_t runIdAt(int row) const;
  const distillery::RunRecord* record(int64_t runId) const;
  QString statusText(int64_t runId) const;

Q_SIGNALS:
  void storeError(const QString& message);

private:
  // Metrics taken from points, for runs whose summary does not have them yet.
  struct LiveMetrics {
    double bestValAccuracy = -1.0;
    double lastValAgreement = -1.0;
  };

  void rebuildIndex();
  void loadMetricsFromStore(int64_t runId);
  QVariant displayData(const distillery::RunRecord& run, int column) const;
  QString progressText(const distillery::RunRecord& run) const;
  double progressFraction(const distillery::RunRecord& run) const;
  double bestValAccuracy(const distillery::RunRecord& run) const;
  double agreement(const distillery::RunRecord& run) const;
  double wallSeconds(const distillery::RunRecord& run) const;
  const ConfigLabels& labels(const distillery::RunRecord& run) const;
  void emitRowChanged(int row, int firstColumn, int lastColumn);

  distillery::RunStore& store_;
  std::vector<distillery::RunRecord> rows_;
  std::map<int64_t, int> rowById_;
  std::map<int64_t, distillery::RunProgress> progress_;
  std::map<int64_t, LiveMetrics> metrics_;
  mutable std::map<int64_t, ConfigLabels> labels_; // configs never change
};

// "0:42", "12:05", "1:02:03"; empty for negative values.
QString formatDuration(double seconds);

} // namespace distillery::gui
