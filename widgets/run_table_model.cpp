#include "widgets/run_table_model.h"

#include "core/store/run_delete.h"

#include "core/analysis/metric_catalog.h"
#include "core/base/errors.h"
#include "widgets/run_colors.h"

#include <QApplication>
#include <QBrush>
#include <QDateTime>
#include <QFont>
#include <QIcon>
#include <QStyle>
#include <QTimer>
#include <QTimeZone>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <set>

namespace distillery::gui {

namespace {

const char* const kValAccuracy = "val_accuracy";
const char* const kValAgreement = "val_agreement";

// The first of the keys that holds a finite number.
std::optional<double> summaryNumber(const nlohmann::json& summary,
                                    std::initializer_list<const char*> keys) {
  if (!summary.is_object()) return std::nullopt;
  for (const char* key : keys) {
    auto it = summary.find(key);
    if (it != summary.end() && it->is_number()) {
      const double v = it->get<double>();
      if (std::isfinite(v)) return v;
    }
  }
  return std::nullopt;
}

// Store timestamps are ISO-8601 UTC, with or without the "T" and zone suffix.
QDateTime parseUtc(const std::string& text) {
  if (text.empty()) return {};
  QString s = QString::fromStdString(text);
  if (s.size() > 10 && s.at(10) == u' ') s[10] = u'T';
  QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
  if (!t.isValid()) t = QDateTime::fromString(s, Qt::ISODate);
  if (t.isValid() && t.timeSpec() == Qt::LocalTime) t.setTimeZone(QTimeZone::utc());
  return t;
}

QString percent(double fraction) { return QString::number(fraction * 100.0, 'f', 1) + u'%'; }

// A summary figure stored as a fraction (shown as a percentage like the built-in columns).
bool isFractionKey(const std::string& key) {
  return key.rfind("summary.", 0) == 0 && distillery::isFractionFigure(key);
}

const QChar kStarOn(0x2605), kStarOff(0x2606); // ★ ☆

QString joinTags(const std::vector<std::string>& tags) {
  QStringList list;
  for (const std::string& tag : tags) list << QString::fromStdString(tag);
  return list.join(QStringLiteral(", "));
}

std::vector<std::string> splitTags(const QString& text) {
  std::vector<std::string> tags;
  for (const QString& part : text.split(u',', Qt::SkipEmptyParts)) {
    const QString tag = part.trimmed();
    if (!tag.isEmpty()) tags.push_back(tag.toStdString());
  }
  return tags;
}

// What a filter or a group header can see of a run changed: its subject is stale.
bool sameVisibleState(const distillery::RunRecord& a, const distillery::RunRecord& b) {
  return a.name == b.name && a.status == b.status && a.tags == b.tags && a.notes == b.notes &&
         a.starred == b.starred && a.error == b.error && a.finished_at == b.finished_at &&
         a.teacher_run_id == b.teacher_run_id && a.sweep_id == b.sweep_id && a.summary == b.summary;
}

} // namespace

QString formatDuration(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) return {};
  const auto total = int64_t(std::llround(seconds));
  const int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0)
    return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QChar(u'0')).arg(s, 2, 10, QChar(u'0'));
  return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QChar(u'0'));
}

QString formatWallTime(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) return {};
  if (seconds < 59.95) return QString::number(seconds, 'f', 1) + QStringLiteral(" s");
  return formatDuration(seconds);
}

double runWallSeconds(const distillery::RunRecord& run, double latestPointWallS) {
  if (auto v = summaryNumber(run.summary, {"wall_s"})) return *v;
  return latestPointWallS;
}

RunTableModel::RunTableModel(distillery::RunStore& store, QObject* parent)
    : QAbstractTableModel(parent), store_(store) {
  auto* watch = new QTimer(this);
  watch->setInterval(1000);
  connect(watch, &QTimer::timeout, this, &RunTableModel::refreshIfStoreChanged);
  watch->start();
}

