#include "widgets/serve_traffic_model.h"

#include "core/serve/request_log_reader.h"

#include <QColor>
#include <QFont>
#include <QLocale>

#include <algorithm>

namespace distillery::gui {

namespace {

int statusOfColumn(int column) {
  switch (column) {
  case ServeTrafficModel::Status400Column: return 400;
  case ServeTrafficModel::Status401Column: return 401;
  case ServeTrafficModel::Status402Column: return 402;
  case ServeTrafficModel::Status413Column: return 413;
  case ServeTrafficModel::Status429Column: return 429;
  default: return 0;
  }
}

bool hasColumn(int status) {
  return status == 400 || status == 401 || status == 402 || status == 413 || status == 429;
}

} // namespace

ServeTrafficModel::ServeTrafficModel(QObject* parent) : QAbstractTableModel(parent) {}
ServeTrafficModel::~ServeTrafficModel() = default;

void ServeTrafficModel::open(const QString& logPath, const distillery::ServeConfig& config) {
  beginResetModel();
  reader_.reset();
  rows_.clear();
  samples_.clear();
  history_.clear();
  for (const auto& key : config.keys) {
    KeyRow row;
    row.name = QString::fromStdString(key.name);
    row.budget = key.budget;
    rows_.append(row);
  }
  pricePer1000_ = config.price_per_1000;
  currency_ = QString::fromStdString(config.currency);
  endResetModel();
  reader_ = std::make_unique<distillery::RequestLogReader>(logPath.toStdString());
}

void ServeTrafficModel::close() {
  reader_.reset();
  // A stopped server answers nothing: its last rates would read as if it still did.
  for (auto& row : rows_) row.rate = 0;
  if (!rows_.isEmpty()) Q_EMIT dataChanged(index(0, RateColumn), index(rowCount() - 1, RateColumn));
}

ServeTrafficModel::KeyRow& ServeTrafficModel::rowFor(const QString& name) {
  for (auto& row : rows_)
    if (row.name == name) return row;
  // A key of an earlier config, or requests without one: appended after the configured keys.
  const int at = int(rows_.size());
  beginInsertRows({}, at, at);
  KeyRow row;
  row.name = name;
  rows_.append(row);
  endInsertRows();
  return rows_.last();
}

void ServeTrafficModel::poll(double now_s) {
  if (!reader_) return;
  for (const auto& t : reader_->readNew()) {
    KeyRow& row = rowFor(t.key.empty() ? noKeyName() : QString::fromStdString(t.key));
    row.requests += t.requests;
    row.byStatus[t.status] += t.requests;
    if (t.status == 200) row.queries += t.queries;
  }

  // Rates: queries answered since the newest poll at least kRateWindowS old.
  Sample sample{now_s, {}};
  for (const auto& row : rows_) sample.queries[row.name] = row.queries;
  samples_.push_back(std::move(sample));
  while (samples_.size() > 2 && samples_[1].t <= now_s - kRateWindowS) samples_.pop_front();
  const Sample& anchor = samples_.front();
  const double span = now_s - anchor.t;
  for (auto& row : rows_) {
    const auto before = anchor.queries.find(row.name);
    const qint64 then = before == anchor.queries.end() ? 0 : before->second;
    row.rate = span > 0 ? double(row.queries - then) / span : 0.0;
    auto& points = history_[row.name];
    points.push_back({now_s, row.rate});
    while (!points.empty() && points.front().t < now_s - kHistoryS) points.pop_front();
  }
  if (!rows_.isEmpty()) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

void ServeTrafficModel::setDetectorScores(const KeyDetectorScores& scores) {
  KeyRow& row = rowFor(scores.key);
  row.w = scores.wNow;
  row.shift = scores.shiftNow;
  row.pradaAfter = scores.pradaFlaggedAfter;
  row.shiftAfter = scores.shiftFlaggedAfter;
  row.verdict = scores.verdict;
  const int r = rowOf(scores.key);
  Q_EMIT dataChanged(index(r, PradaColumn), index(r, VerdictColumn));
  Q_EMIT dataChanged(index(rowCount() - 1, VerdictColumn), index(rowCount() - 1, VerdictColumn)); // the flagged count
}

bool ServeTrafficModel::isFlagged(int row) const {
  return row >= 0 && row < rows_.size() && (rows_[row].pradaAfter > 0 || rows_[row].shiftAfter > 0);
}

int ServeTrafficModel::rowOf(const QString& key) const {
  for (int i = 0; i < rows_.size(); ++i)
    if (rows_[i].name == key) return i;
  return -1;
}

ServeTrafficModel::KeyRow ServeTrafficModel::totals() const {
  KeyRow total;
  total.name = tr("Total");
  total.budget = 0;
  for (const auto& row : rows_) {
    total.queries += row.queries;
    total.requests += row.requests;
    total.rate += row.rate;
    for (const auto& [status, n] : row.byStatus) total.byStatus[status] += n;
    if (row.budget >= 0) total.budget += row.budget;
  }
  return total;
}

int ServeTrafficModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size()) + 1; // + totals
}

int ServeTrafficModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ServeTrafficModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const bool isTotal = index.row() == rows_.size();
  if (role == Qt::FontRole && isTotal) {
    QFont bold;
    bold.setBold(true);
    return bold;
  }
  if (role == Qt::TextAlignmentRole)
    return index.column() == KeyColumn || index.column() == VerdictColumn
               ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
               : QVariant(Qt::AlignRight | Qt::AlignVCenter);
  // Flagged keys stand out in red, in the detector columns and the name.
  if (role == Qt::ForegroundRole && !isTotal && isFlagged(index.row()) &&
      (index.column() == KeyColumn || index.column() >= PradaColumn))
    return QColor(0xb0, 0x00, 0x20);
  return cell(isTotal ? totals() : rows_[index.row()], index.column(), isTotal, role);
}

