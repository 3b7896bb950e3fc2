#pragma once
// The model-stealing trade-off of API defenses (issue 17): for each run that
// distilled a clone through a teacher API (its summary holds "api"), what the
// defense cost honest users (benign cost: the undefended teacher's test
// accuracy minus the accuracy of the defended answers) against what it left
// the attacker (fidelity: the clone's test agreement with the undefended
// teacher), and how fidelity grows with the queries bought. Runs are grouped
// into series, one per defense, attacker method and query strategy (a clone
// trained on in-distribution queries and one trained on transfer data are
// different attacks, not two budgets of one). Torch-free and Qt-free:
// the compare view's Defenses tab and the reports read the same points.
#include "core/export/table_data.h"
#include "core/store/run_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

struct DefensePoint {
  int64_t run_id = 0;
  std::string run_label; // "#12 clone-rs"
  std::string defense;   // api.defense; else described from api.output ("reverse_sigmoid + probs")
  std::string method;    // the attacker's distillation method: config method.name (else summary "method")
  bool label_only = false; // hard_label: trains on the API's top-1 answers only
  std::string strategy;  // api.strategy: train, transfer, noise, active ("" if absent)
  std::optional<int64_t> queries;        // training answers the clone used
  std::optional<int64_t> queries_bought; // of which not from the answer cache
  std::optional<double> money;
  std::string currency;
  // Fractions, as stored; nullopt where the summary lacks them (or holds null).
  std::optional<double> benign_accuracy;
  std::optional<double> reference_test_accuracy;
  std::optional<double> benign_cost; // reference_test_accuracy - benign_accuracy
  std::optional<double> fidelity;
  std::optional<double> clone_accuracy; // the clone's own test_accuracy
};

// The runs of one defense, one attacker method and one query strategy.
struct DefenseSeries {
  std::string defense;
  std::string method;
  bool label_only = false;
  std::string strategy;        // as DefensePoint::strategy
  bool other_strategy = false; // not the selection's first strategy (DefenseTradeoff::strategies[0]): drawn apart
  // "reverse_sigmoid(beta=0.7) + probs · kd", then ", transfer" when the selection holds several strategies.
  std::string label;
  uint32_t rgb = 0;           // one colour per defense; both attackers of a defense share it
  std::vector<size_t> points; // indices into DefenseTradeoff::points, by increasing queries (unknown last)
};

struct DefenseTradeoff {
  std::vector<DefensePoint> points; // the API runs, in the order given
  std::vector<DefenseSeries> series; // by defense, then soft-label before label-only, then method, then strategy
  std::vector<int64_t> not_api;      // runs given that hold no summary "api"
  // The query strategies among the points: train, transfer, noise, active, others by name, "" (unknown) last.
  std::vector<std::string> strategies;

  bool mixedStrategies() const { return strategies.size() > 1; }

  bool empty() const { return points.empty(); }
  // The points in table order: series by series, each by queries.
  std::vector<size_t> orderedPoints() const;
};

// "kd (soft labels)" or "hard_label (labels only)".
std::string attackerLabel(const std::string& method, bool label_only);
// A strategy as a legend names it: "unknown strategy" for "".
std::string strategyLabel(const std::string& strategy);
// A short label of an API output config: its transforms with their
// parameters, then the mode ("reverse_sigmoid(beta=0.7, gamma=0.3) + topk(k=3)").
std::string describeApiOutput(const nlohmann::json& output);

// From finished runs (summary and config). Never throws on a malformed
// summary: a field of the wrong type counts as missing.
DefenseTradeoff defenseTradeoff(const std::vector<RunRecord>& runs);
// Reads the runs; ids the store lacks are skipped.
DefenseTradeoff defenseTradeoffFromStore(RunStore& store, const std::vector<int64_t>& run_ids);

// One row per API run, in table order: run, defense, attacker, strategy,
// queries, benign cost (percentage points), clone accuracy and fidelity (%).
// Missing figures read "–".
TableData defenseTable(const DefenseTradeoff& tradeoff);

} // namespace distillery
