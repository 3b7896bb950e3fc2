#include "widgets/forensics_view.h"

#include "core/forensics/forensic_verdict.h"

#include "core/forensics/forensic_candidates.h"
#include "core/store/run_store.h"
#include "widgets/file_dialogs.h"
#include "widgets/forensics_calibration_page.h"
#include "widgets/forensics_charts.h"
#include "widgets/forensics_worker.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QShowEvent>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>
#include <map>

namespace distillery::gui {

namespace {

constexpr int kRunRole = Qt::UserRole;
// Tall enough for a histogram's title, axis ticks and labels, and legend to stay readable.
constexpr int kHistogramMinHeight = 240;
const char* const kTests[] = {"agreement", "sac", "fingerprint"};

QString runLabel(const distillery::RunRecord& r) {
  return QStringLiteral("#%1 %2").arg(r.id).arg(QString::fromStdString(r.name));
}

bool usable(const distillery::RunRecord& r) { return r.status == distillery::RunStatus::Finished && r.task != "lm"; }

// Refills a combo of runs, keeping the chosen run when it is still there.
void fillRunCombo(QComboBox* combo, const std::vector<distillery::RunRecord>& runs) {
  const QVariant keep = combo->currentData();
  combo->clear();
  for (const auto& r : runs)
    if (usable(r)) combo->addItem(runLabel(r), qint64(r.id));
  const int at = combo->findData(keep);
  if (at >= 0) combo->setCurrentIndex(at);
}

// Refills a checkable list of runs, ticking the runs of keep that are still
// there; the students of studentsOf (a teacher run), if any, come first.
void fillRunChecks(QListWidget* list, std::vector<distillery::RunRecord> runs, const QList<int64_t>& keep,
                   int64_t studentsOf = 0) {
  const QSignalBlocker block(list);
  list->clear();
  if (studentsOf > 0)
    std::stable_partition(runs.begin(), runs.end(),
                          [studentsOf](const distillery::RunRecord& r) { return r.teacher_run_id == studentsOf; });
  for (const auto& r : runs) {
    if (!usable(r)) continue;
    auto* item = new QListWidgetItem(runLabel(r), list);
    item->setData(kRunRole, qint64(r.id));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(keep.contains(r.id) ? Qt::Checked : Qt::Unchecked);
  }
}

void setRunChecks(QListWidget* list, const QList<int64_t>& runIds) {
  const QSignalBlocker block(list);
  for (int i = 0; i < list->count(); ++i) {
    QListWidgetItem* item = list->item(i);
    item->setCheckState(runIds.contains(item->data(kRunRole).toLongLong()) ? Qt::Checked : Qt::Unchecked);
  }
}

QList<int64_t> checkedRuns(const QListWidget* list) {
  QList<int64_t> ids;
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->checkState() == Qt::Checked) ids.append(list->item(i)->data(kRunRole).toLongLong());
  return ids;
}

std::vector<int64_t> sortedIds(const QList<int64_t>& ids) {
  std::vector<int64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end()); // as a CLI user lists them; the stored inputs follow it
  return out;
}

QLineEdit* fileEdit(QWidget* parent, const QString& name, QHBoxLayout*& row, const QString& caption) {
  auto* edit = new QLineEdit(parent);
  edit->setObjectName(name);
  edit->setPlaceholderText(QObject::tr("model.pt"));
  auto* browse = new QPushButton(QObject::tr("Browse…"), parent);
  QObject::connect(browse, &QPushButton::clicked, parent, [parent, edit, caption] {
    const QString path = openFileName(parent, caption, edit->text(), QObject::tr("TorchScript (*.pt *.pth);;All files (*)"));
    if (!path.isEmpty()) edit->setText(path);
  });
  row = new QHBoxLayout;
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(edit, 1);
  row->addWidget(browse);
  return edit;
}

} // namespace

ForensicsView::ForensicsView(distillery::RunStore& store, QWidget* parent) : QWidget(parent), store_(store) {
  pages_ = new QTabWidget(this);
  pages_->setObjectName(QStringLiteral("forensicsPages"));
  pages_->addTab(buildTestPage(), tr("Test a suspect"));
  calibration_ = new ForensicsCalibrationPage(this);
  calibration_->setObjectName(QStringLiteral("forensicsCalibration"));
  pages_->addTab(calibration_, tr("Calibration"));
  connect(calibration_, &ForensicsCalibrationPage::evaluateRequested, this, [this] { runCalibration(); });
  connect(calibration_, &ForensicsCalibrationPage::cancelRequested, this, &ForensicsView::cancel);
  connect(calibration_, &ForensicsCalibrationPage::selectionChanged, this, [this] { calibrationInputsChanged(); });

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(buildSharedPanel());
  // The crafting row sits above both pages, not on the Test page: a ROC
  // calibrates the fingerprint test as it is run on suspects, so a researcher
  // who picks conferrable crafting expects the Calibration page to measure
  // that crafting, with the same surrogates, and not the teacher-only one.
  auto* right = new QWidget(this);
  auto* rl = new QVBoxLayout(right);
  rl->setContentsMargins(0, 0, 0, 0);
  rl->addWidget(buildFingerprintRow(right));
  rl->addWidget(pages_, 1);
  // Crafting is the fingerprint test's setting: idle while that test is unticked.
  connect(tests_[QStringLiteral("fingerprint")], &QCheckBox::toggled, crafting_->parentWidget(), &QWidget::setEnabled);
  split->addWidget(right);
  split->setStretchFactor(1, 1);
  split->setSizes({330, 950});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(split);
  reload();
}

