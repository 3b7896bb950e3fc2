#pragma once
// Multi-line notes on a run, edited with a QPlainTextEdit and stored exactly
// as typed (line breaks, indentation): in place in the run table's Notes
// column (NotesDelegate), or in a dialog from the context menu (NotesDialog),
// which also works while the column is hidden.
#include <QDialog>
#include <QStyledItemDelegate>

class QPlainTextEdit;

namespace distillery::gui {

class NotesDelegate : public QStyledItemDelegate {
  Q_OBJECT
public:
  using QStyledItemDelegate::QStyledItemDelegate;

  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  void setEditorData(QWidget* editor, const QModelIndex& index) const override;
  void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
  // Several lines tall, so more than the first line can be seen while editing.
  void updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

class NotesDialog : public QDialog {
  Q_OBJECT
public:
  NotesDialog(const QString& runLabel, const QString& notes, QWidget* parent = nullptr);
  QString notes() const;
  QPlainTextEdit* editor() const { return edit_; }

private:
  QPlainTextEdit* edit_;
};

} // namespace distillery::gui
