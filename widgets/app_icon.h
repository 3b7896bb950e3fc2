#pragma once
// The application icon (resources/distillery.svg, embedded as a Qt resource),
// drawn at the usual icon sizes. The same SVG is installed under
// share/icons/hicolor/scalable/apps/ for the desktop's menu entry.
#include <QIcon>

namespace distillery::gui {

inline constexpr const char* kAppIconResource = ":/distillery/distillery.svg";

// Rendered through QSvgRenderer, so it does not depend on Qt's SVG icon-engine
// plugin being installed. Null when the resource is missing.
QIcon appIcon();

} // namespace distillery::gui