ForensicsView::~ForensicsView() {
  if (thread_) {
    worker_->cancel();
    thread_->quit();
    thread_->wait();
  }
}

QWidget* ForensicsView::buildSharedPanel() {
  auto* panel = new QWidget(this);
  panel->setMinimumWidth(300);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 0);

  auto* teacherBox = new QGroupBox(tr("Reference teacher"), panel);
  auto* tl = new QVBoxLayout(teacherBox);
  teacherKind_ = new QComboBox(teacherBox);
  teacherKind_->addItems({tr("Finished run"), tr("TorchScript file")});
  teacherStack_ = new QStackedWidget(teacherBox);
  teacherRun_ = new QComboBox(teacherBox);
  teacherRun_->setObjectName(QStringLiteral("teacherRun"));
  QHBoxLayout* fileRow = nullptr;
  teacherFile_ = fileEdit(teacherBox, QStringLiteral("teacherFile"), fileRow, tr("Teacher model"));
  auto* fileWidget = new QWidget(teacherBox);
  fileWidget->setLayout(fileRow);
  teacherStack_->addWidget(teacherRun_);
  teacherStack_->addWidget(fileWidget);
  teacherStack_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
  tl->addWidget(teacherKind_);
  tl->addWidget(teacherStack_);
  connect(teacherKind_, &QComboBox::currentIndexChanged, teacherStack_, &QStackedWidget::setCurrentIndex);
  connect(teacherRun_, &QComboBox::currentIndexChanged, this, [this] {
    const auto runs = store_.runs(); // one read for the null, the surrogates and the calibration lists
    preselectNull(runs);
    fillRunChecks(conferWith_, runs, surrogateStudents(), teacherRunId()); // its students first
    calibration_->setRuns(runs, teacherRunId(), nullRuns(), activeSurrogates());
    inputsChanged(true);
  });

  auto* nullBox = new QGroupBox(tr("Null: independent runs"), panel);
  auto* nl = new QVBoxLayout(nullBox);
  auto* nullHelp = new QLabel(tr("Finished runs trained without the teacher on its data. The p-value is the "
                                 "suspect's rank among them."),
                              nullBox);
  nullHelp->setWordWrap(true);
  null_ = new QListWidget(nullBox);
  null_->setObjectName(QStringLiteral("nullRuns"));
  auto* again = new QPushButton(tr("Select the independent runs"), nullBox);
  connect(again, &QPushButton::clicked, this, [this] {
    fillRunLists(); // runs trained since the lists were filled join them
    preselectNull(store_.runs());
  });
  nullNote_ = new QLabel(nullBox);
  nullNote_->setObjectName(QStringLiteral("nullNote"));
  nullNote_->setWordWrap(true);
  connect(null_, &QListWidget::itemChanged, this, [this] {
    nullChosen_ = true; // a tick by hand: reloads keep this null
    updateNullNote();
    refreshCalibrationRuns();
    inputsChanged(true);
  });
  nl->addWidget(nullHelp);
  nl->addWidget(null_, 1);
  nl->addWidget(again);
  nl->addWidget(nullNote_);

  auto* testBox = new QGroupBox(tr("Tests"), panel);
  auto* form = new QFormLayout(testBox);
  auto* checks = new QHBoxLayout;
  for (const char* t : kTests) {
    auto* box = new QCheckBox(QString::fromLatin1(t), testBox);
    box->setObjectName(QStringLiteral("test_%1").arg(QString::fromLatin1(t)));
    box->setChecked(true);
    tests_[QString::fromLatin1(t)] = box;
    connect(box, &QCheckBox::toggled, this, [this] { inputsChanged(true); });
    checks->addWidget(box);
  }
  tests_[QStringLiteral("agreement")]->setToolTip(tr("Agreement with the teacher's labels on test inputs: the baseline"));
  tests_[QStringLiteral("sac")]->setToolTip(tr("SAC-m: correlation of outputs on CutMix inputs; needs probabilities"));
  tests_[QStringLiteral("fingerprint")]->setToolTip(tr("Targeted adversarial examples of the teacher; labels suffice"));
  form->addRow(checks);
  inputs_ = new QSpinBox(testBox);
  inputs_->setRange(2, 10000);
  inputs_->setValue(64);
  inputs_->setSuffix(tr(" per test"));
  seed_ = new QSpinBox(testBox);
  seed_->setRange(0, 1000000);
  form->addRow(tr("Inputs:"), inputs_);
  form->addRow(tr("Seed:"), seed_);
  auto* threshold = new QLabel(tr("A test calls the suspect a copy when p ≤ %1.").arg(kForensicLevel), testBox);
  threshold->setWordWrap(true);
  form->addRow(threshold);

  layout->addWidget(teacherBox);
  layout->addWidget(nullBox, 1);
  layout->addWidget(testBox);
  return panel;
}

