#include "widgets/progress_bar_delegate.h"

#include <QApplication>
#include <QPainter>
#include <QStyle>
#include <QStyleOptionProgressBar>

#include <algorithm>
#include <cmath>

namespace distillery::gui {

ProgressBarDelegate::ProgressBarDelegate(int fractionRole, QObject* parent)
    : QStyledItemDelegate(parent), fractionRole_(fractionRole) {}

void ProgressBarDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                                const QModelIndex& index) const {
  const QVariant fractionData = index.data(fractionRole_);
  const double fraction = fractionData.isValid() ? fractionData.toDouble() : -1.0;
  if (!(fraction >= 0.0)) {
    QStyledItemDelegate::paint(painter, option, index);
    return;
  }

  // The selection background first, so a selected row stays visibly selected.
  QStyleOptionViewItem background = option;
  initStyleOption(&background, index);
  background.text.clear();
  const QWidget* widget = option.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  style->drawControl(QStyle::CE_ItemViewItem, &background, painter, widget);

  QStyleOptionProgressBar bar;
  bar.rect = option.rect.adjusted(2, 2, -2, -2);
  bar.minimum = 0;
  bar.maximum = 1000;
  bar.progress = int(std::lround(std::min(fraction, 1.0) * 1000.0));
  bar.text = index.data(Qt::DisplayRole).toString();
  bar.textVisible = true;
  bar.textAlignment = Qt::AlignCenter;
  bar.state = option.state | QStyle::State_Horizontal;
  bar.palette = option.palette;
  bar.fontMetrics = option.fontMetrics;
  style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
}

QSize ProgressBarDelegate::sizeHint(const QStyleOptionViewItem& option,
                                    const QModelIndex& index) const {
  QSize size = QStyledItemDelegate::sizeHint(option, index);
  // Room for "distill 100.0% · ETA 10:00" without eliding.
  size.setWidth(std::max(size.width(), option.fontMetrics.horizontalAdvance(
                                           QStringLiteral("distill 100.0% · ETA 10:00:00")) + 16));
  return size;
}

} // namespace distillery::gui
