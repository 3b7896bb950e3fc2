#pragma once
// The two charts of the defense trade-off (core/analysis/defense_tradeoff.h),
// as the painter, the compare view's Defenses tab and the reports draw them:
//   - clone fidelity against benign cost: one labelled disc per API run,
//     coloured by defense (the best defense sits low and to the left);
//   - clone fidelity against queries (log x): one line per defense and
//     attacker method, label-only attackers dashed.
// Fidelity is in percent, benign cost in percentage points. Torch-free and Qt-free.
#include "core/analysis/defense_tradeoff.h"
#include "core/export/chart_spec.h"

namespace distillery {

// Runs lacking a figure of a chart are left out of it (not drawn at zero).
ChartSpec defenseCostChartSpec(const DefenseTradeoff& tradeoff);
ChartSpec defenseQueriesChartSpec(const DefenseTradeoff& tradeoff);

// The paragraph that opens a report's Defenses section: what the figures mean.
const char* defenseSectionIntro();

} // namespace distillery