QWidget* ForensicsView::buildTestPage() {
  auto* page = new QWidget(this);
  auto* suspectBox = new QGroupBox(tr("Suspect"), page);
  auto* sl = new QHBoxLayout(suspectBox);
  suspectKind_ = new QComboBox(suspectBox);
  suspectKind_->setObjectName(QStringLiteral("suspectKind"));
  suspectKind_->addItems({tr("Finished run"), tr("TorchScript file"), tr("Teacher API")});
  suspectStack_ = new QStackedWidget(suspectBox);
  suspectRun_ = new QComboBox(suspectBox);
  suspectRun_->setObjectName(QStringLiteral("suspectRun"));
  QHBoxLayout* fileRow = nullptr;
  suspectFile_ = fileEdit(suspectBox, QStringLiteral("suspectFile"), fileRow, tr("Suspect model"));
  auto* fileWidget = new QWidget(suspectBox);
  fileWidget->setLayout(fileRow);
  auto* apiWidget = new QWidget(suspectBox);
  auto* al = new QHBoxLayout(apiWidget);
  al->setContentsMargins(0, 0, 0, 0);
  suspectUrl_ = new QLineEdit(apiWidget);
  suspectUrl_->setObjectName(QStringLiteral("suspectUrl"));
  suspectUrl_->setPlaceholderText(QStringLiteral("http://host:port"));
  suspectKeyEnv_ = new QLineEdit(QStringLiteral("DISTILLERY_API_KEY"), apiWidget);
  suspectKeyEnv_->setObjectName(QStringLiteral("suspectKeyEnv"));
  suspectKeyEnv_->setToolTip(tr("The environment variable holding the API key (never the key itself)"));
  al->addWidget(suspectUrl_, 2);
  al->addWidget(new QLabel(tr("key in $"), apiWidget));
  al->addWidget(suspectKeyEnv_, 1);
  suspectStack_->addWidget(suspectRun_);
  suspectStack_->addWidget(fileWidget);
  suspectStack_->addWidget(apiWidget);
  connect(suspectKind_, &QComboBox::currentIndexChanged, suspectStack_, &QStackedWidget::setCurrentIndex);
  connect(suspectKind_, &QComboBox::currentIndexChanged, this, [this] { inputsChanged(false); });
  connect(suspectRun_, &QComboBox::currentIndexChanged, this, [this] { inputsChanged(false); });
  for (QLineEdit* edit : {suspectFile_, suspectUrl_, suspectKeyEnv_})
    connect(edit, &QLineEdit::textEdited, this, [this] { inputsChanged(false); });
  runButton_ = new QPushButton(tr("Run tests"), suspectBox);
  runButton_->setObjectName(QStringLiteral("forensicsRun"));
  runButton_->setDefault(true);
  cancelButton_ = new QPushButton(tr("Cancel"), suspectBox);
  cancelButton_->setObjectName(QStringLiteral("forensicsCancel"));
  cancelButton_->setEnabled(false);
  connect(runButton_, &QPushButton::clicked, this, [this] { runTests(); });
  connect(cancelButton_, &QPushButton::clicked, this, &ForensicsView::cancel);
  sl->addWidget(suspectKind_);
  sl->addWidget(suspectStack_, 1);
  sl->addWidget(runButton_);
  sl->addWidget(cancelButton_);

  progress_ = new QProgressBar(page);
  progress_->setTextVisible(false);
  progress_->setVisible(false); // only while a job runs
  status_ = new QLabel(page);
  status_->setObjectName(QStringLiteral("forensicsStatus"));
  auto* progressRow = new QHBoxLayout;
  progressRow->addWidget(progress_, 1);
  progressRow->addWidget(status_, 1);
  error_ = new QLabel(page);
  error_->setObjectName(QStringLiteral("forensicsError"));
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #b71c1c"));
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  // Both take a line only while they have something to say: the histograms need the room.
  status_->setVisible(false);
  error_->setVisible(false);

  resultTitle_ = new QLabel(page);
  resultTitle_->setObjectName(QStringLiteral("forensicsResultTitle"));
  resultTitle_->setWordWrap(true);
  auto* resultArea = new QWidget(page);
  results_ = new QHBoxLayout(resultArea);
  results_->setContentsMargins(0, 0, 0, 0);

  stored_ = new QTableWidget(0, 9, page);
  stored_->setObjectName(QStringLiteral("storedResults"));
  stored_->setHorizontalHeaderLabels({tr("#"), tr("when (UTC)"), tr("test"), tr("crafting"), tr("suspect"),
                                      tr("teacher"), tr("statistic"), tr("p"), tr("null")});
  stored_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  stored_->horizontalHeader()->setStretchLastSection(true);
  stored_->verticalHeader()->hide();
  stored_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  stored_->setSelectionBehavior(QAbstractItemView::SelectRows);
  stored_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  stored_->setToolTip(tr("Every result is stored with what it was computed from; pick one to see it again"));
  connect(stored_, &QTableWidget::cellClicked, this, [this](int row, int) {
    if (QTableWidgetItem* id = stored_->item(row, 0)) showStoredResult(id->data(kRunRole).toLongLong());
  });

  auto* top = new QWidget(page);
  auto* tl = new QVBoxLayout(top);
  tl->setContentsMargins(0, 0, 0, 0);
  tl->addWidget(suspectBox);
  tl->addLayout(progressRow);
  tl->addWidget(error_);
  // The result scrolls rather than squeezes: below the histograms' minimum
  // height their axes turn to "…", and a long verdict or a red error line
  // would take that room on a 1280x800 screen.
  auto* scroll = new QScrollArea(top);
  scroll->setObjectName(QStringLiteral("forensicsResultScroll"));
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* scrolled = new QWidget(scroll);
  auto* sl2 = new QVBoxLayout(scrolled);
  sl2->setContentsMargins(0, 0, 0, 0);
  sl2->addWidget(resultTitle_);
  sl2->addWidget(resultArea, 1);
  scroll->setWidget(scrolled);
  tl->addWidget(scroll, 1);
  auto* storedBox = new QGroupBox(tr("Stored results"), page);
  auto* stl = new QVBoxLayout(storedBox);
  stl->addWidget(stored_);
  auto* split = new QSplitter(Qt::Vertical, page);
  split->addWidget(top);
  split->addWidget(storedBox);
  split->setStretchFactor(0, 4);
  split->setStretchFactor(1, 1);
  split->setSizes({520, 160});
  auto* layout = new QVBoxLayout(page);
  layout->addWidget(split);
  return page;
}

