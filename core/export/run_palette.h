#pragma once
// The colours of runs, as 0xRRGGBB. A run has a colour of its own (runRgb),
// used where it is shown alone; runs shown together (a compare view, a
// report, an exported chart, the live charts of a selection) get colours that
// are unique within the set (runRgbs): up to 12 runs never share one.
#include <cstdint>
#include <map>
#include <vector>

namespace distillery {

// Entries of the qualitative palette; a set of at most this many runs gets distinct colours.
constexpr int kRunPaletteSize = 12;

// The run's own colour: palette entry run_id mod 12.
uint32_t runRgb(int64_t run_id);

// Colours for runs shown together. Each run of `runs` keeps its own colour
// unless a run with a smaller id in the set already holds it; then it takes
// the next free palette entry. The answer depends on the set only (not its
// order), so every view of one selection agrees. `extra` runs (e.g. teachers
// the cost plot adds) get what the set left free, without moving its colours.
// Only beyond 12 runs in all do colours repeat.
std::map<int64_t, uint32_t> runRgbs(const std::vector<int64_t>& runs, const std::vector<int64_t>& extra = {});

} // namespace distillery