void RunTableModel::refreshIfStoreChanged() {
  try {
    if (store_.dataVersion() == seenDataVersion_) return;
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return;
  }
  refresh();
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount + int(extra_.size());
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (const std::string key = extraColumnKey(section); !key.empty()) {
    if (role == Qt::DisplayRole) {
      const bool summary = key.rfind("summary.", 0) == 0;
      return QString::fromStdString(summary ? key.substr(8) : key);
    }
    if (role == Qt::ToolTipRole) return tr("%1 (a column you added; right-click the header to remove it)")
                                     .arg(QString::fromStdString(key));
    return {};
  }
  if (role == Qt::DisplayRole) {
    switch (section) {
      case NameColumn: return tr("Name");
      case StatusColumn: return tr("Status");
      case TaskColumn: return tr("Task");
      case TeacherColumn: return tr("Teacher");
      case StudentColumn: return tr("Student / model");
      case MethodColumn: return tr("Method");
      case ProgressColumn: return tr("Progress");
      case BestValAccuracyColumn: return tr("Best val acc");
      case AgreementColumn: return tr("Agreement");
      case WallTimeColumn: return tr("Wall time");
      case TagsColumn: return tr("Tags");
      case NotesColumn: return tr("Notes");
      case CreatedColumn: return tr("Created");
      case StarColumn: return QString(kStarOn);
    }
  }
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case NameColumn: return tr("Run id and name; double-click or F2 to rename");
      case TagsColumn: return tr("Comma-separated tags; double-click or F2 to edit");
      case NotesColumn: return tr("Your notes on the run; double-click or F2 to edit");
      case StarColumn: return tr("Starred runs; click to star or unstar");
      case BestValAccuracyColumn: return tr("Best validation accuracy of the trained model");
      case AgreementColumn:
        return tr("How often the student's top-1 class matches the teacher's");
      case WallTimeColumn:
        return tr("Training time of the run's own model, summed over resumes (the summary's wall_s; "
                  "live: its latest point). A distill run's teacher counts in the teacher's own row");
    }
  }
  return {};
}

const ConfigLabels& RunTableModel::labels(const distillery::RunRecord& run) const {
  auto it = labels_.find(run.id);
  if (it == labels_.end()) it = labels_.emplace(run.id, configLabels(run.config_json)).first;
  return it->second;
}

double RunTableModel::progressFraction(const distillery::RunRecord& run) const {
  switch (run.status) {
    case distillery::RunStatus::Finished: return 1.0;
    case distillery::RunStatus::Queued: return 0.0;
    default: break;
  }
  auto it = progress_.find(run.id);
  return it == progress_.end() ? -1.0 : std::clamp(it->second.fraction, 0.0, 1.0);
}

QString RunTableModel::progressText(const distillery::RunRecord& run) const {
  if (run.status == distillery::RunStatus::Finished) return tr("done");
  if (run.status == distillery::RunStatus::Queued) return tr("waiting");
  auto it = progress_.find(run.id);
  if (run.status != distillery::RunStatus::Running)
    return it == progress_.end() ? QString() : tr("stopped at %1").arg(percent(it->second.fraction));
  if (it == progress_.end()) return tr("running");
  const distillery::RunProgress& p = it->second;
  // While a distill run trains its teacher, its text gives the teacher's own
  // progress, as the teacher's row does; the bar and ETA stay the whole run's.
  double shown = p.fraction;
  if (p.phase == "teacher" && run.teacher_run_id) {
    auto teacher = progress_.find(run.teacher_run_id);
    if (teacher != progress_.end() && teacher->second.phase == "teacher") shown = teacher->second.fraction;
  }
  QString text = percent(shown);
  if (!p.phase.empty()) text = QString::fromStdString(p.phase) + u' ' + text;
  if (p.eta_s >= 0.0) text += tr(" · ETA %1").arg(formatDuration(p.eta_s));
  return text;
}

double RunTableModel::bestValAccuracy(const distillery::RunRecord& run) const {
  if (auto v = summaryNumber(run.summary, {"best_val_accuracy", "val_accuracy"})) return *v;
  auto it = metrics_.find(run.id);
  return it == metrics_.end() ? -1.0 : it->second.bestValAccuracy;
}

