#pragma once
// What the forensic tests of issue 18 are asked to run on, as the store names
// it: the CLI's `forensics` arguments and the GUI's Forensics view fill the
// same request (forensic_session.h runs it). Torch-free, so Qt views can hold it.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distillery {

struct ForensicRequest {
  std::string suspect; // a run id ("12" or "run:12"), a TorchScript file, or a teacher API URL
  std::string api_key_env = "DISTILLERY_API_KEY"; // an API suspect's key is read from this variable
  std::string teacher; // a run id or a TorchScript file
  std::vector<int64_t> null; // independent finished runs on the teacher's data
  std::vector<std::string> tests{"agreement", "sac", "fingerprint"};
  // The fingerprints' surrogates: students of the teacher, independent references (neither in the null).
  std::vector<int64_t> confer_with, confer_against;
  std::string fingerprint_crafting = "teacher"; // or "conferrable" (needs both surrogate lists)
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
  int64_t inputs = 64;
  uint64_t seed = 0;
  std::vector<int64_t> ladder; // prefix sizes for queries-to-decision; empty: 8, 16, 32, ... up to inputs
};

} // namespace distillery
