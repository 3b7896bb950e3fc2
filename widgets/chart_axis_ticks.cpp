#include "widgets/chart_axis_ticks.h"

#include "core/export/axis_ticks.h"

#include <QCategoryAxis>

#include <cmath>
#include <limits>

namespace distillery::gui {

double toAxis(double value, AxisScale scale) {
  if (scale == AxisScale::Linear) return value;
  return value > 0 ? std::log10(value) : std::numeric_limits<double>::quiet_NaN();
}

double fromAxis(double axisValue, AxisScale scale) {
  return scale == AxisScale::Linear ? axisValue : std::pow(10.0, axisValue);
}

QCategoryAxis* newTickAxis(QObject* parent) {
  auto* axis = new QCategoryAxis(parent);
  axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  return axis;
}

void setAxisTicks(QCategoryAxis* axis, double lo, double hi, AxisScale scale, int targetCount) {
  for (const QString& label : axis->categoriesLabels()) axis->remove(label);
  if (scale == AxisScale::Log && !(lo > 0)) lo = hi > 0 ? hi * 1e-3 : 1e-3;
  if (!(hi > lo)) hi = lo + (scale == AxisScale::Log ? lo : 1.0);
  const double a0 = toAxis(lo, scale), a1 = toAxis(hi, scale);
  const std::vector<AxisTick> ticks =
      scale == AxisScale::Log ? logTicks(lo, hi, targetCount) : linearTicks(lo, hi, targetCount);
  // Categories run from the start value to each tick; the start sits just
  // below the range so a tick on its lower edge still gets a category.
  axis->setStartValue(a0 - (a1 - a0) * 1e-6);
  double last = -std::numeric_limits<double>::infinity();
  for (const AxisTick& t : ticks) {
    if (!t.major || t.label.empty()) continue;
    const double a = toAxis(t.value, scale);
    if (!(a > last) || a < a0 - (a1 - a0) * 1e-9 || a > a1 + (a1 - a0) * 1e-9) continue;
    axis->append(QString::fromStdString(t.label), a);
    last = a;
  }
  axis->setRange(a0, a1);
}

QStringList axisTickLabels(const QCategoryAxis* axis) {
  return const_cast<QCategoryAxis*>(axis)->categoriesLabels(); // a getter Qt did not mark const
}

} // namespace distillery::gui
