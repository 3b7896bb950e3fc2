#pragma once
// Legend text for Qt Charts, which renders every legend label as HTML (a run
// named "<b>x</b>" would show bold) and, when space runs out, cuts labels at
// the end, where run names usually differ ("…-seed1" vs "…-seed2").
#include <QString>

class QFont;

namespace distillery::gui {

// plain elided in the middle to maxWidthPx (so its start, e.g. "#12", and
// its end stay), then escaped for HTML. suffix (" (diverged)") is kept whole.
QString legendLabelHtml(const QString& plain, const QFont& font, int maxWidthPx, const QString& suffix = {});

// The label as the user reads it: legendLabelHtml's text with entities decoded.
QString legendLabelText(const QString& html);

} // namespace distillery::gui
