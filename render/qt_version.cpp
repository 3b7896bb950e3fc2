#include "render/qt_version.h"

#include <QtGlobal>

namespace distillery::render {

std::string qtVersion() { return qVersion(); }

} // namespace distillery::render
