#include "widgets/run_colors.h"

#include <array>

namespace distillery::gui {

QColor runColor(int64_t runId) {
  // A qualitative palette whose neighbours differ clearly in hue and lightness.
  static const std::array<QRgb, 10> palette = {
      0x1f77b4, 0xff7f0e, 0x2ca02c, 0x9467bd, 0x8c564b,
      0xe377c2, 0x17becf, 0xbcbd22, 0x7f7f7f, 0x393b79,
  };
  const auto index = size_t((runId < 0 ? -runId : runId) % int64_t(palette.size()));
  return QColor(palette[index]);
}

} // namespace distillery::gui