double RunTableModel::agreement(const distillery::RunRecord& run) const {
  if (auto v = summaryNumber(run.summary, {"test_agreement", "agreement", "val_agreement"}))
    return *v;
  auto it = metrics_.find(run.id);
  return it == metrics_.end() ? -1.0 : it->second.lastValAgreement;
}

double RunTableModel::wallSeconds(const distillery::RunRecord& run) const {
  // One definition everywhere (runWallSeconds): not started..finished, which
  // would count the time a cancelled run waited before its resume.
  auto it = metrics_.find(run.id);
  return runWallSeconds(run, it == metrics_.end() ? -1.0 : it->second.wallS);
}

double RunTableModel::wallSeconds(int64_t runId) const {
  const distillery::RunRecord* run = record(runId);
  return run ? wallSeconds(*run) : -1.0;
}

int RunTableModel::ranks(const distillery::RunRecord& run) const {
  auto it = ranks_.find(run.id);
  if (it == ranks_.end()) {
    int n = 1;
    const auto config = nlohmann::json::parse(run.config_json, nullptr, false);
    if (config.is_object() && config.contains("distributed") && config["distributed"].is_object())
      n = config["distributed"].value("world_size", 1);
    it = ranks_.emplace(run.id, std::max(1, n)).first;
  }
  return it->second;
}

int RunTableModel::ranks(int64_t runId) const {
  const distillery::RunRecord* run = record(runId);
  return run ? ranks(*run) : 0;
}

QString RunTableModel::statusDisplay(const distillery::RunRecord& run) const {
  const QString stored = QString::fromStdString(distillery::toString(run.status));
  const int n = ranks(run);
  const bool jobOut =
      run.slurm_job_id && (run.status == distillery::RunStatus::Queued || run.status == distillery::RunStatus::Running);
  if (jobOut) {
    // The job writes its own store; here the row stays queued until the job is imported.
    const auto it = slurmStates_.find(run.id);
    const QString job = QString::number(run.slurm_job_id);
    if (it == slurmStates_.end() || !it->second.known()) return tr("%1 (job %2)").arg(stored, job);
    if (it->second.runStatusWord() == "queued") return tr("queued in Slurm (job %1)").arg(job);
    return n > 1 ? tr("running on %1 ranks (job %2)").arg(n).arg(job) : tr("running (job %1)").arg(job);
  }
  if (run.status == distillery::RunStatus::Running && n > 1) return tr("running on %1 ranks").arg(n);
  return stored;
}

QString RunTableModel::slurmTip(const distillery::RunRecord& run) const {
  QString tip = tr("\nSlurm job %1").arg(run.slurm_job_id);
  const auto it = slurmStates_.find(run.id);
  if (it != slurmStates_.end()) {
    if (it->second.known()) tip += QStringLiteral(": ") + QString::fromStdString(it->second.state);
    else tip += tr(": state unknown (%1)").arg(QString::fromStdString(it->second.detail).trimmed());
  }
  if (!run.job_dir.empty()) tip += tr("\njob folder: %1").arg(QString::fromStdString(run.job_dir));
  return tip;
}

void RunTableModel::setSlurmStates(const SlurmStates& states) {
  std::set<int64_t> touched;
  for (const auto& [id, state] : slurmStates_) touched.insert(id);
  for (const auto& [id, state] : states) touched.insert(id);
  slurmStates_ = states;
  for (int64_t id : touched)
    if (const int row = rowOf(id); row >= 0) emitRowChanged(row, StatusColumn, StatusColumn);
}

void RunTableModel::replaceMetrics(int64_t runId, const std::vector<distillery::MetricPoint>& points) {
  metrics_[runId] = LiveMetrics{}; // held, so refresh() does not read the store for it
  addPoints(points);
  if (const int row = rowOf(runId); row >= 0) emitRowChanged(row, 0, columnCount() - 1);
}

