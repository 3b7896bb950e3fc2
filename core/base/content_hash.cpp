#include "core/base/content_hash.h"

#include <cstdio>

namespace distillery {

void ContentHash::add(const uint8_t* data, size_t size) {
  uint64_t h = state_;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  state_ = h;
}

void ContentHash::addName(const std::string& name) {
  add(reinterpret_cast<const uint8_t*>(name.data()), name.size());
  const uint8_t end = 0;
  add(&end, 1);
}

std::string ContentHash::text() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(state_));
  return std::string("fnv1a64:") + hex;
}

} // namespace distillery
