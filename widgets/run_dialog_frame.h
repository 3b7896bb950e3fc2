#pragma once
// The frame both New Run dialogs share (image runs and language-model runs):
// the form's groups in two columns that scroll on small screens, beside the
// JSON panel in a splitter; below them the line that says why a run cannot
// start, and Start / Cancel.
#include <QString>

#include <vector>

class QDialog;
class QDialogButtonBox;
class QLabel;
class QWidget;

namespace distillery::gui {

// Lays out `dialog` and returns its button box, whose Ok button reads
// `start_text`; Ok calls the dialog's accept() (its override, which runs the
// preflight) and Cancel reject().
QDialogButtonBox* layOutRunDialog(QDialog* dialog, const std::vector<QWidget*>& left_groups,
                                  const std::vector<QWidget*>& middle_groups, QWidget* json_panel, QLabel* error,
                                  const QString& start_text);
// The red, word-wrapped line under the form.
QLabel* runDialogErrorLabel(QWidget* parent, const QString& object_name);

} // namespace distillery::gui