QVariant RunTableModel::displayData(const distillery::RunRecord& run, int column) const {
  switch (column) {
    case NameColumn: return QStringLiteral("#%1  %2").arg(run.id).arg(QString::fromStdString(run.name));
    case StatusColumn: return statusDisplay(run);
    case TaskColumn: return QString::fromStdString(run.task);
    case TeacherColumn: return labels(run).teacher;
    case StudentColumn: return labels(run).student;
    case MethodColumn: return labels(run).method;
    case ProgressColumn: return progressText(run);
    case BestValAccuracyColumn: {
      const double v = bestValAccuracy(run);
      return v < 0 ? QString() : percent(v);
    }
    case AgreementColumn: {
      const double v = agreement(run);
      return v < 0 ? QString() : percent(v);
    }
    case WallTimeColumn: return formatWallTime(wallSeconds(run));
    case TagsColumn: return joinTags(run.tags);
    case NotesColumn: return QString::fromStdString(run.notes).section(u'\n', 0, 0);
    case CreatedColumn: {
      const QDateTime t = parseUtc(run.created_at);
      return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                         : QString::fromStdString(run.created_at);
    }
    case StarColumn: return QString(run.starred ? kStarOn : kStarOff);
  }
  return {};
}

QVariant RunTableModel::sortData(const distillery::RunRecord& run, int column) const {
  switch (column) {
    case NameColumn: return QString::fromStdString(run.name).toLower();
    case ProgressColumn: return progressFraction(run);
    case BestValAccuracyColumn: {
      const double v = bestValAccuracy(run);
      return v < 0 ? QVariant() : QVariant(v);
    }
    case AgreementColumn: {
      const double v = agreement(run);
      return v < 0 ? QVariant() : QVariant(v);
    }
    case WallTimeColumn: {
      const double v = wallSeconds(run);
      return v < 0 ? QVariant() : QVariant(v);
    }
    case CreatedColumn: return QVariant::fromValue<qint64>(run.id); // ids grow with creation time
    case StarColumn: return run.starred ? 1 : 0;
    case NotesColumn: return QString::fromStdString(run.notes).toLower();
    default: return displayData(run, column).toString().toLower();
  }
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (!index.isValid()) return f;
  const int c = index.column();
  if (c == NameColumn || c == TagsColumn || c == NotesColumn) f |= Qt::ItemIsEditable;
  return f;
}

