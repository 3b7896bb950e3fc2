#include "widgets/run_table_header_menu.h"

#include "core/analysis/group_statistics.h"
#include "widgets/run_browser.h"
#include "widgets/run_filter_proxy_model.h"
#include "widgets/run_group_proxy_model.h"
#include "widgets/run_table_model.h"

#include <QActionGroup>
#include <QAction>
#include <QHeaderView>
#include <QMenu>
#include <QScrollBar>
#include <QTimer>
#include <QTreeView>

#include <algorithm>

#include <map>

namespace distillery::gui {

namespace {

QString aggregateTitle(distillery::GroupAggregate a) {
  switch (a) {
    case distillery::GroupAggregate::Best: return QObject::tr("Best accuracy and agreement");
    case distillery::GroupAggregate::MeanStd: return QObject::tr("Mean \u00b1 std (sample, n-1)");
    case distillery::GroupAggregate::Mean: return QObject::tr("Mean");
    case distillery::GroupAggregate::Min: return QObject::tr("Minimum");
    case distillery::GroupAggregate::Max: return QObject::tr("Maximum");
  }
  return {};
}

} // namespace

RunTableHeaderMenu::RunTableHeaderMenu(RunBrowser* browser) : QObject(browser), browser_(browser) {
  QHeaderView* header = browser_->tree()->header();
  header->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(header, &QWidget::customContextMenuRequested, this, &RunTableHeaderMenu::showMenu);
}

void RunTableHeaderMenu::showMenu(const QPoint& at) {
  QMenu menu(browser_);
  fillColumnsMenu(&menu);
  menu.addSeparator();
  fillAggregateMenu(menu.addMenu(tr("Group Rows Show")));
  menu.exec(browser_->tree()->header()->mapToGlobal(at));
}

void RunTableHeaderMenu::setColumnVisible(int column, bool visible) {
  if (column == RunTableModel::NameColumn && !visible) return; // the tree's handle to its rows stays
  QHeaderView* header = browser_->tree()->header();
  if (column < 0 || column >= header->count() || header->isSectionHidden(column) == !visible) return;
  header->setSectionHidden(column, !visible);
  if (visible && header->sectionSize(column) < 40) browser_->tree()->resizeColumnToContents(column);
  Q_EMIT changed();
}

bool RunTableHeaderMenu::isColumnVisible(int column) const {
  return !browser_->tree()->header()->isSectionHidden(column);
}

void RunTableHeaderMenu::setKeyVisible(const std::string& key, bool visible) {
  RunTableModel* model = browser_->filterModel()->runModel();
  if (visible && model->extraColumnOf(key) < 0) {
    model->addExtraColumn(key);
    const int column = model->extraColumnOf(key);
    browser_->tree()->header()->setSectionHidden(column, false);
    browser_->tree()->resizeColumnToContents(column);
    Q_EMIT changed();
    return;
  }
  const int column = model->extraColumnOf(key);
  if (column >= 0) setColumnVisible(column, visible);
}

void RunTableHeaderMenu::revealColumn(int column) {
  if (column < 0) return;
  // Once the view has laid out its new scroll range.
  QTreeView* tree = browser_->tree();
  QTimer::singleShot(0, tree, [tree, column] {
    QHeaderView* header = tree->header();
    QScrollBar* bar = tree->horizontalScrollBar();
    const int left = header->sectionPosition(column), right = left + header->sectionSize(column);
    const int width = tree->viewport()->width();
    if (right - bar->value() > width) bar->setValue(std::min(left, right - width));
    else if (left < bar->value()) bar->setValue(left);
  });
}

std::vector<std::string> RunTableHeaderMenu::visibleKeys() const {
  std::vector<std::string> keys;
  const RunTableModel* model = browser_->filterModel()->runModel();
  for (const std::string& key : model->extraColumns())
    if (isColumnVisible(model->extraColumnOf(key))) keys.push_back(key);
  return keys;
}

QList<int> RunTableHeaderMenu::hiddenColumns() const {
  QList<int> hidden;
  for (int c = 0; c < RunTableModel::ColumnCount; ++c)
    if (!isColumnVisible(c)) hidden << c;
  return hidden;
}

void RunTableHeaderMenu::fillColumnsMenu(QMenu* menu) {
  RunTableModel* model = browser_->filterModel()->runModel();
  for (int c = 0; c < RunTableModel::ColumnCount; ++c) {
    QString title = model->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
    if (c == RunTableModel::StarColumn) title = tr("Star");
    QAction* action = menu->addAction(title);
    action->setCheckable(true);
    action->setChecked(isColumnVisible(c));
    action->setEnabled(c != RunTableModel::NameColumn);
    connect(action, &QAction::toggled, this, [this, c](bool on) { setColumnVisible(c, on); });
  }

  // Every config key and summary figure the runs have, in submenus by their
  // first part ("optim" > "optim.lr"), so a long config stays navigable.
  const std::vector<std::string> keys = model->columnableKeys();
  QMenu* config = menu->addMenu(tr("Config Keys"));
  QMenu* summary = menu->addMenu(tr("Summary Metrics"));
  std::map<QString, QMenu*> submenus;
  for (const std::string& key : keys) {
    const bool isSummary = key.rfind("summary.", 0) == 0;
    const QString shown = QString::fromStdString(isSummary ? key.substr(8) : key);
    QMenu* parent = isSummary ? summary : config;
    const int dot = shown.indexOf(u'.');
    if (dot > 0) {
      const QString group = (isSummary ? QStringLiteral("s:") : QStringLiteral("c:")) + shown.left(dot);
      QMenu*& sub = submenus[group];
      if (!sub) sub = parent->addMenu(shown.left(dot));
      parent = sub;
    }
    QAction* action = parent->addAction(shown);
    action->setCheckable(true);
    const int column = model->extraColumnOf(key);
    action->setChecked(column >= 0 && isColumnVisible(column));
    connect(action, &QAction::toggled, this, [this, key](bool on) {
      setKeyVisible(key, on);
      if (on) revealColumn(browser_->filterModel()->runModel()->extraColumnOf(key));
    });
  }
  config->setEnabled(!config->isEmpty());
  summary->setEnabled(!summary->isEmpty());
}

void RunTableHeaderMenu::fillAggregateMenu(QMenu* menu) {
  RunGroupProxyModel* groups = browser_->groupModel();
  auto* exclusive = new QActionGroup(menu);
  for (distillery::GroupAggregate a : distillery::groupAggregates()) {
    QAction* action = menu->addAction(aggregateTitle(a));
    action->setCheckable(true);
    action->setChecked(groups->aggregate() == a);
    action->setData(QString::fromStdString(distillery::groupAggregateName(a)));
    exclusive->addAction(action);
    connect(action, &QAction::triggered, this, [this, groups, a] {
      groups->setAggregate(a);
      Q_EMIT changed();
    });
  }
  menu->setToolTipsVisible(true);
  menu->setToolTip(tr("What a group's header row shows in the numeric columns when the table is grouped"));
}

} // namespace distillery::gui
