#include "core/store/run_recorder.h"

#include "core/store/run_store.h"

namespace distillery {

namespace {
constexpr size_t kMaxBufferedPoints = 512;
constexpr auto kMaxBufferAge = std::chrono::milliseconds(500);
} // namespace

RunRecorder::RunRecorder(RunStore* store, RunObserver* observer, int64_t run_id)
    : store_(store), observer_(observer), run_id_(run_id), last_flush_(std::chrono::steady_clock::now()),
      start_(last_flush_) {
  points_.reserve(kMaxBufferedPoints);
}

RunRecorder::~RunRecorder() {
  try {
    flush(true);
  } catch (...) {
    // A destructor must not throw; the engine flushes explicitly before it returns.
  }
}

void RunRecorder::add(MetricPoint point) {
  if (!record_points_) return;
  point.run_id = run_id_;
  points_.push_back(std::move(point));
  if (points_.size() >= kMaxBufferedPoints) flush(true);
}

void RunRecorder::log(const std::string& level, const std::string& message) {
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  LogEvent e{run_id_, wall, level, message};
  if (store_) store_->appendLogs({e});
  if (observer_) observer_->onLog(e);
}

void RunRecorder::flush(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && points_.size() < kMaxBufferedPoints && now - last_flush_ < kMaxBufferAge) return;
  last_flush_ = now;
  if (points_.empty()) return;
  if (store_) store_->appendPoints(points_);
  if (observer_) observer_->onPoints(points_);
  points_.clear();
}

} // namespace distillery