bool RunTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || role != Qt::EditRole || index.row() >= int(rows_.size())) return false;
  const int64_t id = rows_[size_t(index.row())].id;
  switch (index.column()) {
    case NameColumn: return renameRun(id, value.toString());
    case TagsColumn: return setTags(id, splitTags(value.toString()));
    case NotesColumn: return setNotes(id, value.toString());
    case StarColumn: return setStarred(id, value.toBool());
    default: return false;
  }
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(rows_.size())) return {};
  const distillery::RunRecord& run = rows_[size_t(index.row())];
  const int column = index.column();
  if (column >= ColumnCount) return extraData(run, column, role);
  switch (role) {
    case Qt::DisplayRole: return displayData(run, column);
    case Qt::EditRole:
      switch (column) {
        case NameColumn: return QString::fromStdString(run.name);
        case NotesColumn: return QString::fromStdString(run.notes);
        case StarColumn: return run.starred;
        default: return displayData(run, column);
      }
    case SortRole: return sortData(run, column);
    case RunIdRole: return QVariant::fromValue<qint64>(run.id);
    case ProgressFractionRole: return progressFraction(run);
    case DivergedRole: return isDiverged(run.id);
    case Qt::DecorationRole:
      if (column == NameColumn) return runColor(run.id); // matches the run's curves
      if (column == StatusColumn && isDiverged(run.id))
        return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
      break;
    case Qt::TextAlignmentRole:
      if (column == BestValAccuracyColumn || column == AgreementColumn || column == WallTimeColumn)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      if (column == StarColumn) return QVariant(Qt::AlignCenter);
      break;
    case Qt::ForegroundRole:
      if (column == StarColumn) return QBrush(run.starred ? QColor(0xd49b00) : QColor(0xa0a0a0));
      if (column == StatusColumn && isDiverged(run.id)) return QBrush(QColor(0xc0392b));
      if (column == StatusColumn) {
        switch (run.status) {
          case distillery::RunStatus::Failed:
          case distillery::RunStatus::Diverged: return QBrush(QColor(0xc0392b));
          case distillery::RunStatus::Running: return QBrush(QColor(0x1f6fb4));
          case distillery::RunStatus::Queued:
            if (auto it = slurmStates_.find(run.id); it != slurmStates_.end() && it->second.runStatusWord() == "running")
              return QBrush(QColor(0x1f6fb4));
            break;
          case distillery::RunStatus::Finished: return QBrush(QColor(0x2e7d32));
          default: break;
        }
      }
      break;
    case Qt::ToolTipRole: {
      QString tip = QStringLiteral("#%1 %2\ncreated %3")
                        .arg(run.id)
                        .arg(QString::fromStdString(run.name), QString::fromStdString(run.created_at));
      if (run.teacher_run_id) tip += tr("\nteacher: run #%1").arg(run.teacher_run_id);
      if (run.parent_run_id) tip += tr("\ntrained as the teacher of run #%1").arg(run.parent_run_id);
      if (!run.error.empty()) tip += tr("\nerror: %1").arg(QString::fromStdString(run.error));
      if (isDiverged(run.id)) tip += tr("\ndiverged: a loss or metric became NaN/Inf");
      if (ranks(run) > 1) tip += tr("\ndata-parallel on %1 ranks").arg(ranks(run));
      if (run.slurm_job_id) tip += slurmTip(run);
      if (column == NotesColumn && !run.notes.empty()) return QString::fromStdString(run.notes);
      if (column == ProgressColumn && run.status == distillery::RunStatus::Running) {
        auto it = progress_.find(run.id);
        if (it != progress_.end() && it->second.total_steps <= 0) // told by another process, without the run's steps
          return tr("%1 of the whole run").arg(percent(it->second.fraction));
        if (it != progress_.end())
          return tr("%1 of the whole run (%2 of %3 steps)")
              .arg(percent(it->second.fraction))
              .arg(it->second.step)
              .arg(it->second.total_steps);
      }
      if (column == StarColumn) return run.starred ? tr("Starred; click to unstar") : tr("Click to star");
      return tip;
    }
  }
  return {};
}

void RunTableModel::rebuildIndex() {
  rowById_.clear();
  for (size_t i = 0; i < rows_.size(); ++i) rowById_[rows_[i].id] = int(i);
}

void RunTableModel::loadMetricsFromStore(int64_t runId) {
  LiveMetrics m;
  for (const distillery::MetricPoint& p : store_.points(runId, kValAccuracy)) {
    if (std::isfinite(p.value)) m.bestValAccuracy = std::max(m.bestValAccuracy, p.value);
    else diverged_.insert(runId);
  }
  const auto agreement = store_.points(runId, kValAgreement);
  if (!agreement.empty() && std::isfinite(agreement.back().value))
    m.lastValAgreement = agreement.back().value;
  for (const distillery::MetricPoint& p : store_.points(runId)) m.wallS = std::max(m.wallS, p.wall_s);
  metrics_[runId] = m;
}

