#pragma once
// The two charts of the defense trade-off (core/analysis/defense_tradeoff.h),
// as the painter, the compare view's Defenses tab and the reports draw them:
//   - clone fidelity against benign cost: one labelled disc per API run,
//     coloured by defense (the best defense sits low and to the left); runs
//     on one spot share a label ("#20,#24");
//   - clone fidelity against queries (log x): one line per defense, attacker
//     method and query strategy, label-only attackers dashed; when the runs
//     mix strategies, those but the first (train) dotted with hollow markers.
// Fidelity is in percent, benign cost in percentage points. Torch-free and Qt-free.
#include "core/analysis/defense_tradeoff.h"
#include "core/export/chart_spec.h"

namespace distillery {

// Points closer than these shares of the x and y ranges share one label.
extern const double kLabelShareX, kLabelShareY;

// Runs lacking a figure of a chart are left out of it (not drawn at zero).
ChartSpec defenseCostChartSpec(const DefenseTradeoff& tradeoff);
ChartSpec defenseQueriesChartSpec(const DefenseTradeoff& tradeoff);

// The paragraph that opens a report's Defenses section: what the figures mean.
const char* defenseSectionIntro();

} // namespace distillery