// One row above the pages, for both: the crafting, and for conferrable
// crafting the two surrogate lists beside it (short, so the histograms and
// the ROC keep their room).
QWidget* ForensicsView::buildFingerprintRow(QWidget* parent) {
  auto* row = new QWidget(parent);
  row->setObjectName(QStringLiteral("fingerprintRow"));
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* left = new QVBoxLayout;
  auto* choice = new QHBoxLayout;
  crafting_ = new QComboBox(row);
  crafting_->setObjectName(QStringLiteral("fingerprintCrafting"));
  crafting_->addItem(tr("teacher (PGD on the teacher alone)"), QStringLiteral("teacher"));
  crafting_->addItem(tr("conferrable (teacher and surrogates)"), QStringLiteral("conferrable"));
  crafting_->setToolTip(tr("Conferrable crafting pulls the surrogate students towards each target and pushes the "
                           "surrogate references away from it, so the fingerprints transfer to students "
                           "(distillery-cli --fingerprint-crafting)"));
  choice->addWidget(new QLabel(tr("Fingerprint crafting:"), row));
  choice->addWidget(crafting_);
  left->addLayout(choice);
  left->addStretch(1);
  layout->addLayout(left);

  surrogates_ = new QWidget(row);
  auto* lists = new QHBoxLayout(surrogates_);
  lists->setContentsMargins(0, 0, 0, 0);
  auto surrogateList = [this, lists](const QString& name, const QString& title, const QString& help) {
    auto* column = new QVBoxLayout;
    auto* label = new QLabel(title, surrogates_);
    label->setToolTip(help);
    auto* list = new QListWidget(surrogates_);
    list->setObjectName(name);
    list->setToolTip(help);
    list->setFixedHeight(4 * (fontMetrics().height() + 2) + 6);
    column->addWidget(label);
    column->addWidget(list);
    lists->addLayout(column, 1);
    return list;
  };
  conferWith_ = surrogateList(QStringLiteral("conferWith"), tr("Surrogate students (--confer-with)"),
                              tr("Finished runs you distilled from the teacher yourself: not the suspect, not in the null"));
  conferAgainst_ = surrogateList(QStringLiteral("conferAgainst"), tr("Surrogate references (--confer-against)"),
                                 tr("Independent finished runs of the teacher's task that are not in the null"));
  layout->addWidget(surrogates_, 1);
  surrogates_->setVisible(false); // teacher crafting needs none
  layout->addStretch(0); // takes the room while the lists are hidden
  connect(crafting_, &QComboBox::currentIndexChanged, this, [this] {
    surrogates_->setVisible(fingerprintCrafting() == QStringLiteral("conferrable"));
    craftingChanged();
  });
  connect(conferWith_, &QListWidget::itemChanged, this, &ForensicsView::craftingChanged);
  connect(conferAgainst_, &QListWidget::itemChanged, this, &ForensicsView::craftingChanged);
  return row;
}

void ForensicsView::reload() {
  reloadDue_ = false;
  fillRunLists();
  reloadStored();
  recheckCalibration();
}

