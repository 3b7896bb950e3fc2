#pragma once
// The forensic tests of issue 18 on what a store names (forensic_request.h):
// loads the teacher's data, the teacher, the suspect and the null (runs,
// TorchScript files, an API), runs the tests and stores each result in the
// store's forensic_results with what it was computed from. `distillery-cli
// forensics` and the GUI's Forensics view both call this, so a claim made in
// one can be re-checked with the other.
#include "core/forensics/detection_harness.h"
#include "core/forensics/forensic_request.h"
#include "core/forensics/forensic_tests.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace distillery {

class RunStore;
struct Dataset;

// "12" or "run:12": a run id; anything else (a file, a URL) is not one.
std::optional<int64_t> forensicRunId(const std::string& word);

// The data a run was trained on, preprocessed as it was: what the tests probe
// with. ConfigError(field) when the store has no such run.
Dataset forensicDataOf(RunStore& store, int64_t run_id, const std::string& field);

struct ForensicSession {
  std::string suspect_id, suspect_description, teacher_id;
  std::vector<int64_t> null;
  int64_t suspect_queries = 0;
  nlohmann::json inputs; // what each stored result records it was computed from
  std::vector<ForensicOutcome> outcomes;
  std::vector<int64_t> result_ids; // forensic_results rows, one per outcome
  // What `distillery-cli forensics --json` prints: each outcome's toJson with its stored id.
  nlohmann::json toJson() const;
};

// The request's own mistakes, before anything is opened (ConfigError naming
// the CLI option: an empty null, an unknown test, inputs out of 2..10000, an
// unknown fingerprint crafting, conferrable crafting without surrogates).
ForensicOptions forensicOptionsOf(const ForensicRequest& request);

// The fingerprint crafting a word names ("teacher", "conferrable"):
// ConfigError(--fingerprint-crafting) for another word, or for conferrable
// crafting of a fingerprint test without surrogates of both kinds.
FingerprintCrafting fingerprintCraftingOf(const std::string& word, const std::vector<ForensicTest>& tests,
                                          size_t followers, size_t refusers);
// The same check on a request's choice (the single test and the calibration).
FingerprintCrafting fingerprintCraftingOf(const FingerprintCraftingChoice& choice, const std::vector<ForensicTest>& tests);

// A run that stands for an independent model (null, negative, surrogate
// reference): not distilled from teacher_run, trained on the data of
// task_run (the run whose data the tests probe with). ConfigError(field)
// otherwise, or when the store has no such run.
void checkIndependentRun(RunStore& store, int64_t run_id, std::optional<int64_t> teacher_run, int64_t task_run,
                         const std::string& field);

// Runs and stores the tests. Throws ConfigError/DataError naming the model
// that does not fit (another class count or input shape) or the surrogate
// that may not serve (another role, a reference not independent), RunCancelled when
// progress answers false (nothing is stored then).
ForensicSession runStoredForensics(RunStore& store, const ForensicRequest& request,
                                   const ForensicProgress& progress = {});

struct CalibrationResult {
  std::vector<HarnessRow> rows;
  // What the rows were computed from, as a stored forensic result records it
  // (options, teacher, null, positives, negatives, the fingerprint crafting
  // with its surrogates' ids, the data).
  nlohmann::json inputs;
};

// The harness (detection_harness.h) on stored runs; nothing is stored.
// The fingerprint crafting is checked as for a single test, before anything
// is loaded; a surrogate may not be the teacher, a positive, a negative or in
// the null, and a surrogate reference must be independent (as forensics-roc
// requires). progress also hears of the models being loaded.
CalibrationResult runStoredCalibration(RunStore& store, const CalibrationRequest& request,
                                       const ForensicProgress& progress = {});

} // namespace distillery
