#pragma once
// The Forensics tab (Run ▸ Forensics…, issue 18 part 4): was a suspect model
// distilled from a reference teacher? On the left what every test shares: the
// teacher (a run or a TorchScript file), the null (independent finished runs
// on the same data, preselected, changeable), the tests, inputs per test and
// seed. The Test page picks the suspect (a run, a .pt file or an API URL with
// its key's environment variable), runs the tests on a worker thread
// (forensics_worker.h; progress, Cancel) and shows per test the null's
// histogram with the suspect's statistic, the p-value and the verdict; every
// result is stored as the CLI stores it, and earlier results are listed for
// re-checking. The Calibration page draws the tests' ROC curves on stored
// copies and independent runs (forensics_calibration_page.h). Above both
// pages, the Fingerprint crafting row picks how the fingerprint test crafts
// its inputs, for a suspect and for the calibration alike: on the teacher
// alone, or conferrable on the teacher with surrogate students and surrogate
// references ticked from the store's runs.
#include "core/forensics/forensic_request.h"

#include <nlohmann/json.hpp>

#include <QMap>
#include <QWidget>

#include <functional>
#include <memory>
#include <string>
#include <vector>

class QButtonGroup;
class QCheckBox;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
class QTableWidget;
class QThread;
class QHBoxLayout;

namespace distillery {
class RunStore;
struct RunRecord;
}

namespace distillery::gui {

class ForensicsCalibrationPage;
class ForensicsWorker;

class ForensicsView : public QWidget {
  Q_OBJECT
public:
  // The store is the GUI thread's connection (read for the run lists and the
  // stored results); the worker opens its own on the same file.
  explicit ForensicsView(distillery::RunStore& store, QWidget* parent = nullptr);
  ~ForensicsView() override; // cancels a running job and waits for it

  // Re-reads the runs (keeping choices where they still exist) and the stored
  // results. A null the user chose stays as chosen (runs gone dropped); a
  // preselected one takes in new independent runs.
  void reload();
  // The store changed (runs added, finished, deleted): reload soon if the tab
  // is shown, else when it is next shown (it reads the store whenever shown).
  // Calls in one event-loop turn reload once.
  void scheduleReload();

  // The choices, as the controls hold them (also for tests and scripts).
  void setTeacherRun(int64_t runId);
  void setTeacherFile(const QString& path);
  void setSuspectRun(int64_t runId);
  void setSuspectFile(const QString& path);
  void setSuspectApi(const QString& url, const QString& keyEnv);
  void setNull(const QList<int64_t>& runIds);
  QList<int64_t> nullRuns() const;
  void setTests(const QStringList& tests);
  void setInputs(int inputs);
  void setSeed(int seed);
  // "teacher" or "conferrable" (FingerprintCraftingChoice::crafting, both requests).
  void setFingerprintCrafting(const QString& crafting);
  QString fingerprintCrafting() const;
  // The conferrable crafting's surrogates (FingerprintCraftingChoice::confer_with / confer_against).
  void setSurrogateStudents(const QList<int64_t>& runIds);
  void setSurrogateReferences(const QList<int64_t>& runIds);
  QList<int64_t> surrogateStudents() const;
  QList<int64_t> surrogateReferences() const;
  QListWidget* surrogateStudentList() const { return conferWith_; }
  QListWidget* surrogateReferenceList() const { return conferAgainst_; }
  QComboBox* craftingCombo() const { return crafting_; }
  distillery::ForensicRequest request() const;

  // Starts the tests (false, saying why in the view, when a job runs or the choice is incomplete).
  bool runTests();
  bool runCalibration();
  void cancel();
  bool isBusy() const { return thread_ != nullptr; }

