#pragma once
// Large forms on small screens (1024x700 and up): the form scrolls inside its
// dialog instead of being cut off, and the dialog opens at its preferred size
// or the screen's available size, whichever is smaller.
#include <QSize>

class QScrollArea;
class QWidget;

namespace distillery::gui {

// A frameless scroll area holding `content`, which keeps its width when it fits.
QScrollArea* scrollableForm(QWidget* content, QWidget* parent);
// Resizes `dialog` to `preferred`, bounded by the available geometry of its screen.
void resizeWithinScreen(QWidget* dialog, QSize preferred);

} // namespace distillery::gui
