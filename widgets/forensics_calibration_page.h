#pragma once
// The Calibration page of the Forensics tab (issue 18, part 4): how well each
// test tells copies of the teacher from independent models. Positives are
// runs distilled from the reference (preselected: its students, labelled by
// method; more may be ticked; never the null's runs), negatives independent
// runs outside the null. Too few of either is warned about.
// The harness (detection_harness.h) runs on the view's worker; the page
// draws one ROC curve per test (all positives pooled) and a table of AUC,
// TPR at 1% FPR and queries to a decision, per test and kind of positive.
#include "core/forensics/forensic_request.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <QMap>
#include <QWidget>

#include <vector>

class QChartView;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace distillery::gui {

class ForensicsCalibrationPage : public QWidget {
  Q_OBJECT
public:
  explicit ForensicsCalibrationPage(QWidget* parent = nullptr);

  // Fills the lists (all finished image runs but the teacher and the null).
  // A run the user ticked or unticked (by hand or setPositives/setNegatives)
  // keeps that tick across refills while it is listed; the others take the
  // defaults: the teacher's students as positives, independent runs as
  // negatives, neither if a surrogate (the crafting's surrogates are no
  // held-out copies, and core refuses them). A new teacher forgets the ticks.
  void setRuns(const std::vector<distillery::RunRecord>& runs, int64_t teacher, const QList<int64_t>& null,
               const QList<int64_t>& surrogates = {});
  void setPositives(const QList<int64_t>& runIds);
  void setNegatives(const QList<int64_t>& runIds);
  QList<int64_t> positives() const;
  QList<int64_t> negatives() const;
  // Adds the ticked positives (with their kinds) and negatives to request.
  void fillRequest(distillery::CalibrationRequest& request) const;

  // The worker's result (ForensicsWorker::calibrationDone): the curves, the
  // table, and a title saying what they were computed from (the fingerprint
  // crafting and its surrogates included).
  void showResult(const QString& resultJson);
  // The rows shown last (HarnessRow::toJson with scores); empty before a run.
  const nlohmann::json& rows() const { return rows_; }
  QString resultTitleText() const;
  // The pooled AUC of a test's curve (NaN when not shown).
  double auc(const QString& test) const;
  QTableWidget* table() const { return table_; }
  QChartView* chartView() const { return chart_; }

  void setBusy(bool busy);
  void setProgress(const QString& step, qint64 done, qint64 total);
  void setError(const QString& message);
  QString errorText() const;
  // Said while the ticked positives or negatives are too few for the AUC to mean much (empty otherwise).
  QString warningText() const;

  // Fewer ticked than this on either side and the page says the AUC is coarse:
  // with P positives and N negatives it moves in steps of 1/(P·N), and one
  // model more or less on either side swings it by up to 1/P or 1/N.
  static constexpr int kEnoughPerSide = 5;

Q_SIGNALS:
  // A positive or negative was ticked or unticked (by hand or by setRuns).
  void selectionChanged();
  void evaluateRequested();
  void cancelRequested();

private:
  void updateWarning();

  QListWidget* positives_ = nullptr;
  QListWidget* negatives_ = nullptr;
  QPushButton* evaluate_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* error_ = nullptr;
  QLabel* warning_ = nullptr;
  QLabel* title_ = nullptr;
  QChartView* chart_ = nullptr;
  QTableWidget* table_ = nullptr;
  QMap<QString, double> auc_;
  nlohmann::json rows_ = nlohmann::json::array();
  int64_t teacher_ = -1;
  // The user's own ticks (run id → ticked), kept while the run is listed.
  QMap<int64_t, bool> chosenPositives_, chosenNegatives_;
};

} // namespace distillery::gui