void ForensicsView::scheduleReload() {
  if (!isVisible()) {
    reloadDue_ = true; // read when next shown, not while nobody looks
    return;
  }
  if (reloadQueued_) return;
  reloadQueued_ = true;
  QTimer::singleShot(0, this, [this] {
    reloadQueued_ = false;
    if (isVisible()) reload();
    else reloadDue_ = true;
  });
}

void ForensicsView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  // Shown again (its tab picked, the window restored): read the store, which
  // the CLI or another window may have changed without the run table knowing.
  if (!event->spontaneous() || reloadDue_) reload();
}

void ForensicsView::fillRunLists() {
  const auto runs = store_.runs();
  // While runs train the window re-reads the store every few seconds; the
  // lists are rebuilt only when what they show changed, so a scrolled or
  // half-clicked list is left alone.
  std::string shown;
  for (const auto& r : runs)
    shown += std::to_string(r.id) + ' ' + toString(r.status) + ' ' + std::to_string(r.teacher_run_id) + ' ' + r.task +
             ' ' + r.name + '\n';
  if (!shown.empty() && shown == listedRuns_) return;
  listedRuns_ = shown;
  const QList<int64_t> keepNull = nullRuns();
  const bool first = null_->count() == 0;
  const int64_t teacherBefore = teacherRunId();
  {
    const QSignalBlocker block(teacherRun_);
    fillRunCombo(teacherRun_, runs);
    if (first) { // the run that taught the most runs is the likeliest reference
      std::map<int64_t, int> taught;
      for (const auto& r : runs)
        if (r.teacher_run_id > 0) ++taught[r.teacher_run_id];
      int64_t best = 0;
      for (const auto& [id, n] : taught)
        if (best == 0 || n > taught[best]) best = id;
      if (teacherRun_->findData(qint64(best)) >= 0) teacherRun_->setCurrentIndex(teacherRun_->findData(qint64(best)));
    }
  }
  fillRunCombo(suspectRun_, runs);
  fillRunChecks(null_, runs, keepNull);
  // The surrogates are always the user's choice: ticks stay while their runs do.
  fillRunChecks(conferWith_, runs, surrogateStudents(), teacherRunId());
  fillRunChecks(conferAgainst_, runs, surrogateReferences());
  // A preselected null follows the store (new independent runs join it); a
  // chosen one keeps its ticks, and runs new since are left for the user to tick.
  // The teacher gone from the store: the null chosen for it goes too.
  if (!first && (!nullChosen_ || teacherRunId() != teacherBefore)) preselectNull(runs);
  if (first) {
    preselectNull(runs);
    // The likeliest suspect: a student of the teacher, else a run outside the null.
    const int64_t teacher = teacherRunId();
    const QList<int64_t> null = nullRuns();
    int64_t suspect = 0;
    for (const auto& r : runs)
      if (usable(r) && r.id != teacher && !null.contains(r.id) && (suspect == 0 || r.teacher_run_id == teacher)) {
        suspect = r.id;
        if (r.teacher_run_id == teacher) break;
      }
    if (suspectRun_->findData(qint64(suspect)) >= 0) suspectRun_->setCurrentIndex(suspectRun_->findData(qint64(suspect)));
  }
  updateNullNote();
  calibration_->setRuns(runs, teacherRunId(), nullRuns(), activeSurrogates());
}

int64_t ForensicsView::teacherRunId() const {
  return teacherKind_->currentIndex() == 0 ? teacherRun_->currentData().toLongLong() : 0;
}

void ForensicsView::preselectNull(const std::vector<distillery::RunRecord>& runs) {
  const auto c = distillery::forensicCandidates(runs, teacherRunId());
  QList<int64_t> ids;
  for (const auto& i : c.independent) ids.append(i.run_id);
  setNull(ids);
  nullChosen_ = false; // preselected, not chosen: it follows the store
}

void ForensicsView::updateNullNote() {
  const int n = int(nullRuns().size());
  QString note = tr("%1 selected: the smallest possible p is 1/%2 = %3.").arg(n).arg(n + 1).arg(1.0 / (n + 1), 0, 'g', 3);
  if (1.0 / (n + 1) > kForensicLevel)
    note += tr(" Too few to reach p ≤ %1: select at least %2.").arg(kForensicLevel).arg(forensicNullNeeded());
  nullNote_->setText(note);
}

