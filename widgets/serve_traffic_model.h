#pragma once
// The traffic panel's table (issue 17): per API key, queries a second over the
// last few seconds, queries answered, requests, refusals by status, money spent
// (price_per_1000 × queries) and budget left, and a totals row; then the
// detectors' current values (issue 18): PRADA's W, the shift score and the
// verdict, set from the detector worker (serve_detector_worker.h). Read from the
// server's request log (the truth the budgets are charged from, past sessions
// included) through its own read-only connection, incrementally on each poll().
#include "core/serve/serve_config.h"
#include "widgets/serve_detector_worker.h"

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <QVector>

#include <deque>
#include <map>
#include <memory>

namespace distillery {
class RequestLogReader;
}

namespace distillery::gui {

class ServeTrafficModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column {
    KeyColumn,
    RateColumn,
    QueriesColumn,
    RequestsColumn,
    Status400Column,
    Status401Column,
    Status402Column,
    Status413Column,
    Status429Column,
    OtherColumn, // other refusals and errors: 404, 405, 500
    SpentColumn,
    BudgetColumn,
    PradaColumn,   // PRADA's W now; "—" while too few distances
    ShiftColumn,   // the shift score now; "—" without a reference
    VerdictColumn, // "extraction?" (PRADA flagged), "shifted", "honest-looking", "too few queries"
    ColumnCount
  };
  // The raw number behind a cell (qint64, or double for rates and money); invalid where none.
  static constexpr int ValueRole = Qt::UserRole + 1;
  // Seconds of polls the rate is measured over.
  static constexpr double kRateWindowS = 5.0;
  // Seconds of rate history kept for the chart.
  static constexpr double kHistoryS = 120.0;
  // The row name of requests without a valid key (401s, unknown paths).
  static QString noKeyName() { return tr("(no key)"); }

  explicit ServeTrafficModel(QObject* parent = nullptr);
  ~ServeTrafficModel() override;

  // Starts over on a server's log: its keys (budgets, in config order), price and currency.
  // Throws StoreError naming the log when it cannot be opened.
  void open(const QString& logPath, const distillery::ServeConfig& config);
  // Reads what the log gained since the last poll; `now_s` is a steady clock in seconds.
  // The first poll reads the log's history and measures no rate.
  void poll(double now_s);
  bool isOpen() const { return reader_ != nullptr; }
  // Stops reading (the server stopped): the counts stay, the rates drop to 0.
  void close();

  // The detectors' values for a key (a row is added for a key not yet in the table).
  void setDetectorScores(const KeyDetectorScores& scores);
  // Whether the row's key was flagged by either detector.
  bool isFlagged(int row) const;

  int rowOf(const QString& key) const; // -1 if absent; the totals row is the last
  QString currency() const { return currency_; }

  // Queries a second per key over time, for the chart: (seconds, rate) per poll.
  struct RatePoint {
    double t;
    double rate;
  };
  const std::map<QString, std::deque<RatePoint>>& rateHistory() const { return history_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  struct KeyRow {
    QString name;
    qint64 budget = -1; // -1: not a key of this config (an earlier config's, or no key)
    qint64 queries = 0, requests = 0;
    std::map<int, qint64> byStatus;
    double rate = 0;
    // The detectors' (issue 18): -1 while unknown.
    double w = -1, shift = -1;
    qint64 pradaAfter = 0, shiftAfter = 0;
    QString verdict;
  };
  struct Sample {
    double t;
    std::map<QString, qint64> queries; // cumulative, per key
  };
  KeyRow& rowFor(const QString& name);
  KeyRow totals() const;
  QVariant cell(const KeyRow& row, int column, bool isTotal, int role) const;

  std::unique_ptr<distillery::RequestLogReader> reader_;
  QList<KeyRow> rows_;
  double pricePer1000_ = 0;
  QString currency_;
  std::deque<Sample> samples_; // polls within the rate window
  std::map<QString, std::deque<RatePoint>> history_;
};

} // namespace distillery::gui
