#pragma once
// Round, readable tick labels on Qt Charts axes. A QValueAxis formats labels
// with printf (1e+10, not 10G) and a QLogValueAxis labels only powers of its
// base (one label, or none, on a narrow log range). A QCategoryAxis with
// labels on values shows the core's ticks instead (core/export/axis_ticks.h: 1-2-5
// steps; log decades, 1-2-5 within them, or linear steps on narrow log
// ranges; SI suffixes), the same ticks the exported charts draw.
//
// A log axis here is a linear axis over log10 of the values: whatever is
// drawn against it carries toAxis(value, AxisScale::Log).
#include <QStringList>

class QCategoryAxis;
class QObject;

namespace distillery::gui {

enum class AxisScale { Linear, Log };

double toAxis(double value, AxisScale scale);
double fromAxis(double axisValue, AxisScale scale);

// Shows [lo, hi] (values, not logarithms; lo > 0 on a log scale) with about
// targetCount labelled ticks.
void setAxisTicks(QCategoryAxis* axis, double lo, double hi, AxisScale scale, int targetCount);

// A new axis for setAxisTicks: labels on the tick values.
QCategoryAxis* newTickAxis(QObject* parent = nullptr);

// The labels shown, bottom to top or left to right (for tests and status text).
QStringList axisTickLabels(const QCategoryAxis* axis);

} // namespace distillery::gui
