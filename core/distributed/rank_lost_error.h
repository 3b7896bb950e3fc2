#pragma once
// A data-parallel run lost one of its ranks (killed, crashed, unreachable):
// the run ends as interrupted, resumable with the same world size.
#include "core/base/errors.h"

#include <string>

namespace distillery {

class RankLostError : public DistilleryError {
public:
  RankLostError(int rank, const std::string& what) : DistilleryError(what), rank_(rank) {}
  int rank() const { return rank_; } // -1: the lost rank could not be told
private:
  int rank_;
};

} // namespace distillery
