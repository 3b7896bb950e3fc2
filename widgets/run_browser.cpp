#include "widgets/run_browser.h"

#include "widgets/notes_editor.h"
#include "widgets/progress_bar_delegate.h"
#include "widgets/run_filter_proxy_model.h"
#include "widgets/run_group_proxy_model.h"
#include "widgets/run_table_header_menu.h"
#include "widgets/run_table_model.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::gui {

RunBrowser::RunBrowser(RunTableModel* runs, QWidget* parent) : QWidget(parent), runs_(runs) {
  filter_ = new RunFilterProxyModel(runs_, this);
  group_ = new RunGroupProxyModel(runs_, this);
  group_->setSourceModel(filter_);

  filterEdit_ = new QLineEdit(this);
  filterEdit_->setObjectName(QStringLiteral("filterEdit"));
  filterEdit_->setClearButtonEnabled(true);
  filterEdit_->setPlaceholderText(tr("Filter runs: text, method=kd student=mlp acc>0.8 tag:baseline starred …"));
  filterEdit_->setToolTip(QString::fromUtf8(distillery::runFilterHelp()));
  groupCombo_ = new QComboBox(this);
  groupCombo_->setObjectName(QStringLiteral("groupCombo"));
  groupCombo_->setToolTip(tr("Group the runs by a config key; group rows show the best figures of their runs, or mean ± std, "
                             "mean, min or max (right-click the header, or View ▸ Group Rows Show)"));
  groupCombo_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  groupCombo_->addItem(tr("No grouping"), QString());
  hint_ = new QLabel(this);
  hint_->setObjectName(QStringLiteral("filterHint"));

  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(0, 0, 0, 0);
  bar->addWidget(filterEdit_, 1);
  bar->addWidget(hint_);
  bar->addSpacing(8);
  bar->addWidget(new QLabel(tr("Group by:"), this));
  bar->addWidget(groupCombo_);

  tree_ = new QTreeView(this);
  tree_->setObjectName(QStringLiteral("runTable"));
  tree_->setModel(group_);
  tree_->setUniformRowHeights(true); // keeps 1,000 rows cheap to lay out
  tree_->setSelectionBehavior(QAbstractItemView::SelectRows);
  tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  tree_->setAlternatingRowColors(true);
  tree_->setWordWrap(false);
  tree_->setRootIsDecorated(false);
  tree_->setAllColumnsShowFocus(true);
  tree_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  tree_->setTreePosition(RunTableModel::NameColumn);
  tree_->setItemDelegateForColumn(RunTableModel::ProgressColumn,
                                  new ProgressBarDelegate(RunTableModel::ProgressFractionRole, tree_));
  tree_->setItemDelegateForColumn(RunTableModel::NotesColumn, new NotesDelegate(tree_)); // multi-line
  tree_->setSortingEnabled(true);
  QHeaderView* header = tree_->header();
  header->setSectionsMovable(true);
  header->setStretchLastSection(true);
  header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  header->setResizeContentsPrecision(200);
  header->moveSection(header->visualIndex(RunTableModel::StarColumn), 0);
  header->resizeSection(RunTableModel::StarColumn, 28);
  header->setSectionResizeMode(RunTableModel::StarColumn, QHeaderView::Fixed);
  header->setSortIndicator(RunTableModel::CreatedColumn, Qt::DescendingOrder); // newest first
  headerMenu_ = new RunTableHeaderMenu(this);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  layout->addLayout(bar);
  layout->addWidget(tree_);

  filterTimer_ = new QTimer(this);
  filterTimer_->setSingleShot(true);
  filterTimer_->setInterval(120); // one filter pass per pause in typing, not per key
  connect(filterTimer_, &QTimer::timeout, this, [this] { setFilterText(filterEdit_->text()); });
  connect(filterEdit_, &QLineEdit::textEdited, filterTimer_, qOverload<>(&QTimer::start));
  connect(filterEdit_, &QLineEdit::returnPressed, this, [this] { setFilterText(filterEdit_->text()); });
  connect(filterEdit_, &QLineEdit::textChanged, this, [this](const QString& text) {
    if (text.isEmpty()) setFilterText(text); // the clear button
  });

  keysTimer_ = new QTimer(this);
  keysTimer_->setSingleShot(true);
  keysTimer_->setInterval(0);
  connect(keysTimer_, &QTimer::timeout, this, &RunBrowser::refreshGroupKeys);
  connect(runs_, &QAbstractItemModel::rowsInserted, keysTimer_, qOverload<>(&QTimer::start));
  connect(runs_, &QAbstractItemModel::rowsRemoved, keysTimer_, qOverload<>(&QTimer::start));
  connect(runs_, &QAbstractItemModel::modelReset, keysTimer_, qOverload<>(&QTimer::start));
  connect(groupCombo_, &QComboBox::activated, this,
          [this] { setGroupKey(groupCombo_->currentData().toString().toStdString()); });

  connect(tree_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] { Q_EMIT selectionChanged(); });
  connect(tree_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] { Q_EMIT currentChanged(); });
  connect(tree_, &QTreeView::clicked, this, [this](const QModelIndex& index) {
    if (index.column() != RunTableModel::StarColumn || group_->isGroup(index)) return;
    const QModelIndex source = filter_->mapToSource(group_->mapToSource(index));
    if (!source.isValid()) return;
    const int64_t id = runs_->runIdAt(source.row());
    if (const auto* run = runs_->record(id)) runs_->setStarred(id, !run->starred);
  });
  connect(tree_, &QTreeView::collapsed, this, [this](const QModelIndex& index) {
    if (group_->isGroup(index)) collapsed_.insert(group_->groupValue(index.row()));
  });
  connect(tree_, &QTreeView::expanded, this, [this](const QModelIndex& index) {
    if (group_->isGroup(index)) collapsed_.erase(group_->groupValue(index.row()));
  });
  // New groups (a filter or a new run) open expanded unless the user closed them.
  connect(group_, &QAbstractItemModel::layoutChanged, this, &RunBrowser::expandGroups);
  connect(group_, &QAbstractItemModel::modelReset, this, &RunBrowser::expandGroups);
  connect(filter_, &RunFilterProxyModel::filterApplied, this, &RunBrowser::updateHint);
  connect(filter_, &QAbstractItemModel::rowsInserted, this, &RunBrowser::updateHint);
  connect(filter_, &QAbstractItemModel::rowsRemoved, this, &RunBrowser::updateHint);
  // The proxy drops its rows before the source does ("6 of 7 runs"): count again after.
  connect(runs_, &QAbstractItemModel::rowsRemoved, this, &RunBrowser::updateHint);
  connect(filter_, &QAbstractItemModel::layoutChanged, this, &RunBrowser::updateHint);
  connect(filter_, &QAbstractItemModel::modelReset, this, &RunBrowser::updateHint);

  // Column widths from the first rows that arrive, then the user's; the
  // figures are fitted into view again whenever the table changes width.
  fitTimer_ = new QTimer(this);
  fitTimer_->setSingleShot(true);
  fitTimer_->setInterval(0);
  connect(fitTimer_, &QTimer::timeout, this, &RunBrowser::fitFiguresInView);
  tree_->viewport()->installEventFilter(this);
  connect(header, &QHeaderView::sectionResized, this, [this](int column, int, int size) {
    if (!fitting_ && naturalWidths_.count(column)) naturalWidths_[column] = size; // a drag by the user
  });
  auto fitColumnsOnce = [this] {
    if (widthsSet_ || runs_->rowCount() == 0) return;
    widthsSet_ = true;
    QTimer::singleShot(0, this, [this] {
      fitting_ = true;
      for (int c = 0; c < RunTableModel::ColumnCount; ++c)
        if (c != RunTableModel::StarColumn && c != RunTableModel::NotesColumn) tree_->resizeColumnToContents(c);
      QHeaderView* header = tree_->header();
      header->resizeSection(RunTableModel::NameColumn,
                            std::clamp(header->sectionSize(RunTableModel::NameColumn), 160, 320));
      header->resizeSection(RunTableModel::ProgressColumn,
                            std::max(header->sectionSize(RunTableModel::ProgressColumn), 150));
      // Wide enough for a data-parallel run's status, which the first rows
      // (finished runs, say) may not show: "running on 16 ranks" reads whole.
      header->resizeSection(RunTableModel::StatusColumn,
                            std::max(header->sectionSize(RunTableModel::StatusColumn),
                                     tree_->fontMetrics().horizontalAdvance(tr("running on %1 ranks").arg(16)) + 16));
      for (int c : {RunTableModel::NameColumn, RunTableModel::TeacherColumn, RunTableModel::StudentColumn,
                    RunTableModel::MethodColumn, RunTableModel::ProgressColumn})
        naturalWidths_[c] = header->sectionSize(c);
      fitting_ = false;
      fitFiguresInView();
    });
  };
  connect(runs_, &QAbstractItemModel::rowsInserted, this, fitColumnsOnce);
  connect(runs_, &QAbstractItemModel::modelReset, this, fitColumnsOnce);
  fitColumnsOnce(); // runs already loaded
  keysTimer_->start();
  updateHint();
}

