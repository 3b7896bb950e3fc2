#pragma once
// Draws a progress bar with the model's text (percentage, phase, ETA) in
// cells that report a fraction; other cells are drawn as plain text.
#include <QStyledItemDelegate>

namespace distillery::gui {

class ProgressBarDelegate : public QStyledItemDelegate {
  Q_OBJECT
public:
  // fractionRole holds a double in [0, 1], or a negative value for "no bar".
  explicit ProgressBarDelegate(int fractionRole, QObject* parent = nullptr);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

private:
  int fractionRole_;
};

} // namespace distillery::gui
