#pragma once
// The classifier tests of issue 18, part 1: is a suspect a copy of the
// teacher? Each test builds one probe from the teacher and its test data
// (the inputs every model is asked, and what the answers are compared with),
// turns each model's answers into a statistic, and calibrates the suspect's
// statistic against a null of independent models (rank_p_value.h).
//   agreement:   the suspect's labels agree with the teacher's on natural test
//                inputs (higher: closer). The baseline the others must beat.
//   sac:         SAC-m, the distance between the correlation matrices of the
//                two models' probabilities on CutMix inputs (lower: closer).
//                Needs probabilities.
//   fingerprint: the suspect answers the target class of targeted adversarial
//                examples made on the teacher (higher: closer). Labels suffice.
//                Crafted on the teacher alone, or (fingerprint.crafting
//                conferrable) on the teacher with surrogate students and
//                references (targeted_fingerprints.h).
#include "core/forensics/forensic_model.h"
#include "core/forensics/rank_p_value.h"
#include "core/forensics/targeted_fingerprints.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace distillery {

enum class ForensicTest { Agreement, Sac, Fingerprint };

const char* toString(ForensicTest t); // "agreement", "sac", "fingerprint"
std::optional<ForensicTest> forensicTestFromString(const std::string& word);

struct ForensicOptions {
  std::vector<ForensicTest> tests{ForensicTest::Agreement, ForensicTest::Sac, ForensicTest::Fingerprint};
  int64_t inputs = 64; // per test: what each model (the suspect included) is asked
  uint64_t seed = 0;
  FingerprintSettings fingerprint; // count and seed follow inputs and seed
  // The surrogates (targeted_fingerprints.h): teacher crafting filters with
  // them (optional), conferrable crafting optimises over them (required).
  // Never the null's models nor the ones being judged.
  std::vector<Classifier> fingerprint_followers, fingerprint_refusers;
  nlohmann::json toJson() const; // what the store records (the filters by size only)
};

// Told of each step (a probe built, a model asked) as done of total; answering
// false stops the work: reportForensicStep then throws RunCancelled
// (core/base/stop_token.h), which the caller's worker turns into "cancelled".
using ForensicProgress = std::function<bool(const std::string& step, int64_t done, int64_t total)>;
void reportForensicStep(const ForensicProgress& progress, const std::string& step, int64_t done, int64_t total);

struct ForensicProbe {
  ForensicTest test = ForensicTest::Agreement;
  torch::Tensor inputs;               // what each model is asked
  torch::Tensor labels;               // agreement: the teacher's labels; fingerprint: the targets
  std::vector<double> teacher_matrix; // sac: the teacher's correlation matrix
  Closeness closeness = Closeness::HigherIsCloser;
  bool needs_probabilities = false;
  nlohmann::json notes = nlohmann::json::object(); // e.g. how many fingerprints were crafted
};

// Throws ConfigError naming the test when it cannot be built (no test data,
// no fingerprint the teacher follows).
ForensicProbe makeProbe(ForensicTest test, const Classifier& teacher, const Dataset& data,
                        const ForensicOptions& options);

// The probe cut to its first k inputs (SAC-m: the teacher matrix's top-left
// k x k block): what a suspect asked only k queries would be tested on.
ForensicProbe prefixProbe(const ForensicProbe& probe, int64_t k);

// The statistic of one model's answers (probabilities [N, classes]) to the probe.
double probeStatistic(const ForensicProbe& probe, const torch::Tensor& probabilities);

struct ForensicOutcome {
  ForensicTest test = ForensicTest::Agreement;
  std::string skipped; // why the test did not run on this suspect; empty: it ran
  double statistic = 0;
  RankPValue p;
  std::vector<double> null_statistics; // in the order of the null models
  int64_t inputs = 0;                  // inputs in the probe
  int64_t suspect_queries = 0;         // inputs sent to the suspect for this test
  Closeness closeness = Closeness::HigherIsCloser;
  nlohmann::json notes = nlohmann::json::object();
  nlohmann::json toJson() const;
};

// Runs each test of options on the suspect and on every null model. A test that
// needs probabilities is skipped, saying so, for a label-only suspect.
// progress hears of tests x (probe, suspect, each null model) steps.
std::vector<ForensicOutcome> runForensicTests(const Classifier& teacher, const Dataset& data,
                                              ForensicModel& suspect, std::vector<ForensicModel>& null,
                                              const ForensicOptions& options, const ForensicProgress& progress = {});

} // namespace distillery
