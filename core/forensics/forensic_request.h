#pragma once
// What the forensic tests of issue 18 are asked to run on, as the store names
// it: the CLI's `forensics` arguments and the GUI's Forensics view fill the
// same request (forensic_session.h runs it). Torch-free, so Qt views can hold it.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distillery {

// How the fingerprint test crafts its inputs and with which surrogates: one
// piece both requests hold, so a suspect's test and the calibration of that
// test are filled, checked (fingerprintCraftingOf, forensic_session.h) and
// recorded alike. `forensics-roc`'s lists also take .pt files, so the CLI
// checks its words with the same function on their counts.
struct FingerprintCraftingChoice {
  std::string crafting = "teacher"; // or "conferrable" (needs both surrogate lists)
  // Students of the teacher (crafted towards) and independent references
  // (crafted away from); neither may have another role in the request.
  std::vector<int64_t> confer_with, confer_against;
};

struct ForensicRequest {
  std::string suspect; // a run id ("12" or "run:12"), a TorchScript file, or a teacher API URL
  std::string api_key_env = "DISTILLERY_API_KEY"; // an API suspect's key is read from this variable
  std::string teacher; // a run id or a TorchScript file
  std::vector<int64_t> null; // independent finished runs on the teacher's data
  std::vector<std::string> tests{"agreement", "sac", "fingerprint"};
  FingerprintCraftingChoice fingerprint; // surrogates: not the suspect, the teacher or in the null
  int64_t inputs = 64; // per test
  uint64_t seed = 0;
};

// The calibration of the tests (detection_harness.h) on stored runs: copies of
// the teacher, each labelled by how it was made, against independent runs
// that are not in the null.
struct CalibrationRequest {
  std::string teacher; // a run id or a TorchScript file
  std::vector<std::pair<std::string, int64_t>> positives; // (kind, run id)
  std::vector<int64_t> negatives;
  std::vector<int64_t> null;
  std::vector<std::string> tests{"agreement", "sac", "fingerprint"};
  FingerprintCraftingChoice fingerprint; // surrogates: not the teacher, a positive, a negative or in the null
  int64_t inputs = 64;
  uint64_t seed = 0;
  std::vector<int64_t> ladder; // prefix sizes for queries-to-decision; empty: 8, 16, 32, ... up to inputs
};

} // namespace distillery
