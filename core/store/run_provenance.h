#pragma once
// Where a run's result came from, as label/value lines for reports: teacher
// source and file hash, dataset path and hash, versions, device, dates, and
// the researcher's tags and notes.
#include "core/store/run_store.h"

#include <string>
#include <vector>

namespace distillery {

struct ProvenanceItem {
  std::string label; // "Dataset hash"
  std::string value;
};

// store: to name the teacher run and hash its stored model (may be null).
std::vector<ProvenanceItem> runProvenance(const RunRecord& run, RunStore* store);

} // namespace distillery
