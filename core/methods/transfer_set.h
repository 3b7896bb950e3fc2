#pragma once
// The transfer set: the inputs (and labels, unless hidden) a student is
// distilled on. By default it is the run's training split; a transfer config
// can take a seeded fraction of it, hide its labels, or replace it with
// another dataset's images, preprocessed like the run's data so the teacher
// sees inputs like those it was trained on.
#include "core/data/dataset.h"
#include "core/config/run_config.h"

#include <nlohmann/json.hpp>

namespace distillery {

// Labels of a transfer set whose labels are hidden: never read, and out of
// range so that reading one by mistake fails loudly.
inline constexpr int64_t kHiddenLabel = -1;

// `data` with its training split replaced by the transfer set. Validation and
// test splits stay the run's own. Throws DataError naming the other dataset's
// path when its images do not have the run's shape.
Dataset makeTransferSet(const Dataset& data, const TransferConfig& transfer, uint64_t seed);

// What the run summary records about it: samples, source, whether labels were hidden.
nlohmann::json transferSummary(const Dataset& transfer_set, const TransferConfig& transfer);

} // namespace distillery