void ForensicsView::reloadStored() {
  std::vector<distillery::ForensicResult> results;
  try {
    results = store_.forensicResults();
  } catch (const std::exception& e) {
    setError(QString::fromUtf8(e.what()));
  }
  std::vector<int64_t> ids; // results are added (or deleted), never changed: the ids say what is listed
  for (const auto& r : results) ids.push_back(r.id);
  if (!ids.empty() && ids == listedResults_) return;
  listedResults_ = ids;
  stored_->setRowCount(0);
  for (auto it = results.rbegin(); it != results.rend(); ++it) { // newest first
    const auto& r = *it;
    const int row = stored_->rowCount();
    stored_->insertRow(row);
    auto* id = new QTableWidgetItem(QString::number(r.id));
    id->setData(kRunRole, qint64(r.id));
    const bool skipped = r.result.contains("skipped");
    // How the fingerprints were crafted, as stored; results from before conferrable crafting were on the teacher.
    const QString crafting = r.kind == "fingerprint"
                                 ? QString::fromStdString(r.inputs.value("fingerprint", nlohmann::json::object())
                                                              .value("crafting", std::string("teacher")))
                                 : QStringLiteral("-");
    const QStringList cells = {
        QString::fromStdString(r.created_at), QString::fromStdString(r.kind), crafting, forensicModelLabel(r.suspect),
        forensicModelLabel(r.reference),
        skipped ? tr("skipped") : QString::number(r.result.value("statistic", 0.0), 'g', 4),
        skipped ? QString() : QString::number(r.result.value("p_value", 1.0), 'g', 3),
        skipped ? QString() : QString::number(r.result.value("null_size", int64_t(0)))};
    stored_->setItem(row, 0, id);
    for (int c = 0; c < cells.size(); ++c) stored_->setItem(row, c + 1, new QTableWidgetItem(cells[c]));
  }
}

void ForensicsView::setTeacherRun(int64_t runId) {
  teacherKind_->setCurrentIndex(0);
  teacherRun_->setCurrentIndex(teacherRun_->findData(qint64(runId)));
}
void ForensicsView::setTeacherFile(const QString& path) {
  teacherKind_->setCurrentIndex(1);
  teacherFile_->setText(path);
}
void ForensicsView::setSuspectRun(int64_t runId) {
  suspectKind_->setCurrentIndex(0);
  suspectRun_->setCurrentIndex(suspectRun_->findData(qint64(runId)));
}
void ForensicsView::setSuspectFile(const QString& path) {
  suspectKind_->setCurrentIndex(1);
  suspectFile_->setText(path);
}
void ForensicsView::setSuspectApi(const QString& url, const QString& keyEnv) {
  suspectKind_->setCurrentIndex(2);
  suspectUrl_->setText(url);
  suspectKeyEnv_->setText(keyEnv);
}
void ForensicsView::setNull(const QList<int64_t>& runIds) {
  nullChosen_ = true;
  const QList<int64_t> before = nullRuns();
  setRunChecks(null_, runIds);
  updateNullNote();
  refreshCalibrationRuns(); // its lists leave the null out
  if (nullRuns() != before) inputsChanged(true);
  else recheckCalibration();
}
QList<int64_t> ForensicsView::nullRuns() const { return checkedRuns(null_); }
void ForensicsView::setFingerprintCrafting(const QString& crafting) {
  crafting_->setCurrentIndex(std::max(0, crafting_->findData(crafting)));
}
QString ForensicsView::fingerprintCrafting() const { return crafting_->currentData().toString(); }
void ForensicsView::setSurrogateStudents(const QList<int64_t>& runIds) {
  setRunChecks(conferWith_, runIds);
  craftingChanged();
}
void ForensicsView::setSurrogateReferences(const QList<int64_t>& runIds) {
  setRunChecks(conferAgainst_, runIds);
  craftingChanged();
}
QList<int64_t> ForensicsView::surrogateStudents() const { return checkedRuns(conferWith_); }
QList<int64_t> ForensicsView::surrogateReferences() const { return checkedRuns(conferAgainst_); }
void ForensicsView::setTests(const QStringList& tests) {
  for (auto it = tests_.begin(); it != tests_.end(); ++it) it.value()->setChecked(tests.contains(it.key()));
}
void ForensicsView::setInputs(int inputs) { inputs_->setValue(inputs); }
void ForensicsView::setSeed(int seed) { seed_->setValue(seed); }

distillery::ForensicRequest ForensicsView::request() const {
  distillery::ForensicRequest r;
  switch (suspectKind_->currentIndex()) {
  case 0: r.suspect = suspectRun_->currentIndex() >= 0 ? "run:" + std::to_string(suspectRun_->currentData().toLongLong()) : ""; break;
  case 1: r.suspect = suspectFile_->text().trimmed().toStdString(); break;
  default:
    r.suspect = suspectUrl_->text().trimmed().toStdString();
    r.api_key_env = suspectKeyEnv_->text().trimmed().toStdString();
  }
  r.teacher = teacherKind_->currentIndex() == 0
                  ? (teacherRun_->currentIndex() >= 0 ? "run:" + std::to_string(teacherRun_->currentData().toLongLong()) : "")
                  : teacherFile_->text().trimmed().toStdString();
  r.null = sortedIds(nullRuns()); // the stored inputs and statistics follow this order
  r.fingerprint.crafting = fingerprintCrafting().toStdString();
  if (r.fingerprint.crafting == "conferrable") { // hidden ticks do not count; core checks what is missing
    r.fingerprint.confer_with = sortedIds(surrogateStudents());
    r.fingerprint.confer_against = sortedIds(surrogateReferences());
  }
  r.tests.clear();
  for (const char* t : kTests)
    if (tests_[QString::fromLatin1(t)]->isChecked()) r.tests.emplace_back(t);
  r.inputs = inputs_->value();
  r.seed = uint64_t(seed_->value());
  return r;
}

