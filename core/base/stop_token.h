#pragma once
#include <atomic>

namespace distillery {

// Shared between the thread that asks for a stop and the training loop, which
// polls it once per batch.
class StopToken {
public:
  void requestStop() { stop_.store(true, std::memory_order_relaxed); }
  bool stopRequested() const { return stop_.load(std::memory_order_relaxed); }

private:
  std::atomic<bool> stop_{false};
};

// Thrown once a run saw its token's stop request, to unwind it from deep inside
// a phase (a teacher's training, a cache fill); executeRun turns it into the
// Cancelled outcome, and trainTeacherRun marks the teacher's run cancelled.
struct RunCancelled {};

} // namespace distillery
