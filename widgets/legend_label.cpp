#include "widgets/legend_label.h"

#include <QFontMetrics>
#include <QTextDocumentFragment>

#include <algorithm>

namespace distillery::gui {

QString legendLabelHtml(const QString& plain, const QFont& font, int maxWidthPx, const QString& suffix) {
  const QFontMetrics metrics(font);
  const int room = std::max(metrics.horizontalAdvance(QStringLiteral("#000…00")),
                            maxWidthPx - metrics.horizontalAdvance(suffix));
  return (metrics.elidedText(plain, Qt::ElideMiddle, room) + suffix).toHtmlEscaped();
}

QString legendLabelText(const QString& html) { return QTextDocumentFragment::fromHtml(html).toPlainText(); }

} // namespace distillery::gui
