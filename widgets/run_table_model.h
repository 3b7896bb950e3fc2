#pragma once
// The list of runs in the store, newest first, plus what only the live workers
// know: progress, ETA, and metrics between store refreshes. Records come from
// the GUI thread's own store connection. Name, tags, notes and the star are
// edited in place and written to the store at once.
#include "core/analysis/run_filter.h"
#include "core/store/run_observer.h"
#include "core/store/run_store.h"
#include "widgets/config_labels.h"
#include "widgets/slurm_poll_worker.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>

#include <cstdint>
#include <map>
#include <set>
#include <string>
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
    TagsColumn,
    NotesColumn,
    CreatedColumn,
    StarColumn, // shown first; kept last here so the other columns keep their numbers
    ColumnCount
  };
  enum Role {
    RunIdRole = Qt::UserRole + 1,
    ProgressFractionRole, // double in [0, 1]; negative when there is no bar to draw
    SortRole,             // numbers for numeric columns, so 9% sorts below 10%; invalid when missing
    DivergedRole,         // bool: the run saw a NaN/Inf loss or metric
  };

  explicit RunTableModel(distillery::RunStore& store, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  // Name, tags ("a, b"), notes and star (EditRole, bool); persisted at once.
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  // Re-reads the runs. Rows are inserted and removed individually, so
  // selections and the current row survive a refresh.
  void refresh();
  // Refreshes when another connection (a CLI run, a worker) committed to the
  // store since the last refresh. A timer calls it every second, so runs
  // started elsewhere show up without Refresh.
  void refreshIfStoreChanged();
  void setProgress(const distillery::RunProgress& progress);
  void addPoints(const std::vector<distillery::MetricPoint>& points);
  // A run another process writes (RunFollower) had points deleted (a resume):
  // its figures come from `points`, all of its points now.
  void replaceMetrics(int64_t runId, const std::vector<distillery::MetricPoint>& points);
  // The state of each run's Slurm job while it is out (ExternalRunController):
  // the Status column reads "queued in Slurm (job 12)" or "running on 4 ranks (job 12)".
  void setSlurmStates(const SlurmStates& states);
  // How many ranks the run trains on (its config's distributed.world_size; 1 for most runs).
  int ranks(int64_t runId) const;

  int rowOf(int64_t runId) const; // -1 if not listed
  int64_t runIdAt(int row) const;
  const distillery::RunRecord* record(int64_t runId) const;
  QString statusText(int64_t runId) const;
  bool isDiverged(int64_t runId) const;
  // The run's wall time as the Wall time column has it (runWallSeconds); -1 when unknown.
  double wallSeconds(int64_t runId) const;

  // Annotations, written to the store first; false (and storeError) on failure.
  bool setStarred(int64_t runId, bool starred);
  bool setTags(int64_t runId, const std::vector<std::string>& tags);
  bool setNotes(int64_t runId, const QString& notes);
  bool renameRun(int64_t runId, const QString& name);
  // Removes the runs with their points, logs and artifacts; none (and storeError) while any is
  // queued or running. Returns how many were deleted.
  int deleteRuns(const QList<int64_t>& runIds);

  // What the filter box and group-by look at; built once per run and kept
  // until the run's record changes.
  const distillery::RunFilterSubject& filterSubject(int64_t runId) const;
  // A field of the run (config key, summary key or run field) as shown in a
  // group header; empty when the run lacks it.
  QString fieldValue(int64_t runId, const std::string& key) const;
  // Keys worth grouping by: a few fixed ones, then every config key whose
  // value differs between runs.
  std::vector<std::string> groupableKeys() const;
  // How a group's value reads in its header: a sweep by its name and id
  // ("lr-grid (#3)"), any other value as it is.
  QString groupLabel(const std::string& key, const QString& value) const;

  // Columns the user added after the fixed ones: a config key
  // ("method.temperature") or a summary figure ("summary.test_accuracy"),
  // shown as fieldValue(). Columns are only appended (a view hides the ones
  // it no longer wants), so selections and groups below stay valid.
  void addExtraColumn(const std::string& key);
  const std::vector<std::string>& extraColumns() const { return extra_; }
  // The key of an extra column, "" for a fixed column.
  std::string extraColumnKey(int column) const;
  int extraColumnOf(const std::string& key) const; // -1 if not added
  // Keys worth offering as columns: every config key, then every summary key.
  std::vector<std::string> columnableKeys() const;
  // Fixed columns whose SortRole is a number (figures a group can aggregate).
  static bool isNumericColumn(int column);

Q_SIGNALS:
  void storeError(const QString& message);
  // A listed run's record changed (status, summary, annotations), after a
  // refresh or an edit; views showing it re-read it.
  void runUpdated(qint64 runId);
  // Its name changed: legends, summaries and compared runs show the new one.
  void runRenamed(qint64 runId);

private:
  // Metrics taken from points, for runs whose summary does not have them yet.
  struct LiveMetrics {
    double bestValAccuracy = -1.0;
    double lastValAgreement = -1.0;
    double wallS = -1.0; // training wall time of the latest point (see wallSeconds)
  };

  void rebuildIndex();
  void loadMetricsFromStore(int64_t runId);
  QVariant displayData(const distillery::RunRecord& run, int column) const;
  QString progressText(const distillery::RunRecord& run) const;
  // "running on 2 ranks", "queued in Slurm (job 12)", else the stored status.
  QString statusDisplay(const distillery::RunRecord& run) const;
  QString slurmTip(const distillery::RunRecord& run) const;
  int ranks(const distillery::RunRecord& run) const;
  double progressFraction(const distillery::RunRecord& run) const;
  double bestValAccuracy(const distillery::RunRecord& run) const;
  double agreement(const distillery::RunRecord& run) const;
  double wallSeconds(const distillery::RunRecord& run) const;
  const ConfigLabels& labels(const distillery::RunRecord& run) const;
  void emitRowChanged(int row, int firstColumn, int lastColumn);
  QVariant sortData(const distillery::RunRecord& run, int column) const;
  QVariant extraData(const distillery::RunRecord& run, int column, int role) const;
  // Re-reads one run after an edit, so the row shows what the store holds.
  void reloadRun(int64_t runId);

  distillery::RunStore& store_;
  std::vector<distillery::RunRecord> rows_;
  std::map<int64_t, int> rowById_;
  std::map<int64_t, distillery::RunProgress> progress_;
  std::map<int64_t, std::string> sweepNames_;
  std::map<int64_t, LiveMetrics> metrics_;
  mutable std::map<int64_t, ConfigLabels> labels_; // configs never change
  mutable std::map<int64_t, int> ranks_;           // distributed.world_size, from the config
  SlurmStates slurmStates_;
  mutable std::map<int64_t, distillery::RunFilterSubject> subjects_;
  std::set<int64_t> diverged_; // NaN/Inf seen in live or stored points
  std::vector<std::string> extra_; // extra column keys, in column order after ColumnCount
  int64_t seenDataVersion_ = -1; // the store's data_version at the last refresh
};

// "0:42", "12:05", "1:02:03"; empty for negative values.
QString formatDuration(double seconds);
// A run's wall time as the table, the details and the log show it: "0.8 s"
// under a minute (the summary's wall_s to a tenth), else as formatDuration.
QString formatWallTime(double seconds);
// A run's wall time (docs: README "Wall time"): the training time of its own
// model summed over resumes, the summary's wall_s once it has one, else the
// wall_s of its latest metric point (live); negative when unknown.
double runWallSeconds(const distillery::RunRecord& run, double latestPointWallS);

} // namespace distillery::gui
