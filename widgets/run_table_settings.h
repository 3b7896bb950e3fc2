#pragma once
// Keeps the run table's layout across restarts (QSettings, group
// "runTable"): hidden columns, added config/summary columns, the sort column
// and order, the group-by key and what group rows show. Restores once, then
// saves on every change. Columns are kept by name ("status", "key:optim.lr"),
// not by number, so a new column in a later version does not shift them.
#include <QObject>
#include <QString>

class QSettings;

namespace distillery::gui {

class RunBrowser;

class RunTableSettings : public QObject {
  Q_OBJECT
public:
  // settingsFile: an INI file, or empty for the application's QSettings.
  RunTableSettings(RunBrowser* browser, const QString& settingsFile = {});

  void restore();
  void save() const;

  // "name", "status", ... for fixed columns, "key:<config or summary key>" for added ones.
  static QString columnName(const RunBrowser* browser, int column);
  static int columnOf(RunBrowser* browser, const QString& name, bool addMissing);

private:
  QSettings* open() const;

  RunBrowser* browser_;
  QString file_;
  bool restoring_ = false;
};

} // namespace distillery::gui