QVariant ServeTrafficModel::cell(const KeyRow& row, int column, bool isTotal, int role) const {
  if (role != Qt::DisplayRole && role != ValueRole && role != Qt::ToolTipRole) return {};
  const bool display = role != ValueRole;
  auto count = [&](qint64 n) -> QVariant { return display ? QVariant(QLocale().toString(n)) : QVariant(n); };
  switch (column) {
  case KeyColumn:
    if (role == Qt::ToolTipRole && row.budget < 0 && !isTotal)
      return row.name == noKeyName() ? tr("Requests without a valid key") : tr("A key the current config does not hold");
    return display ? QVariant(row.name) : QVariant();
  case RateColumn: return display ? QVariant(QString::number(row.rate, 'f', 1)) : QVariant(row.rate);
  case QueriesColumn: return count(row.queries);
  case RequestsColumn: return count(row.requests);
  case OtherColumn: {
    qint64 other = 0;
    for (const auto& [status, n] : row.byStatus)
      if (status != 200 && !hasColumn(status)) other += n;
    return count(other);
  }
  case SpentColumn: {
    const double spent = double(row.queries) * pricePer1000_ / 1000.0;
    return display ? QVariant(QLocale().toString(spent, 'f', 4)) : QVariant(spent);
  }
  case BudgetColumn:
    if (row.budget < 0) return display ? QVariant(QStringLiteral("—")) : QVariant();
    return count(std::max<qint64>(0, row.budget - row.queries));
  case PradaColumn:
    if (isTotal || row.w < 0) return display && !isTotal ? QVariant(QStringLiteral("—")) : QVariant();
    if (role == Qt::ToolTipRole)
      return row.pradaAfter > 0 ? tr("W fell below delta after %1 queries").arg(row.pradaAfter)
                                : tr("Shapiro-Wilk W of the minimum distances; never below delta");
    return display ? QVariant(QString::number(row.w, 'f', 3)) : QVariant(row.w);
  case ShiftColumn:
    if (isTotal || row.shift < 0) return display && !isTotal ? QVariant(QStringLiteral("—")) : QVariant();
    if (role == Qt::ToolTipRole && row.shiftAfter > 0)
      return tr("The running score passed the threshold after %1 queries").arg(row.shiftAfter);
    return display ? QVariant(QString::number(row.shift, 'f', 2)) : QVariant(row.shift);
  case VerdictColumn: {
    if (isTotal) {
      int flagged = 0;
      for (int i = 0; i < rows_.size(); ++i) flagged += isFlagged(i) ? 1 : 0;
      return display ? QVariant(tr("%n flagged", nullptr, flagged)) : QVariant(flagged);
    }
    if (!display) return row.verdict.isEmpty() ? QVariant() : QVariant(row.verdict);
    QString text = row.verdict;
    if (row.pradaAfter > 0) text = tr("⚑ %1 (PRADA, after %2)").arg(row.verdict).arg(row.pradaAfter);
    else if (row.shiftAfter > 0) text = tr("⚑ %1 (after %2)").arg(row.verdict).arg(row.shiftAfter);
    return text;
  }
  default: {
    const auto it = row.byStatus.find(statusOfColumn(column));
    return count(it == row.byStatus.end() ? 0 : it->second);
  }
  }
}

QVariant ServeTrafficModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
    case RateColumn: return tr("Queries (inputs classified) a second over the last %1 s").arg(kRateWindowS);
    case QueriesColumn: return tr("Inputs classified (status 200), over the log's lifetime");
    case RequestsColumn: return tr("Requests of any status");
    case Status400Column: return tr("400: malformed request");
    case Status401Column: return tr("401: no or unknown key");
    case Status402Column: return tr("402: budget spent");
    case Status413Column: return tr("413: body or batch too large");
    case Status429Column: return tr("429: rate limit");
    case OtherColumn: return tr("Other statuses: 404, 405, 500");
    case SpentColumn: return tr("Queries × price per 1,000 / 1,000");
    case BudgetColumn: return tr("Queries the key may still classify");
    case PradaColumn:
      return tr("PRADA: Shapiro-Wilk W of the minimum distances between the key's new queries and its earlier "
                "ones; flagged below delta");
    case ShiftColumn: return tr("How far the key's queries lie from the task's data (about 1: like its test images)");
    case VerdictColumn: return tr("What distillery-cli audit-log would say of the key now; ⚑: flagged");
    default: return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
  case KeyColumn: return tr("Key");
  case RateColumn: return tr("Queries/s");
  case QueriesColumn: return tr("Queries");
  case RequestsColumn: return tr("Requests");
  case Status400Column: return tr("400");
  case Status401Column: return tr("401");
  case Status402Column: return tr("402");
  case Status413Column: return tr("413");
  case Status429Column: return tr("429");
  case OtherColumn: return tr("Other");
  case SpentColumn: return tr("Spent (%1)").arg(currency_);
  case BudgetColumn: return tr("Budget left");
  case PradaColumn: return tr("PRADA W");
  case ShiftColumn: return tr("Shift");
  case VerdictColumn: return tr("Detectors");
  default: return {};
  }
}

} // namespace distillery::gui