void RunBrowser::setFilterText(const QString& text) {
  filterTimer_->stop();
  if (filterEdit_->text() != text) filterEdit_->setText(text);
  filter_->setFilterText(text);
}

bool RunBrowser::eventFilter(QObject* watched, QEvent* event) {
  // A window shown at one size and then fitted to a small screen (1024 px),
  // or resized by the user, fits the figures again.
  if (watched == tree_->viewport() && event->type() == QEvent::Resize && widthsSet_) fitTimer_->start();
  return QWidget::eventFilter(watched, event);
}

void RunBrowser::fitFiguresInView() {
  // On a small screen (1024 px) the contents-wide text columns would push
  // accuracy, agreement and wall time out of view: narrow the text columns
  // (they elide) until every column up to Wall time fits. Each fit starts
  // from the natural widths, so a wider window widens them again.
  QHeaderView* header = tree_->header();
  const int available = tree_->viewport()->width();
  if (available <= 0 || naturalWidths_.empty()) return;
  struct Shrinkable {
    int column, minimum;
  };
  const Shrinkable shrinkable[] = {{RunTableModel::NameColumn, 110},    {RunTableModel::TeacherColumn, 80},
                                   {RunTableModel::StudentColumn, 80},  {RunTableModel::MethodColumn, 80},
                                   {RunTableModel::ProgressColumn, 110}};
  // The last figure column shown; hidden sections take no width.
  int lastVisual = -1;
  for (int c : {RunTableModel::BestValAccuracyColumn, RunTableModel::AgreementColumn, RunTableModel::WallTimeColumn})
    if (!header->isSectionHidden(c)) lastVisual = std::max(lastVisual, header->visualIndex(c));
  auto naturalWidth = [&](int column) {
    auto it = naturalWidths_.find(column);
    return it == naturalWidths_.end() ? header->sectionSize(column) : it->second;
  };
  int needed = 0, slack = 0;
  for (int v = 0; v <= lastVisual; ++v) {
    const int column = header->logicalIndex(v);
    if (!header->isSectionHidden(column)) needed += naturalWidth(column);
  }
  for (const Shrinkable& c : shrinkable)
    if (!header->isSectionHidden(c.column) && header->visualIndex(c.column) <= lastVisual)
      slack += std::max(0, naturalWidth(c.column) - c.minimum);
  const int excess = needed - available;
  const double keep = excess <= 0 || slack <= 0 ? 1.0 : 1.0 - std::min(1.0, double(excess) / double(slack));
  fitting_ = true;
  for (const Shrinkable& c : shrinkable) {
    const int natural = naturalWidth(c.column);
    // Rounded down, so the narrowed columns never overshoot by a pixel.
    header->resizeSection(c.column, natural > c.minimum ? c.minimum + int((natural - c.minimum) * keep) : natural);
  }
  fitting_ = false;
}

