#include "widgets/run_follower.h"

namespace distillery::gui {

RunFollower::News RunFollower::look(distillery::RunStore& store, int64_t runId) {
  const auto it = cursors_.find(runId);
  const Cursors at = it == cursors_.end() ? Cursors{} : it->second;
  distillery::PointsSince points = store.pointsSince(runId, at.points);
  distillery::LogsSince logs = store.logsSince(runId, at.logs);
  cursors_[runId] = {points.next, logs.next};
  News news;
  news.points = std::move(points.rows);
  news.logs = std::move(logs.rows);
  news.pointsRestarted = points.restarted;
  news.logsRestarted = logs.restarted;
  return news;
}

std::vector<int64_t> RunFollower::followed() const {
  std::vector<int64_t> ids;
  for (const auto& [id, cursors] : cursors_) ids.push_back(id);
  return ids;
}

} // namespace distillery::gui
