#include "widgets/run_colors.h"

#include "core/run_palette.h"

namespace distillery::gui {

QColor runColor(int64_t runId) { return QColor(QRgb(runRgb(runId))); }

} // namespace distillery::gui
