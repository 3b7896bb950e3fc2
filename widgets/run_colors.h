#pragma once
#include <QColor>
#include <QList>

#include <cstdint>
#include <map>

namespace distillery::gui {

// A run's own colour, where it is shown alone (core/export/run_palette.h: runRgb).
QColor runColor(int64_t runId);

// Colours for runs shown together: unique within the set for up to 12 runs,
// the same for the same set in every view and export (core runRgbs). extra:
// runs added to the set's view (teachers) that must not take its colours.
std::map<int64_t, QColor> runColors(const QList<int64_t>& runIds, const QList<int64_t>& extra = {});

} // namespace distillery::gui
