#include "widgets/run_annotation_actions.h"

#include "widgets/notes_editor.h"
#include "widgets/run_browser.h"
#include "widgets/run_table_model.h"

#include <QAction>
#include <QInputDialog>
#include <QLineEdit>

#include <algorithm>
#include <set>

namespace distillery::gui {

RunAnnotationActions::RunAnnotationActions(RunBrowser* browser, RunTableModel* model, QWidget* dialogParent)
    : QObject(browser), browser_(browser), model_(model), dialogParent_(dialogParent) {
  editTags_ = new QAction(tr("Edit &Tags…"), this);
  editTags_->setObjectName(QStringLiteral("editTagsAction"));
  editTags_->setToolTip(tr("Set the comma-separated tags of the selected runs"));
  connect(editTags_, &QAction::triggered, this, &RunAnnotationActions::editTags);
  editNotes_ = new QAction(tr("Edit N&otes…"), this);
  editNotes_->setObjectName(QStringLiteral("editNotesAction"));
  editNotes_->setToolTip(tr("Write multi-line notes on the current run"));
  connect(editNotes_, &QAction::triggered, this, &RunAnnotationActions::editNotes);
  connect(browser_, &RunBrowser::selectionChanged, this, &RunAnnotationActions::updateEnabled);
  connect(browser_, &RunBrowser::currentChanged, this, &RunAnnotationActions::updateEnabled);
  updateEnabled();
}

void RunAnnotationActions::updateEnabled() {
  editTags_->setEnabled(!browser_->selectedRunIds().isEmpty());
  editNotes_->setEnabled(browser_->currentRunId() != 0);
}

void RunAnnotationActions::editTags() {
  const QList<int64_t> ids = browser_->selectedRunIds();
  if (ids.isEmpty()) return;
  // The tags every selected run has: what an edit of all of them starts from.
  std::vector<std::string> common;
  bool first = true;
  for (int64_t id : ids) {
    const distillery::RunRecord* run = model_->record(id);
    if (!run) continue;
    if (first) common = run->tags;
    else
      common.erase(std::remove_if(common.begin(), common.end(),
                                  [&](const std::string& t) {
                                    return std::find(run->tags.begin(), run->tags.end(), t) == run->tags.end();
                                  }),
                   common.end());
    first = false;
  }
  QStringList shown;
  for (const std::string& t : common) shown << QString::fromStdString(t);
  bool ok = false;
  const QString label = ids.size() == 1 ? tr("Tags of run #%1 (comma-separated):").arg(ids.front())
                                        : tr("Tags all %1 selected runs share (comma-separated; their other tags stay):").arg(ids.size());
  const QString text = QInputDialog::getText(dialogParent_, tr("Edit Tags"), label, QLineEdit::Normal,
                                             shown.join(QStringLiteral(", ")), &ok);
  if (!ok) return;
  std::vector<std::string> tags;
  for (const QString& part : text.split(u',', Qt::SkipEmptyParts))
    if (!part.trimmed().isEmpty()) tags.push_back(part.trimmed().toStdString());
  // Each run keeps its own other tags: only what was removed from or added
  // to the shared ones changes.
  auto has = [](const std::vector<std::string>& list, const std::string& t) {
    return std::find(list.begin(), list.end(), t) != list.end();
  };
  for (int64_t id : ids) {
    const distillery::RunRecord* run = model_->record(id);
    if (!run) continue;
    std::vector<std::string> updated;
    for (const std::string& t : run->tags)
      if (!has(common, t) || has(tags, t)) updated.push_back(t);
    for (const std::string& t : tags)
      if (!has(updated, t)) updated.push_back(t);
    if (updated != run->tags) model_->setTags(id, updated);
  }
}

void RunAnnotationActions::editNotes() {
  const int64_t id = browser_->currentRunId();
  const distillery::RunRecord* run = model_->record(id);
  if (!run) return;
  NotesDialog dialog(QStringLiteral("#%1 %2").arg(id).arg(QString::fromStdString(run->name)),
                     QString::fromStdString(run->notes), dialogParent_);
  if (dialog.exec() == QDialog::Accepted) model_->setNotes(id, dialog.notes());
}

} // namespace distillery::gui
