#include "widgets/run_summary_view.h"

#include <QTreeWidgetItemIterator>

#include "widgets/run_table_model.h"

#include <QEvent>
#include <QHeaderView>
#include <QStyle>
#include <QLocale>

#include <algorithm>
#include <cmath>

namespace distillery::gui {

namespace {

// Digit groups separated by thin spaces: unambiguous in every locale.
QString grouped(double integral) {
  static const QLocale english(QLocale::English, QLocale::UnitedStates);
  return english.toString(integral, 'f', 0).replace(u',', QChar(0x2009));
}

void addJson(QTreeWidgetItem* parent, const QString& key, const nlohmann::json& value) {
  auto* item = new QTreeWidgetItem(parent, {key});
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      addJson(item, QString::fromStdString(it.key()), it.value());
    item->setExpanded(true);
  } else if (value.is_array() && !value.empty() && (value.front().is_object() || value.front().is_array())) {
    for (size_t i = 0; i < value.size(); ++i) addJson(item, QString::number(i), value[i]);
    item->setExpanded(true);
  } else {
    item->setText(1, formatSummaryValue(value));
    item->setToolTip(1, QString::fromStdString(value.dump()));
  }
}

QTreeWidgetItem* section(QTreeWidget* tree, const QString& title) {
  auto* item = new QTreeWidgetItem(tree, {title});
  QFont font = item->font(0);
  font.setBold(true);
  item->setFont(0, font);
  item->setFirstColumnSpanned(true);
  item->setExpanded(true);
  return item;
}

void addText(QTreeWidgetItem* parent, const QString& key, const std::string& value) {
  if (!value.empty()) new QTreeWidgetItem(parent, {key, QString::fromStdString(value)});
}

// Tags, the star and the notes, each line of the notes a row of its own
// (the rows are of uniform height), so multi-line notes read as typed.
void addNotes(QTreeWidgetItem* record, const distillery::RunRecord& run) {
  QStringList tags;
  for (const std::string& tag : run.tags) tags << QString::fromStdString(tag);
  if (!tags.isEmpty()) new QTreeWidgetItem(record, {QObject::tr("tags"), tags.join(QStringLiteral(", "))});
  if (run.starred) new QTreeWidgetItem(record, {QObject::tr("starred"), QObject::tr("yes")});
  if (run.notes.empty()) return;
  const QString notes = QString::fromStdString(run.notes);
  const QStringList lines = notes.split(u'\n');
  auto* item = new QTreeWidgetItem(record, {QObject::tr("notes"), lines.front()});
  item->setToolTip(1, notes);
  for (qsizetype i = 1; i < lines.size(); ++i) {
    auto* line = new QTreeWidgetItem(record, {QString(), lines[i]});
    line->setToolTip(1, notes);
  }
}

} // namespace

QString formatSummaryValue(const nlohmann::json& value) {
  if (value.is_string()) return QString::fromStdString(value.get<std::string>());
  if (value.is_boolean()) return value.get<bool>() ? QStringLiteral("yes") : QStringLiteral("no");
  if (value.is_number_integer()) return grouped(double(value.get<int64_t>()));
  if (value.is_number()) {
    const double v = value.get<double>();
    if (!std::isfinite(v)) return QString::fromStdString(value.dump());
    // Counts and FLOPs read better whole and grouped than in exponent form.
    if (std::fabs(v) >= 1e4) return grouped(std::round(v));
    return QString::number(v, 'g', 4);
  }
  if (value.is_null()) return QStringLiteral("—");
  return QString::fromStdString(value.dump());
}

RunSummaryView::RunSummaryView(QWidget* parent) : QTreeWidget(parent) {
  setColumnCount(2);
  setHeaderLabels({tr("Key"), tr("Value")});
  // The key column is fitted (fitKeyColumn); the value takes the rest.
  header()->setSectionResizeMode(0, QHeaderView::Interactive);
  header()->setStretchLastSection(true);
  setTextElideMode(Qt::ElideMiddle);
  setRootIsDecorated(true);
  setAlternatingRowColors(true);
  setUniformRowHeights(true);
  setSelectionMode(QAbstractItemView::ContiguousSelection);
}

