#include "core/serve/token_bucket.h"

#include <algorithm>

namespace distillery {

TokenBucket::TokenBucket(double rate_per_s, double burst, double now_s)
    : rate_(rate_per_s), burst_(burst), tokens_(burst), last_(now_s) {}

void TokenBucket::refill(double now_s) {
  if (now_s > last_) tokens_ = std::min(burst_, tokens_ + (now_s - last_) * rate_);
  last_ = std::max(last_, now_s); // a clock read out of order never drains the bucket
}

double TokenBucket::tokens(double now_s) {
  refill(now_s);
  return tokens_;
}

double TokenBucket::take(double now_s) {
  refill(now_s);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return 0.0;
  }
  return (1.0 - tokens_) / rate_;
}

} // namespace distillery
