#include "core/run_palette.h"

#include <array>
#include <cstddef>

namespace distillery {

uint32_t runRgb(int64_t run_id) {
  // A qualitative palette whose neighbours differ clearly in hue and lightness
  // (12 entries: the compare view takes up to 12 runs).
  static const std::array<uint32_t, 12> palette = {
      0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b,
      0xe377c2, 0x17becf, 0xbcbd22, 0x7f7f7f, 0x393b79, 0x637939,
  };
  const auto index = size_t((run_id < 0 ? -run_id : run_id) % int64_t(palette.size()));
  return palette[index];
}

} // namespace distillery
