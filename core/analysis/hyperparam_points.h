#pragma once
// The data of a hyperparameter plot: one point per run, a config key on x
// (e.g. "method.temperature", "optim.lr", "student") against a summary metric
// on y (e.g. "best_val_accuracy"). Numeric keys keep their values; any other
// key becomes categories, placed at 0, 1, 2, ... in sorted order.
#include "core/store/run_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct HyperparamPoint {
  int64_t run_id = 0;
  std::string label;  // "#12 kd-T4"
  std::string x_text; // the config value as written ("0.001", "kd", "mlp[128]")
  double x = 0.0;     // the value, or the category's index
  double y = 0.0;
};

struct HyperparamScatter {
  std::string x_key;
  std::string y_metric;
  bool x_numeric = true;               // false: x is an index into categories
  std::vector<std::string> categories; // sorted, numbers in numeric order
  std::vector<HyperparamPoint> points; // in the runs' order
  std::vector<int64_t> missing;        // runs without the key or a finite metric
};

HyperparamScatter hyperparamScatter(const std::vector<RunRecord>& runs, const std::string& x_key,
                                    const std::string& y_metric);

struct HyperparamKeys {
  std::vector<std::string> config_keys; // keys whose value differs between the runs first, then the rest
  size_t varying = 0;                   // how many of config_keys differ between the runs
  std::vector<std::string> metrics;     // summary keys with a finite number in some run
};
HyperparamKeys hyperparamKeys(const std::vector<RunRecord>& runs);

} // namespace distillery
