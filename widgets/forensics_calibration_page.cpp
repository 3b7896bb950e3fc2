#include "widgets/forensics_calibration_page.h"

#include "core/forensics/detection_roc.h"
#include "core/forensics/forensic_candidates.h"
#include "widgets/forensics_charts.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace distillery::gui {

namespace {

constexpr int kRunRole = Qt::UserRole;
constexpr int kKindRole = Qt::UserRole + 1;

QList<int64_t> ticked(const QListWidget* list) {
  QList<int64_t> ids;
  for (int i = 0; i < list->count(); ++i)
    if (list->item(i)->checkState() == Qt::Checked) ids.append(list->item(i)->data(kRunRole).toLongLong());
  return ids;
}

void tick(QListWidget* list, const QList<int64_t>& ids) {
  for (int i = 0; i < list->count(); ++i)
    list->item(i)->setCheckState(ids.contains(list->item(i)->data(kRunRole).toLongLong()) ? Qt::Checked : Qt::Unchecked);
}

QString median(std::vector<int64_t> q) {
  q.erase(std::remove(q.begin(), q.end(), int64_t(-1)), q.end());
  if (q.empty()) return QStringLiteral("—");
  std::sort(q.begin(), q.end());
  return QString::number(q[q.size() / 2]);
}

} // namespace

