#include "widgets/fit_to_screen.h"

#include <QGuiApplication>
#include <QScreen>
#include <QScrollArea>
#include <QWidget>

namespace distillery::gui {

QScrollArea* scrollableForm(QWidget* content, QWidget* parent) {
  auto* area = new QScrollArea(parent);
  area->setWidget(content);
  area->setWidgetResizable(true);
  area->setFrameShape(QFrame::NoFrame);
  area->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  return area;
}

void resizeWithinScreen(QWidget* dialog, QSize preferred) {
  const QScreen* screen = dialog->screen() ? dialog->screen() : QGuiApplication::primaryScreen();
  if (screen) {
    // Leave room for the title bar and the window frame.
    const QSize room = screen->availableGeometry().size() - QSize(16, 48);
    preferred = preferred.boundedTo(room);
  }
  dialog->resize(preferred);
}

} // namespace distillery::gui
