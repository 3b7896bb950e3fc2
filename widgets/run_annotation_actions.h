#pragma once
// "Edit Tags…" and "Edit Notes…" for the run table's context menu and the
// Run menu: tags of every selected run (the tags they all share are shown),
// notes of the current run in a multi-line dialog (notes_editor.h).
#include <QObject>

class QAction;
class QWidget;

namespace distillery::gui {

class RunBrowser;
class RunTableModel;

class RunAnnotationActions : public QObject {
  Q_OBJECT
public:
  RunAnnotationActions(RunBrowser* browser, RunTableModel* model, QWidget* dialogParent);

  QAction* editTagsAction() const { return editTags_; }
  QAction* editNotesAction() const { return editNotes_; }

  void editTags();
  void editNotes();
  void updateEnabled();

private:
  RunBrowser* browser_;
  RunTableModel* model_;
  QWidget* dialogParent_;
  QAction* editTags_;
  QAction* editNotes_;
};

} // namespace distillery::gui
