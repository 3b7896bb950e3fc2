#pragma once
// Every stored point of some runs, at full resolution, as CSV or JSON.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace distillery {

class RunStore;
struct ChartSpec;
struct CostChart;

// CSV columns: run_id,run_name,metric,step,epoch,wall_s,samples,flops,teacher_queries,money,value
// (one header line, then one line per point; NaN/Inf written as nan/inf).
// metric empty: all metrics. Returns the number of points written.
int64_t writePointsCsv(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                       std::ostream& out);
// JSON: {"runs":[{"id":..,"name":..,"points":[{"metric":..,"step":..,...,"value":..}]}]};
// NaN/Inf as null with "nonfinite":"nan"|"inf"|"-inf" so nothing is lost silently.
int64_t writePointsJson(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                        std::ostream& out);

// One chart's curves as shown: columns run_id,run (the legend label),<x axis word>,value and,
// when the chart is smoothed, smoothed. Every point, not only the zoomed range.
int64_t writeChartCsv(const ChartSpec& spec, std::ostream& out);
// {"metric":..,"x_axis":..,"smoothing":..,"runs":[{"id":..,"name":<legend label>,"x":[..],"value":[..]}]},
// non-finite values as null plus "nonfinite":[{"index":i,"value":"nan"}].
int64_t writeChartJson(const ChartSpec& spec, std::ostream& out);

// The cost chart's points, as stored (accuracy a fraction): columns
// run_id,run,role (run|teacher),teacher_run_id,<cost summary key>,<accuracy summary key>,front
// (the point's rank on the Pareto front by increasing cost, 1-based; empty when off it),counted
// (costCountedText: what the cost holds; wall time includes a cache's teacher inference).
int64_t writeCostChartCsv(const CostChart& chart, std::ostream& out);
// {"cost":<summary key>,"accuracy":<summary key>,"log_x":..,"points":[{"id","name","teacher","teacher_run_id",
// "cost","accuracy","counted"}],"front":[run ids by increasing cost],"missing":[run ids without the figures]}.
int64_t writeCostChartJson(const CostChart& chart, std::ostream& out);

// Shortest text that reads back as the same double; nan, inf, -inf otherwise.
std::string exactNumber(double value);

} // namespace distillery
