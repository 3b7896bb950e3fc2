#include "widgets/run_table_settings.h"

#include "core/analysis/group_statistics.h"
#include "widgets/run_browser.h"
#include "widgets/run_filter_proxy_model.h"
#include "widgets/run_group_proxy_model.h"
#include "widgets/run_table_header_menu.h"
#include "widgets/run_table_model.h"

#include <QHeaderView>
#include <QSettings>
#include <QStringList>
#include <QTreeView>

#include <cstring>
#include <memory>

namespace distillery::gui {

namespace {

// Indexed by RunTableModel::Column; stable names for the settings file.
const char* const kColumnNames[RunTableModel::ColumnCount] = {
    "name", "status", "task", "teacher", "student", "method", "progress",
    "best_val_accuracy", "agreement", "wall_time", "tags", "notes", "created", "star"};

const char* const kKeyPrefix = "key:";

} // namespace

RunTableSettings::RunTableSettings(RunBrowser* browser, const QString& settingsFile)
    : QObject(browser), browser_(browser), file_(settingsFile) {
  connect(browser_->headerMenu(), &RunTableHeaderMenu::changed, this, &RunTableSettings::save);
  connect(browser_->tree()->header(), &QHeaderView::sortIndicatorChanged, this, &RunTableSettings::save);
  // setGroupKey() resets the group model; other resets just save the same state again.
  connect(browser_->groupModel(), &QAbstractItemModel::modelReset, this, &RunTableSettings::save);
}

QSettings* RunTableSettings::open() const {
  return file_.isEmpty() ? new QSettings() : new QSettings(file_, QSettings::IniFormat);
}

QString RunTableSettings::columnName(const RunBrowser* browser, int column) {
  if (column >= 0 && column < RunTableModel::ColumnCount) return QString::fromLatin1(kColumnNames[column]);
  const std::string key = browser->filterModel()->runModel()->extraColumnKey(column);
  return key.empty() ? QString() : QString::fromLatin1(kKeyPrefix) + QString::fromStdString(key);
}

int RunTableSettings::columnOf(RunBrowser* browser, const QString& name, bool addMissing) {
  for (int c = 0; c < RunTableModel::ColumnCount; ++c)
    if (name == QLatin1String(kColumnNames[c])) return c;
  if (!name.startsWith(QLatin1String(kKeyPrefix))) return -1;
  const std::string key = name.mid(int(strlen(kKeyPrefix))).toStdString();
  RunTableModel* model = browser->filterModel()->runModel();
  if (model->extraColumnOf(key) < 0 && addMissing) browser->headerMenu()->setKeyVisible(key, true);
  return model->extraColumnOf(key);
}

void RunTableSettings::restore() {
  std::unique_ptr<QSettings> settings(open());
  settings->beginGroup(QStringLiteral("runTable"));
  if (!settings->contains(QStringLiteral("columns"))) return; // first start: the defaults
  restoring_ = true;
  RunTableHeaderMenu* menu = browser_->headerMenu();
  for (const QString& name : settings->value(QStringLiteral("columns")).toStringList()) {
    if (name.startsWith(QLatin1String(kKeyPrefix))) menu->setKeyVisible(name.mid(int(strlen(kKeyPrefix))).toStdString(), true);
  }
  for (const QString& name : settings->value(QStringLiteral("hiddenColumns")).toStringList()) {
    const int column = columnOf(browser_, name, false);
    if (column >= 0) menu->setColumnVisible(column, false);
  }
  if (auto a = distillery::parseGroupAggregate(settings->value(QStringLiteral("groupAggregate")).toString().toStdString()))
    browser_->groupModel()->setAggregate(*a);
  const QString group = settings->value(QStringLiteral("groupKey")).toString();
  browser_->setGroupKey(group.toStdString());
  const int sortColumn = columnOf(browser_, settings->value(QStringLiteral("sortColumn")).toString(), true);
  if (sortColumn >= 0) {
    const auto order = settings->value(QStringLiteral("sortOrder")).toString() == QStringLiteral("ascending")
                           ? Qt::AscendingOrder
                           : Qt::DescendingOrder;
    browser_->tree()->sortByColumn(sortColumn, order);
  }
  restoring_ = false;
  save(); // settings naming columns that no longer exist are tidied away
}

void RunTableSettings::save() const {
  if (restoring_) return;
  std::unique_ptr<QSettings> settings(open());
  settings->beginGroup(QStringLiteral("runTable"));
  QStringList columns, hidden;
  for (const std::string& key : browser_->headerMenu()->visibleKeys())
    columns << QString::fromLatin1(kKeyPrefix) + QString::fromStdString(key);
  for (int c : browser_->headerMenu()->hiddenColumns()) hidden << columnName(browser_, c);
  settings->setValue(QStringLiteral("columns"), columns);
  settings->setValue(QStringLiteral("hiddenColumns"), hidden);
  const QHeaderView* header = browser_->tree()->header();
  settings->setValue(QStringLiteral("sortColumn"), columnName(browser_, header->sortIndicatorSection()));
  settings->setValue(QStringLiteral("sortOrder"), header->sortIndicatorOrder() == Qt::AscendingOrder
                                                      ? QStringLiteral("ascending")
                                                      : QStringLiteral("descending"));
  settings->setValue(QStringLiteral("groupKey"), QString::fromStdString(browser_->groupModel()->groupKey()));
  settings->setValue(QStringLiteral("groupAggregate"),
                     QString::fromStdString(distillery::groupAggregateName(browser_->groupModel()->aggregate())));
}

} // namespace distillery::gui