void RunTableModel::refresh() {
  std::vector<distillery::RunRecord> fresh;
  try {
    seenDataVersion_ = store_.dataVersion(); // before reading: a commit in between is seen next time
    fresh = store_.runs();
    sweepNames_.clear();
    for (const auto& [id, name] : store_.sweeps()) sweepNames_[id] = name;
    // Curves of runs seen for the first time (e.g. written by the CLI) come
    // from the store once; later ones arrive through addPoints(). Runs with a
    // summary already have their figures, which keeps opening 1,000 runs fast.
    for (const distillery::RunRecord& run : fresh)
      if (!metrics_.count(run.id) && !summaryNumber(run.summary, {"best_val_accuracy", "val_accuracy"}))
        loadMetricsFromStore(run.id);
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return;
  }

  // The first load (1,000 runs, say) as one reset instead of one insert per
  // row, each of which the proxies and the view would process on its own.
  if (rows_.empty() && !fresh.empty()) {
    beginResetModel();
    rows_ = std::move(fresh);
    subjects_.clear();
    rebuildIndex();
    endResetModel();
    return;
  }

  std::set<int64_t> freshIds;
  for (const auto& run : fresh) {
    freshIds.insert(run.id);
    const int known = rowOf(run.id);
    if (known >= 0 && !sameVisibleState(rows_[size_t(known)], run)) subjects_.erase(run.id);
  }
  for (auto it = subjects_.begin(); it != subjects_.end();)
    it = freshIds.count(it->first) ? std::next(it) : subjects_.erase(it);
  for (int row = int(rows_.size()) - 1; row >= 0; --row) {
    if (freshIds.count(rows_[size_t(row)].id)) continue;
    beginRemoveRows({}, row, row);
    rows_.erase(rows_.begin() + row);
    rebuildIndex(); // the proxies look runs up by id while handling the removal
    endRemoveRows();
  }

  // Both lists are newest first, so what remains is a subsequence of `fresh`
  // and new runs slot in where they belong.
  std::vector<int64_t> updated, renamed; // told after the rows are consistent again
  size_t row = 0;
  for (const distillery::RunRecord& run : fresh) {
    if (row < rows_.size() && rows_[row].id == run.id) {
      if (!sameVisibleState(rows_[row], run) || rows_[row].started_at != run.started_at) updated.push_back(run.id);
      if (rows_[row].name != run.name) renamed.push_back(run.id);
      rows_[row] = run;
    } else if (!rowById_.count(run.id)) {
      beginInsertRows({}, int(row), int(row));
      rows_.insert(rows_.begin() + std::ptrdiff_t(row), run);
      rebuildIndex(); // the filter proxy asks for the new run's subject by id
      endInsertRows();
    } else {
      // Ordering changed in a way inserts cannot express: start over.
      beginResetModel();
      rows_ = std::move(fresh);
      rebuildIndex();
      endResetModel();
      return;
    }
    ++row;
  }
  rebuildIndex();
  if (!rows_.empty())
    Q_EMIT dataChanged(index(0, 0), index(int(rows_.size()) - 1, columnCount() - 1));
  for (int64_t id : updated) Q_EMIT runUpdated(id);
  for (int64_t id : renamed) Q_EMIT runRenamed(id);
}

void RunTableModel::emitRowChanged(int row, int firstColumn, int lastColumn) {
  Q_EMIT dataChanged(index(row, firstColumn), index(row, lastColumn));
}

void RunTableModel::setProgress(const distillery::RunProgress& progress) {
  progress_[progress.run_id] = progress;
  const int row = rowOf(progress.run_id);
  if (row >= 0) {
    // A progress report means the run is running, even before the next refresh.
    if (rows_[size_t(row)].status == distillery::RunStatus::Queued) {
      rows_[size_t(row)].status = distillery::RunStatus::Running;
      emitRowChanged(row, StatusColumn, StatusColumn);
    }
    emitRowChanged(row, ProgressColumn, ProgressColumn);
    emitRowChanged(row, WallTimeColumn, WallTimeColumn);
    // The distill run that trains this teacher shows the same percentage.
    const int parent = rowOf(rows_[size_t(row)].parent_run_id);
    if (parent >= 0) emitRowChanged(parent, ProgressColumn, ProgressColumn);
  }
}

void RunTableModel::addPoints(const std::vector<distillery::MetricPoint>& points) {
  std::set<int64_t> touched;
  for (const distillery::MetricPoint& p : points) {
    LiveMetrics& live = metrics_[p.run_id];
    if (p.wall_s > live.wallS) {
      live.wallS = p.wall_s;
      touched.insert(p.run_id);
    }
    if (!std::isfinite(p.value)) {
      if (diverged_.insert(p.run_id).second) {
        subjects_.erase(p.run_id);
        touched.insert(p.run_id);
      }
      continue;
    }
    if (p.metric == kValAccuracy) {
      LiveMetrics& m = metrics_[p.run_id];
      m.bestValAccuracy = std::max(m.bestValAccuracy, p.value);
      touched.insert(p.run_id);
    } else if (p.metric == kValAgreement) {
      metrics_[p.run_id].lastValAgreement = p.value;
      touched.insert(p.run_id);
    }
  }
  for (int64_t id : touched) {
    const int row = rowOf(id);
    if (row >= 0) emitRowChanged(row, 0, columnCount() - 1);
  }
}

