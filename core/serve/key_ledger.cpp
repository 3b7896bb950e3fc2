#include "core/serve/key_ledger.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace distillery {

namespace {

// Compares every byte whatever the first difference, so the time taken does not tell how much of a guess was right.
bool sameSecret(const std::string& a, const std::string& b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? uint8_t(a[i]) : 0, y = i < b.size() ? uint8_t(b[i]) : 0;
    diff |= unsigned(x ^ y);
  }
  return diff == 0;
}

std::string shortNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

} // namespace

KeyLedger::KeyLedger(const std::vector<ApiKey>& keys, const std::map<std::string, int64_t>& spent, double now_s) {
  for (const auto& k : keys) {
    auto it = spent.find(k.name);
    by_name_[k.name] = accounts_.size();
    accounts_.push_back({k, TokenBucket(k.rate_per_s, k.burst, now_s), it == spent.end() ? 0 : it->second});
  }
}

const ApiKey* KeyLedger::authenticate(const std::string& authorization) const {
  const std::string scheme = "Bearer ";
  if (authorization.size() <= scheme.size()) return nullptr;
  bool bearer = true;
  for (size_t i = 0; i < scheme.size(); ++i) // the scheme is case-insensitive (RFC 7235)
    bearer = bearer && std::tolower(uint8_t(authorization[i])) == std::tolower(uint8_t(scheme[i]));
  if (!bearer) return nullptr;
  const std::string secret = authorization.substr(scheme.size());
  const ApiKey* found = nullptr;
  for (const auto& a : accounts_)
    if (sameSecret(a.key.secret, secret)) found = &a.key;
  return found;
}

KeyLedger::Account& KeyLedger::account(const ApiKey& key) { return accounts_[by_name_.at(key.name)]; }

Admission KeyLedger::admitRequest(const ApiKey& key, double now_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  const double wait = account(key).bucket.take(now_s);
  if (wait <= 0) return {};
  return {429, wait, "rate limit of " + shortNumber(key.rate_per_s) + " requests/s (burst " +
                         shortNumber(key.burst) + ") exceeded; retry in " + shortNumber(std::ceil(wait)) + " s"};
}

Admission KeyLedger::reserve(const ApiKey& key, int64_t queries) {
  std::lock_guard<std::mutex> lock(mutex_);
  Account& a = account(key);
  const int64_t left = a.key.budget - a.spent;
  if (queries > left)
    return {402, 0, "query budget exhausted: " + std::to_string(left) + " of " + std::to_string(a.key.budget) +
                        " queries left, this request needs " + std::to_string(queries)};
  a.spent += queries;
  return {};
}

void KeyLedger::refund(const ApiKey& key, int64_t queries) {
  std::lock_guard<std::mutex> lock(mutex_);
  account(key).spent -= queries;
}

int64_t KeyLedger::remaining(const ApiKey& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Account& a = accounts_[by_name_.at(key.name)];
  return a.key.budget - a.spent;
}

} // namespace distillery
