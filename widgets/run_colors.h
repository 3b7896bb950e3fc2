#pragma once
#include <QColor>

#include <cstdint>

namespace distillery::gui {

// The same run always gets the same colour, in every chart and every session,
// so overlaid curves stay recognisable as selections change.
QColor runColor(int64_t runId);

} // namespace distillery::gui