bool ForensicsView::runTests() {
  if (thread_) return false;
  const distillery::ForensicRequest r = request();
  if (r.suspect.empty()) {
    setError(tr("Choose a suspect: a finished run, a TorchScript file or an API URL."));
    return false;
  }
  if (r.teacher.empty()) {
    setError(tr("Choose the reference teacher: a finished run or a TorchScript file."));
    return false;
  }
  if (r.tests.empty()) {
    setError(tr("Tick at least one test."));
    return false;
  }
  if (r.null.empty()) {
    setError(tr("Tick the independent runs of the null: a p-value needs them."));
    return false;
  }
  setError({});
  job_ = Job::Tests;
  startJob([r](ForensicsWorker* w) { w->runTests(r); });
  return true;
}

bool ForensicsView::runCalibration() {
  if (thread_) return false;
  distillery::CalibrationRequest r;
  const distillery::ForensicRequest shared = request();
  r.teacher = shared.teacher;
  r.null = shared.null;
  r.tests = shared.tests;
  r.fingerprint = shared.fingerprint; // the crafting row is both pages' (core checks it as for a single test)
  r.inputs = shared.inputs;
  r.seed = shared.seed;
  calibration_->fillRequest(r);
  const QString missing = calibrationMissing();
  calibrationMissing_ = missing;
  calibration_->setError(missing);
  if (!missing.isEmpty()) return false;
  job_ = Job::Calibration;
  startJob([r](ForensicsWorker* w) { w->runCalibration(r); });
  return true;
}

QString ForensicsView::calibrationMissing() const {
  const distillery::ForensicRequest shared = request();
  if (shared.teacher.empty()) return tr("Choose the reference teacher.");
  if (shared.null.empty()) return tr("Tick the independent runs of the null.");
  if (shared.tests.empty()) return tr("Tick at least one test.");
  if (calibration_->positives().isEmpty()) return tr("Tick the positives: runs distilled from the teacher.");
  if (calibration_->negatives().isEmpty()) return tr("Tick the negatives: independent runs that are not in the null.");
  return {};
}

QList<int64_t> ForensicsView::activeSurrogates() const {
  if (fingerprintCrafting() != QStringLiteral("conferrable")) return {}; // hidden ticks do not count
  return surrogateStudents() + surrogateReferences();
}

void ForensicsView::refreshCalibrationRuns() {
  calibration_->setRuns(store_.runs(), teacherRunId(), nullRuns(), activeSurrogates());
}

void ForensicsView::craftingChanged() {
  refreshCalibrationRuns(); // surrogates are no default positives or negatives
  inputsChanged(true);
}

void ForensicsView::inputsChanged(bool calibration) {
  // A page's error complained about the inputs it ran on: once they change it is stale.
  if (!thread_) setError({});
  if (calibration) calibrationInputsChanged();
}

void ForensicsView::calibrationInputsChanged() {
  if (!thread_ && !calibration_->errorText().isEmpty() && calibration_->errorText() != calibrationMissing_)
    calibration_->setError({});
  recheckCalibration();
}

void ForensicsView::recheckCalibration() {
  // The page's own "Tick…" error follows the choice.
  if (calibrationMissing_.isEmpty() || calibration_->errorText() != calibrationMissing_) return;
  calibrationMissing_ = calibrationMissing();
  calibration_->setError(calibrationMissing_);
}

void ForensicsView::startJob(const std::function<void(ForensicsWorker*)>& work) {
  worker_ = std::make_unique<ForensicsWorker>(QString::fromStdString(store_.path()));
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("forensics"));
  worker_->moveToThread(thread_);
  ForensicsWorker* w = worker_.get();
  connect(thread_, &QThread::started, w, [w, work] { work(w); });
  connect(w, &ForensicsWorker::progress, this, &ForensicsView::onProgress);
  connect(w, &ForensicsWorker::testsDone, this, &ForensicsView::onTestsDone);
  connect(w, &ForensicsWorker::calibrationDone, this, [this](const QString& result) {
    try {
      calibration_->showResult(result);
    } catch (const std::exception& e) {
      calibration_->setError(QString::fromUtf8(e.what()));
    }
    Q_EMIT calibrationDone();
  });
  connect(w, &ForensicsWorker::failed, this, &ForensicsView::onFailed);
  connect(w, &ForensicsWorker::finished, this, &ForensicsView::onFinished);
  runButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  progress_->setVisible(true);
  calibration_->setBusy(true);
  setStatus(tr("starting…"));
  thread_->start();
}

void ForensicsView::cancel() {
  if (!worker_) return;
  worker_->cancel();
  setStatus(tr("cancelling…"));
}

void ForensicsView::onProgress(const QString& step, qint64 done, qint64 total) {
  progress_->setRange(0, int(std::max<qint64>(1, total)));
  progress_->setValue(int(done));
  setStatus(step);
  calibration_->setProgress(step, done, total);
}

