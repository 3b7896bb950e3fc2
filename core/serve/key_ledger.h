#pragma once
// The API keys' accounts: who a bearer secret belongs to, its rate limit
// (a token bucket per key) and its query budget. Thread-safe: every HTTP
// worker thread asks the one ledger. Budgets count inputs classified over the
// request log's lifetime, so a restart resumes from what the log says was spent.
#include "core/serve/serve_config.h"
#include "core/serve/token_bucket.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct Admission {
  int status = 200;          // 200, 429 (rate) or 402 (budget)
  double retry_after_s = 0;  // for 429
  std::string message;
};

class KeyLedger {
public:
  // `spent` maps key names to queries already used (from the request log).
  KeyLedger(const std::vector<ApiKey>& keys, const std::map<std::string, int64_t>& spent, double now_s);

  // The key whose secret an "Authorization" header carries ("Bearer SECRET"), if any.
  const ApiKey* authenticate(const std::string& authorization) const;
  // Takes a rate token for one request; 429 with the wait when the bucket is empty.
  Admission admitRequest(const ApiKey& key, double now_s);
  // Reserves `queries` of the budget; 402 when fewer are left (nothing is reserved then).
  Admission reserve(const ApiKey& key, int64_t queries);
  // Gives back a reservation whose request failed after all.
  void refund(const ApiKey& key, int64_t queries);
  int64_t remaining(const ApiKey& key) const;

private:
  struct Account {
    ApiKey key;
    TokenBucket bucket;
    int64_t spent = 0;
  };
  std::vector<Account> accounts_;
  std::map<std::string, size_t> by_name_;
  mutable std::mutex mutex_;
  Account& account(const ApiKey& key);
};

} // namespace distillery