  QString errorText() const;
  QString statusText() const;
  QString nullNoteText() const;
  QString verdictText(const QString& test) const;  // empty when the test is not shown
  QString detailsText(const QString& test) const;
  QString resultTitleText() const;
  QTableWidget* storedTable() const { return stored_; }
  // Shows a stored result (forensic_results.id) in the result area.
  bool showStoredResult(int64_t resultId);
  ForensicsCalibrationPage* calibrationPage() const { return calibration_; }
  QTabWidget* pages() const { return pages_; }

Q_SIGNALS:
  void testsDone();
  void calibrationDone();
  void failed(const QString& message);
  void jobFinished();

protected:
  void showEvent(QShowEvent* event) override;

private:
  QWidget* buildSharedPanel();
  // Why the calibration cannot run with the current choices (empty: it can).
  QString calibrationMissing() const;
  // Clears or updates a "Tick…" error on the Calibration page once the choice changes.
  void recheckCalibration();
  // The choice changed: the Test page's error goes, and with calibration the
  // Calibration page's too (a "Tick…" error is asked again).
  void inputsChanged(bool calibration);
  void calibrationInputsChanged();
  // The surrogates the crafting uses (none unless conferrable): no default positives or negatives.
  QList<int64_t> activeSurrogates() const;
  void refreshCalibrationRuns();
  void craftingChanged(); // the crafting or a surrogate tick changed
  QWidget* buildTestPage();
  QWidget* buildFingerprintRow(QWidget* parent);
  void fillRunLists();
  void preselectNull(const std::vector<distillery::RunRecord>& runs); // the independent runs of `runs`
  void updateNullNote();
  void reloadStored();
  void showResults(const nlohmann::json& results, const std::string& teacher);
  void startJob(const std::function<void(ForensicsWorker*)>& work);
  void onProgress(const QString& step, qint64 done, qint64 total);
  void onTestsDone(const QString& sessionJson);
  void onFailed(const QString& message, bool cancelled);
  void onFinished();
  void setError(const QString& message);
  void setStatus(const QString& text);
  int64_t teacherRunId() const;

  distillery::RunStore& store_;
  bool nullChosen_ = false;   // the user (or setNull) chose the null: reloads keep it
  bool reloadDue_ = false;    // the store changed while the tab was hidden
  bool reloadQueued_ = false; // a reload is posted for this event-loop turn
  QString calibrationMissing_; // the "Tick…" error shown on the Calibration page
  enum class Job { None, Tests, Calibration };
  Job job_ = Job::None; // whose page a failure goes to
  std::string listedRuns_;              // what the run lists were filled from (id, status, teacher, task, name)
  std::vector<int64_t> listedResults_;  // the stored results' ids in the table
  QThread* thread_ = nullptr;
  std::unique_ptr<ForensicsWorker> worker_;

  // shared
  QComboBox* teacherKind_ = nullptr;
  QStackedWidget* teacherStack_ = nullptr;
  QComboBox* teacherRun_ = nullptr;
  QLineEdit* teacherFile_ = nullptr;
  QListWidget* null_ = nullptr;
  QLabel* nullNote_ = nullptr;
  QMap<QString, QCheckBox*> tests_;
  QSpinBox* inputs_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QTabWidget* pages_ = nullptr;
  // test page
  QComboBox* suspectKind_ = nullptr;
  QStackedWidget* suspectStack_ = nullptr;
  QComboBox* suspectRun_ = nullptr;
  QLineEdit* suspectFile_ = nullptr;
  QLineEdit* suspectUrl_ = nullptr;
  QLineEdit* suspectKeyEnv_ = nullptr;
  QComboBox* crafting_ = nullptr;
  QWidget* surrogates_ = nullptr; // the two lists, shown for conferrable crafting
  QListWidget* conferWith_ = nullptr;
  QListWidget* conferAgainst_ = nullptr;
  QPushButton* runButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* error_ = nullptr;
  QLabel* resultTitle_ = nullptr;
  QHBoxLayout* results_ = nullptr;
  QMap<QString, QLabel*> verdicts_, details_;
  QTableWidget* stored_ = nullptr;
  ForensicsCalibrationPage* calibration_ = nullptr;
};

} // namespace distillery::gui
