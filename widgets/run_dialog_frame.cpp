#include "widgets/run_dialog_frame.h"

#include "widgets/fit_to_screen.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>


namespace distillery::gui {

namespace {

QVBoxLayout* column(const std::vector<QWidget*>& groups) {
  auto* layout = new QVBoxLayout;
  for (QWidget* group : groups) layout->addWidget(group);
  layout->addStretch(1);
  return layout;
}

} // namespace

QDialogButtonBox* layOutRunDialog(QDialog* dialog, const std::vector<QWidget*>& left_groups,
                                  const std::vector<QWidget*>& middle_groups, QWidget* json_panel, QLabel* error,
                                  const QString& start_text) {
  auto* form = new QWidget(dialog);
  auto* form_layout = new QHBoxLayout(form);
  form_layout->setContentsMargins(0, 0, 0, 0);
  form_layout->addLayout(column(left_groups), 1);
  form_layout->addLayout(column(middle_groups), 1);
  // The form scrolls on small screens; the JSON panel beside it can be dragged narrower.
  auto* body = new QSplitter(Qt::Horizontal, dialog);
  body->addWidget(scrollableForm(form, body));
  body->addWidget(json_panel);
  body->setStretchFactor(0, 3);
  body->setStretchFactor(1, 1);
  body->setChildrenCollapsible(false);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
  buttons->button(QDialogButtonBox::Ok)->setText(start_text);
  QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
  QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);

  auto* layout = new QVBoxLayout(dialog);
  layout->addWidget(body, 1);
  layout->addWidget(error);
  layout->addWidget(buttons);
  return buttons;
}

QLabel* runDialogErrorLabel(QWidget* parent, const QString& object_name) {
  auto* label = new QLabel(parent);
  label->setObjectName(object_name);
  label->setWordWrap(true);
  label->setStyleSheet(QStringLiteral("color: #c0392b;"));
  return label;
}

} // namespace distillery::gui
