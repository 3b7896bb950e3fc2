#include "core/run_recorder.h"

#include "core/run_store.h"

namespace distillery {

namespace {
constexpr size_t kMaxBufferedPoints = 512;
constexpr auto kMaxBufferAge = std::chrono::milliseconds(500);
} // namespace

RunRecorder::RunRecorder(RunStore* store, RunObserver* observer, int64_t run_id)
    : store_(store), observer_(observer), run_id_(run_id), last_flush_(std::chrono::steady_clock::now()) {
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
  point.run_id = run_id_;
  points_.push_back(std::move(point));
  if (points_.size() >= kMaxBufferedPoints) flush(true);
}

void RunRecorder::log(const std::string& level, const std::string& message, double wall_s) {
  LogEvent e{run_id_, wall_s, level, message};
  if (observer_) observer_->onLog(e);
  logs_.push_back(std::move(e));
}

void RunRecorder::flush(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && points_.size() < kMaxBufferedPoints && now - last_flush_ < kMaxBufferAge) return;
  last_flush_ = now;
  if (points_.empty() && logs_.empty()) return;
  if (store_) {
    if (!points_.empty()) store_->appendPoints(points_);
    if (!logs_.empty()) store_->appendLogs(logs_);
  }
  if (observer_ && !points_.empty()) observer_->onPoints(points_);
  points_.clear();
  logs_.clear();
}

} // namespace distillery