void RunBrowser::focusFilter() {
  filterEdit_->setFocus(Qt::ShortcutFocusReason);
  filterEdit_->selectAll();
}

void RunBrowser::setGroupKey(const std::string& key) {
  const QString k = QString::fromStdString(key);
  int at = groupCombo_->findData(k);
  if (at < 0) {
    groupCombo_->addItem(k, k);
    at = groupCombo_->count() - 1;
  }
  groupCombo_->setCurrentIndex(at);
  if (key == group_->groupKey()) return;
  const QList<int64_t> selected = selectedRunIds();
  const int64_t current = currentRunId();
  collapsed_.clear();
  group_->setGroupKey(key);
  tree_->setRootIsDecorated(!key.empty());
  expandGroups();
  selectRuns(selected);
  if (current) {
    const QModelIndex index = viewIndexOf(current);
    if (index.isValid()) tree_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
  }
}

void RunBrowser::refreshGroupKeys() {
  const QString current = groupCombo_->currentData().toString();
  QStringList wanted;
  for (const std::string& key : runs_->groupableKeys()) wanted << QString::fromStdString(key);
  QStringList have;
  for (int i = 1; i < groupCombo_->count(); ++i) have << groupCombo_->itemData(i).toString();
  if (have == wanted) return;
  groupCombo_->blockSignals(true);
  while (groupCombo_->count() > 1) groupCombo_->removeItem(1);
  for (const QString& key : wanted) groupCombo_->addItem(key, key);
  if (!current.isEmpty() && groupCombo_->findData(current) < 0) groupCombo_->addItem(current, current);
  groupCombo_->setCurrentIndex(std::max(0, groupCombo_->findData(current)));
  groupCombo_->blockSignals(false);
}

