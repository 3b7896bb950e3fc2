#pragma once
// Types that travel through queued signals from a run's worker thread to the
// GUI thread. Point batches are shared and immutable so a batch is copied once,
// however many receivers it has.
#include "core/store/metric_point.h"
#include "core/store/run_observer.h"

#include <QMetaType>

#include <memory>
#include <vector>

namespace distillery::gui {

using MetricPointBatch = std::shared_ptr<const std::vector<distillery::MetricPoint>>;

// Idempotent; call before the first queued connection carries these types.
void registerRunMetaTypes();

} // namespace distillery::gui

Q_DECLARE_METATYPE(distillery::RunProgress)
Q_DECLARE_METATYPE(distillery::LogEvent)
Q_DECLARE_METATYPE(distillery::gui::MetricPointBatch)
