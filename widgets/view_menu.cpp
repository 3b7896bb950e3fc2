#include "widgets/view_menu.h"

#include "widgets/compare_view.h"
#include "widgets/run_browser.h"
#include "widgets/run_filter_proxy_model.h"
#include "widgets/run_group_proxy_model.h"
#include "widgets/run_table_header_menu.h"
#include "widgets/run_table_model.h"

#include <QActionGroup>
#include <QAction>
#include <QMenu>
#include <QMenuBar>

#include <cmath>
#include <functional>

namespace distillery::gui {

namespace {

void fillGroupByMenu(QMenu* menu, RunBrowser* browser) {
  auto* exclusive = new QActionGroup(menu);
  const std::string current = browser->groupModel()->groupKey();
  auto add = [&](const QString& title, const std::string& key) {
    QAction* action = menu->addAction(title);
    action->setCheckable(true);
    action->setChecked(key == current);
    exclusive->addAction(action);
    QObject::connect(action, &QAction::triggered, browser, [browser, key] { browser->setGroupKey(key); });
  };
  add(QObject::tr("No Grouping"), "");
  menu->addSeparator();
  for (const std::string& key : browser->filterModel()->runModel()->groupableKeys())
    add(QString::fromStdString(key), key);
}

void fillSmoothingMenu(QMenu* menu, CompareView* compare) {
  auto* exclusive = new QActionGroup(menu);
  for (double weight : {0.0, 0.6, 0.8, 0.9, 0.95, 0.99}) {
    QAction* action = menu->addAction(weight == 0.0 ? QObject::tr("None") : QString::number(weight, 'g', 3));
    action->setCheckable(true);
    action->setChecked(std::fabs(compare->smoothing() - weight) < 1e-9);
    exclusive->addAction(action);
    QObject::connect(action, &QAction::triggered, compare, [compare, weight] { compare->setSmoothing(weight); });
  }
}

// A submenu rebuilt each time it opens.
QMenu* dynamicMenu(QMenu* parent, const QString& title, std::function<void(QMenu*)> fill) {
  QMenu* menu = parent->addMenu(title);
  QObject::connect(menu, &QMenu::aboutToShow, menu, [menu, fill] {
    // Submenus and action groups of the last fill are children, not actions: delete them too.
    for (QObject* child : menu->children())
      if (qobject_cast<QMenu*>(child) || qobject_cast<QActionGroup*>(child)) delete child;
    menu->clear();
    fill(menu);
  });
  return menu;
}

} // namespace

QMenu* addViewMenu(QMenuBar* bar, RunBrowser* browser, CompareView* compare) {
  QMenu* view = bar->addMenu(QObject::tr("&View"));
  view->setObjectName(QStringLiteral("viewMenu"));
  RunTableHeaderMenu* header = browser->headerMenu();
  dynamicMenu(view, QObject::tr("Run Table &Columns"), [header](QMenu* m) { header->fillColumnsMenu(m); });
  dynamicMenu(view, QObject::tr("&Group Runs By"), [browser](QMenu* m) { fillGroupByMenu(m, browser); });
  dynamicMenu(view, QObject::tr("Group &Rows Show"), [header](QMenu* m) { header->fillAggregateMenu(m); });
  view->addSeparator();
  dynamicMenu(view, QObject::tr("Compare Chart &Smoothing"), [compare](QMenu* m) { fillSmoothingMenu(m, compare); });
  return view;
}

} // namespace distillery::gui