void RunSummaryView::showNothing(const QString& hint) {
  clear();
  record_ = wallTime_ = nullptr;
  shown_ = {};
  auto* item = new QTreeWidgetItem(this, {hint});
  item->setFirstColumnSpanned(true);
  item->setForeground(0, QColor(0x777777));
}

void RunSummaryView::showRun(const distillery::RunRecord& run, double latestPointWallS) {
  clear();
  shown_ = run;
  wallTime_ = nullptr;
  QTreeWidgetItem* record = section(this, tr("Run #%1").arg(run.id));
  record_ = record;
  addText(record, tr("name"), run.name);
  addText(record, tr("status"), distillery::toString(run.status));
  addText(record, tr("task"), run.task);
  addText(record, tr("created"), run.created_at);
  addText(record, tr("started"), run.started_at);
  addText(record, tr("finished"), run.finished_at);
  setLatestPointWallSeconds(latestPointWallS);
  if (run.teacher_run_id) addText(record, tr("teacher run"), "#" + std::to_string(run.teacher_run_id));
  if (run.parent_run_id) addText(record, tr("teacher of run"), "#" + std::to_string(run.parent_run_id));
  addNotes(record, run);
  if (!run.error.empty()) {
    auto* error = new QTreeWidgetItem(record, {tr("error"), QString::fromStdString(run.error)});
    error->setForeground(1, QColor(0xc0392b));
    error->setToolTip(1, QString::fromStdString(run.error));
  }

  QTreeWidgetItem* summary = section(this, tr("Summary"));
  if (run.summary.is_object() && !run.summary.empty()) {
    for (auto it = run.summary.begin(); it != run.summary.end(); ++it)
      addJson(summary, QString::fromStdString(it.key()), it.value());
  } else {
    auto* none = new QTreeWidgetItem(summary, {distillery::isTerminal(run.status)
                                                   ? tr("(no summary recorded)")
                                                   : tr("(written when the run ends)")});
    none->setFirstColumnSpanned(true);
    none->setForeground(0, QColor(0x777777));
  }
  // A narrow panel elides keys in the middle ("best…racy"): hovering shows the whole key.
  for (QTreeWidgetItemIterator it(this); *it; ++it)
    if ((*it)->toolTip(0).isEmpty() && !(*it)->text(0).isEmpty()) (*it)->setToolTip(0, (*it)->text(0));
  fitKeyColumn();
}

namespace {
constexpr int kKeyMinimum = 90;
}

int RunSummaryView::valueMinimum() const {
  // A timestamp (created, started) is the widest of the usual values.
  return fontMetrics().horizontalAdvance(QStringLiteral("2026-12-31T23:59:59Z")) + 16;
}

QSize RunSummaryView::minimumSizeHint() const {
  const int scrollBar = style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this);
  return {kKeyMinimum + valueMinimum() + scrollBar + 2 * frameWidth(), QTreeWidget::minimumSizeHint().height()};
}

void RunSummaryView::fitKeyColumn() {
  resizeColumnToContents(0);
  // Keys as wide as they need, up to ~half the panel, and never so wide that
  // the value loses its least width; long keys elide.
  const int width = viewport()->width();
  const int cap = std::max(kKeyMinimum, std::min(width * 11 / 20, width - valueMinimum()));
  if (columnWidth(0) > cap) setColumnWidth(0, cap);
}

bool RunSummaryView::viewportEvent(QEvent* event) {
  const bool handled = QTreeWidget::viewportEvent(event);
  if (event->type() == QEvent::Resize) fitKeyColumn();
  return handled;
}

void RunSummaryView::setLatestPointWallSeconds(double seconds) {
  if (!record_) return;
  const double wall = runWallSeconds(shown_, seconds);
  if (wall < 0) return;
  if (!wallTime_) {
    // Right after "finished", where the table's Wall time column reads the same.
    wallTime_ = new QTreeWidgetItem({tr("wall time"), QString()});
    int at = record_->childCount();
    for (int i = 0; i < record_->childCount(); ++i)
      if (record_->child(i)->text(0) == tr("finished") || record_->child(i)->text(0) == tr("started")) at = i + 1;
    record_->insertChild(at, wallTime_);
    wallTime_->setToolTip(0, tr("wall time: training time of this run's model, summed over resumes (summary wall_s)"));
  }
  wallTime_->setText(1, formatWallTime(wall));
}

} // namespace distillery::gui