void ForensicsView::onTestsDone(const QString& sessionJson) {
  const nlohmann::json s = nlohmann::json::parse(sessionJson.toStdString());
  QString title = tr("Suspect %1 against teacher %2, null of %3 independent runs (%4 queries to the suspect)")
                      .arg(QString::fromStdString(s["suspect_description"].get<std::string>()),
                           forensicModelLabel(s["teacher"].get<std::string>()))
                      .arg(s["null"].size())
                      .arg(s["suspect_queries"].get<int64_t>());
  const QString crafting = forensicCraftingText(s.value("inputs", nlohmann::json::object()));
  if (!crafting.isEmpty()) title += QStringLiteral("; ") + crafting;
  resultTitle_->setText(title);
  showResults(s["results"], s["teacher"].get<std::string>());
  reloadStored();
  Q_EMIT testsDone();
}

void ForensicsView::showResults(const nlohmann::json& results, const std::string& teacher) {
  while (QLayoutItem* item = results_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  verdicts_.clear();
  details_.clear();
  for (const auto& r : results) {
    const QString test = QString::fromStdString(r.value("test", std::string()));
    auto* box = new QWidget;
    auto* bl = new QVBoxLayout(box);
    bl->setContentsMargins(0, 0, 0, 0);
    auto* chart = new QChartView(new QChart, box);
    chart->setObjectName(QStringLiteral("nullHistogram_%1").arg(test));
    chart->setRenderHint(QPainter::Antialiasing);
    chart->setMinimumSize(240, kHistogramMinHeight); // the result area scrolls below this
    chart->chart()->legend()->setAlignment(Qt::AlignBottom);
    drawNullHistogram(chart->chart(), r);
    auto* verdict = new QLabel(forensicVerdict(r, teacher), box);
    verdict->setObjectName(QStringLiteral("verdict_%1").arg(test));
    verdict->setWordWrap(true);
    const bool copy = !r.contains("skipped") && r.value("p_value", 1.0) <= kForensicLevel;
    verdict->setStyleSheet(copy ? QStringLiteral("font-weight: bold; color: #b71c1c")
                                : QStringLiteral("font-weight: bold"));
    auto* details = new QLabel(forensicDetails(r), box);
    details->setObjectName(QStringLiteral("details_%1").arg(test));
    details->setWordWrap(true);
    bl->addWidget(chart, 1);
    bl->addWidget(verdict);
    bl->addWidget(details);
    results_->addWidget(box, 1);
    verdicts_[test] = verdict;
    details_[test] = details;
  }
}

bool ForensicsView::showStoredResult(int64_t resultId) {
  for (const auto& r : store_.forensicResults()) {
    if (r.id != resultId) continue;
    QString title = tr("Stored result #%1 (%2): suspect %3 against teacher %4, null runs %5, %6 inputs, seed %7")
                        .arg(r.id)
                        .arg(QString::fromStdString(r.created_at), forensicModelLabel(r.suspect),
                             forensicModelLabel(r.reference),
                             QString::fromStdString(r.inputs.value("null", nlohmann::json::array()).dump()))
                        .arg(r.inputs.value("inputs", int64_t(0)))
                        .arg(r.inputs.value("seed", uint64_t(0)));
    if (r.kind == "fingerprint") title += QStringLiteral("; ") + forensicCraftingText(r.inputs);
    resultTitle_->setText(title);
    showResults(nlohmann::json::array({r.result}), r.reference);
    return true;
  }
  return false;
}

void ForensicsView::onFailed(const QString& message, bool cancelled) {
  // Each page says its own job's failure: a refused calibration is no news on the Test page.
  if (job_ == Job::Calibration) calibration_->setError(message);
  else if (cancelled) setStatus(message);
  else setError(message);
  Q_EMIT failed(message);
}

void ForensicsView::onFinished() {
  thread_->quit();
  thread_->wait();
  delete thread_;
  thread_ = nullptr;
  worker_.reset();
  job_ = Job::None;
  runButton_->setEnabled(true);
  cancelButton_->setEnabled(false);
  calibration_->setBusy(false);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setVisible(false);
  if (status_->text() != tr("Cancelled; nothing was stored.")) setStatus({});
  Q_EMIT jobFinished();
}

void ForensicsView::setError(const QString& message) {
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
}
void ForensicsView::setStatus(const QString& text) {
  status_->setText(text);
  status_->setVisible(!text.isEmpty());
}
QString ForensicsView::errorText() const { return error_->text(); }
QString ForensicsView::statusText() const { return status_->text(); }
QString ForensicsView::resultTitleText() const { return resultTitle_->text(); }
QString ForensicsView::nullNoteText() const { return nullNote_->text(); }
QString ForensicsView::verdictText(const QString& test) const {
  const QLabel* l = verdicts_.value(test);
  return l ? l->text() : QString();
}
QString ForensicsView::detailsText(const QString& test) const {
  const QLabel* l = details_.value(test);
  return l ? l->text() : QString();
}

} // namespace distillery::gui
