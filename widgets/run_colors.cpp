#include "widgets/run_colors.h"

#include "core/export/run_palette.h"

#include <vector>

namespace distillery::gui {

QColor runColor(int64_t runId) { return QColor(QRgb(runRgb(runId))); }

std::map<int64_t, QColor> runColors(const QList<int64_t>& runIds, const QList<int64_t>& extra) {
  std::map<int64_t, QColor> colors;
  const auto rgbs = runRgbs(std::vector<int64_t>(runIds.begin(), runIds.end()),
                            std::vector<int64_t>(extra.begin(), extra.end()));
  for (const auto& [id, rgb] : rgbs) colors[id] = QColor(QRgb(rgb));
  return colors;
}

} // namespace distillery::gui