int RunTableModel::rowOf(int64_t runId) const {
  auto it = rowById_.find(runId);
  return it == rowById_.end() ? -1 : it->second;
}

int64_t RunTableModel::runIdAt(int row) const {
  return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].id : 0;
}

const distillery::RunRecord* RunTableModel::record(int64_t runId) const {
  const int row = rowOf(runId);
  return row < 0 ? nullptr : &rows_[size_t(row)];
}

bool RunTableModel::isDiverged(int64_t runId) const {
  if (diverged_.count(runId)) return true;
  const distillery::RunRecord* run = record(runId);
  return run && distillery::endedDiverged(*run);
}

void RunTableModel::reloadRun(int64_t runId) {
  const int row = rowOf(runId);
  if (row < 0) return;
  const std::string oldName = rows_[size_t(row)].name;
  if (auto fresh = store_.run(runId)) rows_[size_t(row)] = std::move(*fresh);
  subjects_.erase(runId);
  emitRowChanged(row, 0, columnCount() - 1);
  Q_EMIT runUpdated(runId);
  if (rows_[size_t(row)].name != oldName) Q_EMIT runRenamed(runId);
}

bool RunTableModel::setStarred(int64_t runId, bool starred) {
  if (rowOf(runId) < 0) return false;
  try {
    store_.setStarred(runId, starred);
    reloadRun(runId);
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool RunTableModel::setTags(int64_t runId, const std::vector<std::string>& tags) {
  if (rowOf(runId) < 0) return false;
  try {
    store_.setTags(runId, tags);
    reloadRun(runId);
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool RunTableModel::setNotes(int64_t runId, const QString& notes) {
  if (rowOf(runId) < 0) return false;
  try {
    store_.setNotes(runId, notes.toStdString());
    reloadRun(runId);
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

bool RunTableModel::renameRun(int64_t runId, const QString& name) {
  const QString trimmed = name.trimmed();
  if (rowOf(runId) < 0 || trimmed.isEmpty()) return false; // a run always has a name
  try {
    store_.renameRun(runId, trimmed.toStdString());
    reloadRun(runId);
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

int RunTableModel::deleteRuns(const QList<int64_t>& runIds) {
  int deleted = 0;
  try { // all or nothing: none while any is queued or running (core/store/run_delete.h)
    deleted = distillery::deleteStoppedRuns(store_, std::vector<int64_t>(runIds.begin(), runIds.end()));
  } catch (const distillery::DistilleryError& e) {
    Q_EMIT storeError(QString::fromUtf8(e.what()));
  }
  for (int64_t id : runIds) {
    if (store_.run(id)) continue; // kept: its cached metrics stay
    metrics_.erase(id);
    progress_.erase(id);
    diverged_.erase(id);
  }
  refresh();
  return deleted;
}

const distillery::RunFilterSubject& RunTableModel::filterSubject(int64_t runId) const {
  auto it = subjects_.find(runId);
  if (it != subjects_.end()) return it->second;
  const distillery::RunRecord* run = record(runId);
  if (!run) {
    static const distillery::RunFilterSubject unknown; // not cached: the run may arrive later
    return unknown;
  }
  distillery::RunFilterSubject subject = distillery::runFilterSubject(*run);
  subject.diverged = subject.diverged || diverged_.count(runId) > 0;
  return subjects_.emplace(runId, std::move(subject)).first->second;
}

QString RunTableModel::fieldValue(int64_t runId, const std::string& key) const {
  const distillery::RunFilterSubject& s = filterSubject(runId);
  const auto it = s.fields.find(key);
  return it == s.fields.end() ? QString() : QString::fromStdString(it->second);
}

std::vector<std::string> RunTableModel::groupableKeys() const {
  std::vector<std::string> keys = {"status", "task", "method.name", "student", "teacher", "data.dataset", "sweep"};
  // Config keys (not summary figures, which are nearly all distinct) that take
  // more than one value across the runs.
  std::map<std::string, std::set<std::string>> values;
  for (const distillery::RunRecord& run : rows_)
    for (const auto& [key, value] : filterSubject(run.id).fields)
      if (key.rfind("summary.", 0) != 0) values[key].insert(value);
  std::vector<std::string> varying;
  for (const auto& [key, seen] : values) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    static const std::set<std::string> perRun = {"id", "name", "notes", "created", "error", "parent_run", "teacher_run"};
    if (perRun.count(key)) continue;
    bool missingSomewhere = false;
    for (const distillery::RunRecord& run : rows_)
      if (!filterSubject(run.id).fields.count(key)) missingSomewhere = true;
    if (seen.size() + (missingSomewhere ? 1 : 0) > 1) varying.push_back(key);
  }
  keys.insert(keys.end(), varying.begin(), varying.end());
  return keys;
}

QString RunTableModel::groupLabel(const std::string& key, const QString& value) const {
  if (key != "sweep") return value;
  bool ok = false;
  const auto it = sweepNames_.find(value.toLongLong(&ok));
  if (!ok || it == sweepNames_.end() || it->second.empty()) return value;
  return QStringLiteral("%1 (#%2)").arg(QString::fromStdString(it->second), value);
}

std::string RunTableModel::extraColumnKey(int column) const {
  const int i = column - ColumnCount;
  return i >= 0 && i < int(extra_.size()) ? extra_[size_t(i)] : std::string();
}

int RunTableModel::extraColumnOf(const std::string& key) const {
  const auto it = std::find(extra_.begin(), extra_.end(), key);
  return it == extra_.end() ? -1 : ColumnCount + int(it - extra_.begin());
}

void RunTableModel::addExtraColumn(const std::string& key) {
  if (key.empty() || extraColumnOf(key) >= 0) return;
  const int column = ColumnCount + int(extra_.size());
  beginInsertColumns({}, column, column);
  extra_.push_back(key);
  endInsertColumns();
}

std::vector<std::string> RunTableModel::columnableKeys() const {
  std::set<std::string> config, summary;
  static const std::set<std::string> shownAlready = {"id", "name", "notes", "created", "error", "status", "task"};
  for (const distillery::RunRecord& run : rows_)
    for (const auto& [key, value] : filterSubject(run.id).fields) {
      if (key.rfind("summary.", 0) == 0) summary.insert(key);
      else if (!shownAlready.count(key)) config.insert(key);
    }
  std::vector<std::string> keys(config.begin(), config.end());
  keys.insert(keys.end(), summary.begin(), summary.end());
  return keys;
}

bool RunTableModel::isNumericColumn(int column) {
  return column == BestValAccuracyColumn || column == AgreementColumn || column == WallTimeColumn;
}

QVariant RunTableModel::extraData(const distillery::RunRecord& run, int column, int role) const {
  const std::string key = extraColumnKey(column);
  if (key.empty()) return {};
  const QString text = fieldValue(run.id, key);
  bool isNumber = false;
  const double number = text.toDouble(&isNumber);
  switch (role) {
    case Qt::DisplayRole:
      // Accuracy and agreement read as the built-in columns do: 80.8%, not 0.808.
      if (isNumber && number >= 0.0 && number <= 1.0 && isFractionKey(key)) return percent(number);
      // Summary figures such as 0.823456789 read better at four significant digits.
      if (isNumber && std::isfinite(number) && text.contains(u'.')) return QString::number(number, 'g', 4);
      return text;
    case Qt::EditRole:
    case Qt::ToolTipRole: return text;
    case SortRole:
      if (text.isEmpty()) return {};
      return isNumber ? QVariant(number) : QVariant(text.toLower());
    case RunIdRole: return QVariant::fromValue<qint64>(run.id);
    case Qt::TextAlignmentRole:
      if (isNumber) return QVariant(Qt::AlignRight | Qt::AlignVCenter);
      break;
  }
  return {};
}

QString RunTableModel::statusText(int64_t runId) const {
  const int row = rowOf(runId);
  return row < 0 ? QString() : data(index(row, StatusColumn)).toString();
}

} // namespace distillery::gui
