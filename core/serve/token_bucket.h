#pragma once
// A token bucket: `rate` tokens a second flow into a bucket of `burst`; each
// request takes one. Time is passed in (seconds on a steady clock), so tests
// need no sleeping and one clock serves every key.
namespace distillery {

class TokenBucket {
public:
  TokenBucket(double rate_per_s, double burst, double now_s);
  // 0 when a token was taken; otherwise the seconds until one will be there (nothing taken).
  double take(double now_s);
  double tokens(double now_s);

private:
  void refill(double now_s);
  double rate_, burst_, tokens_, last_;
};

} // namespace distillery
