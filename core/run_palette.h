#pragma once
// The colour of a run, as 0xRRGGBB. The same run always gets the same colour,
// in every chart, every export and every session.
#include <cstdint>

namespace distillery {

uint32_t runRgb(int64_t run_id);

} // namespace distillery
