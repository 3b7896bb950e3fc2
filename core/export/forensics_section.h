#pragma once
// The report's Forensics section (issue 18, part 4): the stored results of
// `distillery-cli forensics` (RunStore::forensicResults) whose suspect or
// reference is one of the report's runs, one row each (test, suspect,
// reference, null size, statistic, p-value, a verdict in plain words) and
// what each was computed from (the tests run together, inputs, seed, null runs,
// data), so a reader can re-check the claim.
#include "core/export/table_data.h"
#include "core/forensics/forensic_verdict.h"
#include "core/store/run_store.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery {


// Results naming one of the runs ("run:ID") as suspect or reference, oldest first.
std::vector<ForensicResult> forensicResultsOfRuns(RunStore& store, const std::vector<int64_t>& run_ids);

// "copied from #3 teacher: p = 0.0244 against 40 independent models", "no
// evidence of copying: ...", "inconclusive: ..." or "not run: <why>".
// `labels` names runs ("run:3" -> "#3 teacher"); others are shown as stored.
std::string forensicVerdict(const ForensicResult& result, const std::map<std::string, std::string>& labels = {});

TableData forensicResultsTable(const std::vector<ForensicResult>& results,
                               const std::map<std::string, std::string>& labels = {});
TableData forensicSourcesTable(const std::vector<ForensicResult>& results);

const char* forensicsSectionIntro();

} // namespace distillery