ForensicsCalibrationPage::ForensicsCalibrationPage(QWidget* parent) : QWidget(parent) {
  positives_ = new QListWidget(this);
  positives_->setObjectName(QStringLiteral("calibrationPositives"));
  negatives_ = new QListWidget(this);
  negatives_->setObjectName(QStringLiteral("calibrationNegatives"));
  auto* lists = new QGridLayout;
  auto* posLabel = new QLabel(tr("Positives: copies of the teacher (preselected: its students, by method)"), this);
  auto* negLabel = new QLabel(tr("Negatives: independent runs not in the null"), this);
  posLabel->setWordWrap(true);
  negLabel->setWordWrap(true);
  lists->addWidget(posLabel, 0, 0);
  lists->addWidget(negLabel, 0, 1);
  lists->addWidget(positives_, 1, 0);
  lists->addWidget(negatives_, 1, 1);
  // Short, so the ROC keeps its room under the tab's crafting row.
  positives_->setMaximumHeight(115);
  negatives_->setMaximumHeight(115);

  evaluate_ = new QPushButton(tr("Evaluate tests"), this);
  evaluate_->setObjectName(QStringLiteral("calibrationEvaluate"));
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName(QStringLiteral("calibrationCancel"));
  cancel_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setTextVisible(false);
  progress_->setVisible(false); // only while evaluating
  status_ = new QLabel(this);
  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("calibrationError"));
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #b71c1c"));
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setVisible(false); // a line only while it has something to say
  warning_ = new QLabel(this);
  warning_->setObjectName(QStringLiteral("calibrationWarning"));
  warning_->setWordWrap(true);
  warning_->setStyleSheet(QStringLiteral("color: #8d6e00"));
  title_ = new QLabel(this);
  title_->setObjectName(QStringLiteral("calibrationResultTitle"));
  title_->setWordWrap(true);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  title_->setVisible(false); // until a result says what it was computed from
  auto update = [this](QMap<int64_t, bool>& chosen, QListWidgetItem* item) {
    chosen[item->data(kRunRole).toLongLong()] = item->checkState() == Qt::Checked; // the user's word from now on
    updateWarning();
    Q_EMIT selectionChanged();
  };
  connect(positives_, &QListWidget::itemChanged, this, [this, update](QListWidgetItem* i) { update(chosenPositives_, i); });
  connect(negatives_, &QListWidget::itemChanged, this, [this, update](QListWidgetItem* i) { update(chosenNegatives_, i); });
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(evaluate_);
  buttons->addWidget(cancel_);
  buttons->addWidget(progress_, 1);
  buttons->addWidget(status_, 1);
  connect(evaluate_, &QPushButton::clicked, this, &ForensicsCalibrationPage::evaluateRequested);
  connect(cancel_, &QPushButton::clicked, this, &ForensicsCalibrationPage::cancelRequested);

  chart_ = new QChartView(new QChart, this);
  chart_->setObjectName(QStringLiteral("rocChart"));
  chart_->setRenderHint(QPainter::Antialiasing);
  chart_->setMinimumSize(380, 320);
  drawRocCurves(chart_->chart(), {});
  table_ = new QTableWidget(0, 7, this);
  table_->setObjectName(QStringLiteral("calibrationTable"));
  table_->setHorizontalHeaderLabels({tr("test"), tr("copies by"), tr("copies"), tr("indep."), tr("AUC"),
                                     tr("TPR@1%FPR"), tr("queries")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  auto* note = new QLabel(tr("The curve of each test pools every kind of copy (rows \"all\"). TPR@1%FPR: "
                             "copies caught when at most 1% of the independent runs are flagged (none, with "
                             "fewer than 100). Queries: the median number of probe inputs at which a copy's p "
                             "reaches 1/(null size + 1)."),
                          this);
  note->setWordWrap(true);
  auto* right = new QWidget(this);
  auto* rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(table_, 1);
  rightLayout->addWidget(note);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(chart_);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({450, 450});

  // The page scrolls rather than squeezes the ROC below its minimum (its axes
  // would turn to "…") when a warning or a red error line takes a few lines.
  auto* content = new QWidget(this);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(scroll);
  auto* layout = new QVBoxLayout(content);
  layout->addLayout(lists);
  layout->addWidget(warning_);
  layout->addLayout(buttons);
  layout->addWidget(error_);
  layout->addWidget(title_);
  layout->addWidget(split, 1);
  scroll->setWidget(content);
}

void ForensicsCalibrationPage::setRuns(const std::vector<distillery::RunRecord>& runs, int64_t teacher,
                                       const QList<int64_t>& null, const QList<int64_t>& surrogates) {
  if (teacher != teacher_) { // other copies to tell apart: the defaults again
    chosenPositives_.clear();
    chosenNegatives_.clear();
  }
  const QList<int64_t> beforePos = positives(), beforeNeg = negatives();
  teacher_ = teacher;
  const distillery::ForensicCandidates c = distillery::forensicCandidates(runs, teacher);
  std::map<int64_t, std::string> studentKind;
  for (const auto& s : c.students) studentKind[s.run_id] = s.kind;
  QList<int64_t> independent;
  for (const auto& i : c.independent) independent.append(i.run_id);
  const QSignalBlocker blockPos(positives_), blockNeg(negatives_); // one selectionChanged at the end
  positives_->clear();
  negatives_->clear();
  std::vector<distillery::RunRecord> ordered; // the teacher's students first
  for (const auto& r : runs)
    if (studentKind.count(r.id)) ordered.push_back(r);
  for (const auto& r : runs)
    if (!studentKind.count(r.id)) ordered.push_back(r);
  auto checkable = [](QListWidgetItem* item, int64_t id, bool ticked) {
    item->setData(kRunRole, qint64(id));
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(ticked ? Qt::Checked : Qt::Unchecked);
  };
  for (const distillery::RunRecord& r : ordered) {
    if (r.id == teacher || r.status != distillery::RunStatus::Finished || r.task == "lm") continue;
    if (null.contains(r.id)) continue; // the null's runs are independent by the user's word: neither copy nor held out
    const auto k = studentKind.find(r.id);
    const bool student = k != studentKind.end();
    const QString kind = student ? QString::fromStdString(k->second)
                                 : QString::fromStdString(r.task == "train" ? "other" : r.task);
    const QString name = QStringLiteral("#%1 %2").arg(r.id).arg(QString::fromStdString(r.name));
    const bool surrogate = surrogates.contains(r.id);
    auto* pos = new QListWidgetItem(student ? QStringLiteral("%1 — %2").arg(name, kind) : name, positives_);
    pos->setData(kKindRole, kind);
    checkable(pos, r.id, chosenPositives_.value(r.id, student && !surrogate));
    if (!student)
      checkable(new QListWidgetItem(name, negatives_), r.id,
                chosenNegatives_.value(r.id, independent.contains(r.id) && !surrogate));
  }
  updateWarning();
  if (positives() != beforePos || negatives() != beforeNeg) Q_EMIT selectionChanged();
}

void ForensicsCalibrationPage::setPositives(const QList<int64_t>& runIds) {
  {
    const QSignalBlocker block(positives_);
    tick(positives_, runIds);
  }
  for (int i = 0; i < positives_->count(); ++i) // said explicitly: the user's choice for every listed run
    chosenPositives_[positives_->item(i)->data(kRunRole).toLongLong()] = positives_->item(i)->checkState() == Qt::Checked;
  updateWarning();
  Q_EMIT selectionChanged();
}
void ForensicsCalibrationPage::setNegatives(const QList<int64_t>& runIds) {
  {
    const QSignalBlocker block(negatives_);
    tick(negatives_, runIds);
  }
  for (int i = 0; i < negatives_->count(); ++i)
    chosenNegatives_[negatives_->item(i)->data(kRunRole).toLongLong()] = negatives_->item(i)->checkState() == Qt::Checked;
  updateWarning();
  Q_EMIT selectionChanged();
}

void ForensicsCalibrationPage::updateWarning() {
  const qsizetype p = positives().size(), n = negatives().size();
  if (p == 0 || n == 0 || (p >= kEnoughPerSide && n >= kEnoughPerSide)) {
    warning_->clear(); // none ticked is the error's to say
    return;
  }
  warning_->setText(tr("Only %1 positive(s) and %2 negative(s): the AUC can only be a multiple of 1/%3 "
                       "(1/(positives × negatives)), and one model more or less swings it by up to %4. "
                       "Tick at least %5 of each (train more students and independent runs) before "
                       "trusting the numbers.")
                        .arg(p)
                        .arg(n)
                        .arg(p * n)
                        .arg(QString::number(1.0 / double(std::min(p, n)), 'g', 2))
                        .arg(kEnoughPerSide));
}

QString ForensicsCalibrationPage::warningText() const { return warning_->text(); }
QList<int64_t> ForensicsCalibrationPage::positives() const { return ticked(positives_); }
QList<int64_t> ForensicsCalibrationPage::negatives() const { return ticked(negatives_); }

void ForensicsCalibrationPage::fillRequest(distillery::CalibrationRequest& request) const {
  for (int i = 0; i < positives_->count(); ++i) {
    const QListWidgetItem* item = positives_->item(i);
    if (item->checkState() == Qt::Checked)
      request.positives.emplace_back(item->data(kKindRole).toString().toStdString(), item->data(kRunRole).toLongLong());
  }
  for (int64_t id : negatives()) request.negatives.push_back(id);
}

void ForensicsCalibrationPage::showResult(const QString& resultJson) {
  const nlohmann::json result = nlohmann::json::parse(resultJson.toStdString());
  const nlohmann::json& inputs = result.at("inputs");
  rows_ = result.at("rows");
  const nlohmann::json& rows = rows_;
  int64_t copies = 0;
  const nlohmann::json kinds = inputs.value("positives", nlohmann::json::object());
  for (const auto& [kind, ids] : kinds.items()) copies += int64_t(ids.size());
  QString title = tr("Teacher %1, null of %2 independent runs, %3 copies and %4 independent runs, %5 inputs per test")
                      .arg(forensicModelLabel(inputs.value("teacher", std::string())))
                      .arg(inputs.value("null", nlohmann::json::array()).size())
                      .arg(copies)
                      .arg(inputs.value("negatives", nlohmann::json::array()).size())
                      .arg(inputs.value("inputs", int64_t(0)));
  const QString crafting = forensicCraftingText(inputs); // as the Test page's title says it
  if (!crafting.isEmpty()) title += QStringLiteral("; ") + crafting;
  title_->setText(title);
  title_->setVisible(true);
  // Per test, every kind pooled: one curve, one AUC.
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> pos, neg;
  for (const auto& r : rows) {
    const std::string test = r["test"].get<std::string>();
    if (!pos.count(test)) order.push_back(test);
    auto& p = pos[test];
    const auto scores = r["positive_scores"].get<std::vector<double>>();
    p.insert(p.end(), scores.begin(), scores.end());
    neg[test] = r["negative_scores"].get<std::vector<double>>();
  }
  auc_.clear();
  std::vector<RocSeries> curves;
  table_->setRowCount(0);
  auto addRow = [this](const QStringList& cells) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
  };
  for (const std::string& test : order) {
    const QString name = QString::fromStdString(test);
    const auto& p = pos[test];
    const auto& n = neg[test];
    if (!p.empty() && !n.empty()) {
      const double auc = distillery::rocAuc(p, n);
      auc_[name] = auc;
      RocSeries s;
      s.name = name; // its AUC is in the table's "all" row (a longer legend is cut)
      for (const auto& pt : distillery::rocCurve(p, n)) s.points.append({pt.fpr, pt.tpr});
      curves.push_back(s);
      std::vector<int64_t> queries;
      for (const auto& r : rows)
        if (r["test"] == test) {
          const auto q = r["queries_for_decision"].get<std::vector<int64_t>>();
          queries.insert(queries.end(), q.begin(), q.end());
        }
      addRow({name, tr("all"), QString::number(p.size()), QString::number(n.size()), QString::number(auc, 'f', 3),
              QString::number(distillery::tprAtFpr(p, n, 0.01), 'f', 3), median(queries)});
    }
    for (const auto& r : rows) {
      if (r["test"] != test) continue;
      const bool tested = r["positives"].get<int64_t>() > 0;
      QString copies = QString::number(r["positives"].get<int64_t>());
      if (r["skipped"].get<int64_t>() > 0) copies += tr(" (%1 label-only skipped)").arg(r["skipped"].get<int64_t>());
      addRow({QString(), QString::fromStdString(r["kind"].get<std::string>()), copies,
              QString::number(r["negatives"].get<int64_t>()),
              tested ? QString::number(r["auc"].get<double>(), 'f', 3) : QStringLiteral("—"),
              tested ? QString::number(r["tpr_at_1pct_fpr"].get<double>(), 'f', 3) : QStringLiteral("—"),
              median(r["queries_for_decision"].get<std::vector<int64_t>>())});
    }
  }
  drawRocCurves(chart_->chart(), curves);
}

double ForensicsCalibrationPage::auc(const QString& test) const {
  return auc_.value(test, std::numeric_limits<double>::quiet_NaN());
}

void ForensicsCalibrationPage::setBusy(bool busy) {
  evaluate_->setEnabled(!busy);
  cancel_->setEnabled(busy);
  progress_->setVisible(busy);
  if (!busy) {
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_->clear();
  }
}

void ForensicsCalibrationPage::setProgress(const QString& step, qint64 done, qint64 total) {
  progress_->setRange(0, int(std::max<qint64>(1, total)));
  progress_->setValue(int(done));
  status_->setText(step);
}

QString ForensicsCalibrationPage::resultTitleText() const { return title_->text(); }

void ForensicsCalibrationPage::setError(const QString& message) {
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
}
QString ForensicsCalibrationPage::errorText() const { return error_->text(); }

} // namespace distillery::gui
