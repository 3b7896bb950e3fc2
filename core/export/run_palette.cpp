#include "core/export/run_palette.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>

namespace distillery {

namespace {
// A qualitative palette whose neighbours differ clearly in hue and lightness.
const std::array<uint32_t, kRunPaletteSize> kPalette = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b,
    0xe377c2, 0x17becf, 0xbcbd22, 0x7f7f7f, 0x393b79, 0x637939,
};

size_t ownSlot(int64_t run_id) {
  return size_t((run_id < 0 ? -run_id : run_id) % int64_t(kPalette.size()));
}

// Gives each id of `ids` (ascending, no repeats, none already in `out`) its own
// slot when free, else the next free one; `used` counts taken slots.
void assign(const std::vector<int64_t>& ids, std::array<bool, kRunPaletteSize>& used, size_t& taken,
            std::map<int64_t, uint32_t>& out) {
  for (int64_t id : ids) {
    if (taken == used.size()) { // every colour taken: start a second round
      used.fill(false);
      taken = 0;
    }
    size_t slot = ownSlot(id);
    while (used[slot]) slot = (slot + 1) % used.size();
    used[slot] = true;
    ++taken;
    out[id] = kPalette[slot];
  }
}

std::vector<int64_t> sortedUnique(const std::vector<int64_t>& ids, const std::map<int64_t, uint32_t>& skip) {
  std::set<int64_t> s;
  for (int64_t id : ids)
    if (!skip.count(id)) s.insert(id);
  return {s.begin(), s.end()};
}
} // namespace

uint32_t runRgb(int64_t run_id) { return kPalette[ownSlot(run_id)]; }

std::map<int64_t, uint32_t> runRgbs(const std::vector<int64_t>& runs, const std::vector<int64_t>& extra) {
  std::map<int64_t, uint32_t> out;
  std::array<bool, kRunPaletteSize> used{};
  size_t taken = 0;
  assign(sortedUnique(runs, out), used, taken, out);
  assign(sortedUnique(extra, out), used, taken, out);
  return out;
}

} // namespace distillery
