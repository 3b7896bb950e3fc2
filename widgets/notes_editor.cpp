#include "widgets/notes_editor.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QVBoxLayout>

#include <algorithm>

namespace distillery::gui {

QWidget* NotesDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex&) const {
  auto* edit = new QPlainTextEdit(parent);
  edit->setObjectName(QStringLiteral("notesEditor"));
  edit->setTabChangesFocus(true); // Tab leaves (and saves); Enter is a new line
  edit->setToolTip(tr("Enter starts a new line; click elsewhere or press Tab to save, Esc to cancel"));
  return edit;
}

void NotesDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
  if (auto* edit = qobject_cast<QPlainTextEdit*>(editor)) edit->setPlainText(index.data(Qt::EditRole).toString());
}

void NotesDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
  if (auto* edit = qobject_cast<QPlainTextEdit*>(editor)) model->setData(index, edit->toPlainText(), Qt::EditRole);
}

void NotesDelegate::updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option, const QModelIndex&) const {
  QRect r = option.rect;
  r.setWidth(std::max(r.width(), 320));
  r.setHeight(std::max(r.height() * 6, 120));
  editor->setGeometry(r);
}

NotesDialog::NotesDialog(const QString& runLabel, const QString& notes, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Notes on %1").arg(runLabel));
  edit_ = new QPlainTextEdit(this);
  edit_->setObjectName(QStringLiteral("notesEdit"));
  edit_->setPlainText(notes);
  edit_->setPlaceholderText(tr("What you tried, what you saw, what to try next…"));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("Stored as typed; the table shows the first line, the details panel all of it."), this));
  layout->addWidget(edit_, 1);
  layout->addWidget(buttons);
  resize(520, 340);
}

QString NotesDialog::notes() const { return edit_->toPlainText(); }

} // namespace distillery::gui
