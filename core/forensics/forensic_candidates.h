#pragma once
// Which stored runs a forensic test can use (issue 18, part 4): the
// independent models a null (or the calibration's negatives) is made of, and
// the students of a reference teacher, labelled by how they were made (the
// calibration's positives). The Forensics view preselects from these; the
// user may change the selection.
#include "core/store/run_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct ForensicCandidate {
  int64_t run_id = 0;
  std::string kind; // students: the method ("kd", "kd via API"); independent runs: "independent"
};

struct ForensicCandidates {
  std::vector<ForensicCandidate> independent; // finished image runs on the reference's data, no teacher (or method none)
  std::vector<ForensicCandidate> students;    // finished runs whose teacher is the reference run
};

// runs: the store's runs; reference: the teacher run (0: a file, so no
// students and no data to match: every finished independent image run).
// The reference itself is in neither list. Runs whose config does not parse are left out.
ForensicCandidates forensicCandidates(const std::vector<RunRecord>& runs, int64_t reference);

} // namespace distillery
