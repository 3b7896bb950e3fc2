#pragma once
// SplitMix64 (Steele, Lea and Flood 2014): a fixed, portable 64-bit mixing
// step, so seeds derived from it (augmentation batches, the serve API's noise,
// watermark green lists) are the same on every platform and standard library.
#include <cstdint>

namespace distillery {

inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

// The mix of x + gamma: one step of the generator from state x.
inline uint64_t splitMix64(uint64_t x) {
  x += kSplitMix64Gamma;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The generator: the next value from `state`, which advances.
inline uint64_t nextSplitMix64(uint64_t& state) {
  const uint64_t out = splitMix64(state);
  state += kSplitMix64Gamma;
  return out;
}

} // namespace distillery