void RunBrowser::expandGroups() {
  if (!group_->isGrouped()) return;
  for (int g = 0; g < group_->groupCount(); ++g) {
    const QModelIndex index = group_->index(g, 0);
    tree_->setExpanded(index, !collapsed_.count(group_->groupValue(g)));
  }
}

void RunBrowser::updateHint() {
  const int shown = filter_->rowCount(), total = runs_->rowCount();
  const QStringList unknown = filter_->filterText().isEmpty() ? QStringList() : filter_->unknownFields();
  // A malformed term: the box turns red and says why, in the hint and its tooltip.
  const QStringList errors = filter_->errors();
  const QString help = QString::fromUtf8(distillery::runFilterHelp());
  filterEdit_->setStyleSheet(errors.isEmpty() ? QString()
                                              : QStringLiteral("QLineEdit { border: 1px solid #c0392b; "
                                                               "background: #fdecea; }"));
  filterEdit_->setToolTip(errors.isEmpty() ? help : errors.join(u'\n') + QStringLiteral("\n\n") + help);
  if (!errors.isEmpty()) {
    hint_->setText(hint_->fontMetrics().elidedText(errors.front(), Qt::ElideRight, 420));
    hint_->setToolTip(errors.join(u'\n'));
    hint_->setStyleSheet(QStringLiteral("color: #c0392b;"));
  } else if (!unknown.isEmpty()) {
    hint_->setText(tr("no run has %1").arg(unknown.join(QStringLiteral(", "))));
    hint_->setToolTip(QString());
    hint_->setStyleSheet(QStringLiteral("color: #c0392b;"));
  } else {
    const QString runs = total == 1 ? tr("1 run") : tr("%1 runs").arg(total);
    hint_->setText(shown == total ? runs : tr("%1 of %2").arg(shown).arg(runs));
    hint_->setToolTip(QString());
    hint_->setStyleSheet(QString());
  }
}

QList<int64_t> RunBrowser::selectedRunIds() const {
  QList<int64_t> ids;
  for (const QModelIndex& index : tree_->selectionModel()->selectedRows())
    for (int64_t id : group_->runIds(index))
      if (!ids.contains(id)) ids.append(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

int64_t RunBrowser::currentRunId() const {
  const QModelIndex current = tree_->selectionModel()->currentIndex();
  if (current.isValid() && !group_->isGroup(current) &&
      tree_->selectionModel()->isRowSelected(current.row(), current.parent())) {
    const QList<int64_t> ids = group_->runIds(current);
    if (!ids.isEmpty()) return ids.first();
  }
  const QList<int64_t> selected = selectedRunIds();
  return selected.isEmpty() ? 0 : selected.first();
}

QModelIndex RunBrowser::viewIndexOf(int64_t runId, int column) const {
  const int row = runs_->rowOf(runId);
  if (row < 0) return {};
  return group_->mapFromSource(filter_->mapFromSource(runs_->index(row, column)));
}

void RunBrowser::selectRun(int64_t runId) {
  const QModelIndex index = viewIndexOf(runId);
  if (!index.isValid()) return;
  tree_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  tree_->scrollTo(index);
}

void RunBrowser::selectRuns(const QList<int64_t>& runIds) {
  QItemSelection selection;
  for (int64_t id : runIds) {
    const QModelIndex index = viewIndexOf(id);
    if (index.isValid()) selection.select(index, index);
  }
  tree_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

int RunBrowser::visibleRunCount() const { return filter_->rowCount(); }

} // namespace distillery::gui
