#include "core/export/point_export.h"

#include "core/export/chart_spec.h"
#include "core/export/cost_chart.h"
#include "core/export/ema_smoothing.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace distillery {

std::string exactNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

namespace {
std::string csvText(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string jsonText(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// A JSON number, or null for NaN/Inf (JSON has no such numbers).
std::string jsonNumber(double v) { return std::isfinite(v) ? exactNumber(v) : "null"; }

std::string runName(RunStore& store, int64_t id) {
  const auto run = store.run(id);
  return run ? run->name : std::string();
}
} // namespace

int64_t writePointsCsv(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                       std::ostream& out) {
  out << "run_id,run_name,metric,step,epoch,wall_s,samples,flops,teacher_queries,money,value\n";
  int64_t n = 0;
  for (int64_t id : run_ids) {
    const std::string name = csvText(runName(store, id));
    for (const MetricPoint& p : store.points(id, metric)) {
      out << p.run_id << ',' << name << ',' << csvText(p.metric) << ',' << p.step << ',' << exactNumber(p.epoch) << ','
          << exactNumber(p.wall_s) << ',' << exactNumber(p.samples) << ',' << exactNumber(p.flops) << ','
          << exactNumber(p.teacher_queries) << ',' << exactNumber(p.money) << ',' << exactNumber(p.value) << '\n';
      ++n;
    }
  }
  return n;
}

int64_t writePointsJson(RunStore& store, const std::vector<int64_t>& run_ids, const std::string& metric,
                        std::ostream& out) {
  // Streamed point by point: a run can hold millions of points.
  int64_t n = 0;
  out << "{\"runs\":[";
  for (size_t r = 0; r < run_ids.size(); ++r) {
    const int64_t id = run_ids[r];
    out << (r ? "," : "") << "\n{\"id\":" << id << ",\"name\":" << jsonText(runName(store, id)) << ",\"points\":[";
    bool first = true;
    for (const MetricPoint& p : store.points(id, metric)) {
      out << (first ? "\n" : ",\n") << "{\"metric\":" << jsonText(p.metric) << ",\"step\":" << p.step
          << ",\"epoch\":" << jsonNumber(p.epoch) << ",\"wall_s\":" << jsonNumber(p.wall_s)
          << ",\"samples\":" << jsonNumber(p.samples) << ",\"flops\":" << jsonNumber(p.flops)
          << ",\"teacher_queries\":" << jsonNumber(p.teacher_queries) << ",\"money\":" << jsonNumber(p.money)
          << ",\"value\":" << jsonNumber(p.value);
      if (!std::isfinite(p.value)) out << ",\"nonfinite\":\"" << exactNumber(p.value) << "\"";
      out << "}";
      first = false;
      ++n;
    }
    out << "]}";
  }
  out << "\n]}\n";
  return n;
}

int64_t writeChartCsv(const ChartSpec& spec, std::ostream& out) {
  const bool smoothed = spec.smoothing > 0;
  out << "run_id,run," << toString(spec.x_axis) << ",value" << (smoothed ? ",smoothed" : "") << "\n";
  int64_t n = 0;
  for (const ChartCurve& c : spec.curves) {
    const std::string name = csvText(c.label);
    const std::vector<double> shown = displayedValues(spec, c);
    for (size_t i = 0; i < c.raw.size(); ++i) {
      out << c.run_id << ',' << name << ',' << exactNumber(c.raw.x[i]) << ',' << exactNumber(c.raw.y[i]);
      if (smoothed) out << ',' << exactNumber(shown[i]);
      out << '\n';
      ++n;
    }
  }
  return n;
}

int64_t writeChartJson(const ChartSpec& spec, std::ostream& out) {
  int64_t n = 0;
  out << "{\"metric\":" << jsonText(spec.metric) << ",\"title\":" << jsonText(spec.title)
      << ",\"x_axis\":" << jsonText(toString(spec.x_axis)) << ",\"x_title\":" << jsonText(spec.xTitle())
      << ",\"y_title\":" << jsonText(spec.yTitle()) << ",\"log_y\":" << (spec.log_y ? "true" : "false")
      << ",\"smoothing\":" << jsonNumber(spec.smoothing) << ",\"runs\":[";
  for (size_t r = 0; r < spec.curves.size(); ++r) {
    const ChartCurve& c = spec.curves[r];
    out << (r ? "," : "") << "\n{\"id\":" << c.run_id << ",\"name\":" << jsonText(c.label) << ",\"x\":[";
    for (size_t i = 0; i < c.raw.size(); ++i) out << (i ? "," : "") << jsonNumber(c.raw.x[i]);
    out << "],\"value\":[";
    for (size_t i = 0; i < c.raw.size(); ++i) out << (i ? "," : "") << jsonNumber(c.raw.y[i]);
    out << "]";
    if (spec.smoothing > 0) {
      const std::vector<double> shown = displayedValues(spec, c);
      out << ",\"smoothed\":[";
      for (size_t i = 0; i < shown.size(); ++i) out << (i ? "," : "") << jsonNumber(shown[i]);
      out << "]";
    }
    out << ",\"nonfinite\":[";
    bool first = true;
    for (size_t i = 0; i < c.raw.size(); ++i) {
      if (std::isfinite(c.raw.y[i])) continue;
      out << (first ? "" : ",") << "{\"index\":" << i << ",\"value\":\"" << exactNumber(c.raw.y[i]) << "\"}";
      first = false;
    }
    out << "]}";
    n += int64_t(c.raw.size());
  }
  out << "\n]}\n";
  return n;
}

namespace {
// 1-based rank of point i on the front, 0 when off it.
size_t frontRank(const CostChart& chart, size_t i) {
  const auto it = std::find(chart.front.begin(), chart.front.end(), i);
  return it == chart.front.end() ? 0 : size_t(it - chart.front.begin()) + 1;
}
} // namespace

int64_t writeCostChartCsv(const CostChart& chart, std::ostream& out) {
  out << "run_id,run,role,teacher_run_id," << costSummaryKey(chart.cost) << ',' << costAccuracySummaryKey(chart.accuracy)
      << ",front,counted\n";
  for (size_t i = 0; i < chart.points.size(); ++i) {
    const CostPoint& p = chart.points[i];
    const size_t rank = frontRank(chart, i);
    out << p.run_id << ',' << csvText(p.label) << ',' << (p.teacher ? "teacher" : "run") << ','
        << (p.teacher_run_id ? std::to_string(p.teacher_run_id) : std::string()) << ',' << exactNumber(p.cost) << ','
        << exactNumber(p.accuracy) << ',' << (rank ? std::to_string(rank) : std::string()) << ','
        << csvText(p.counted) << '\n';
  }
  return int64_t(chart.points.size());
}

int64_t writeCostChartJson(const CostChart& chart, std::ostream& out) {
  out << "{\"cost\":" << jsonText(costSummaryKey(chart.cost)) << ",\"accuracy\":"
      << jsonText(costAccuracySummaryKey(chart.accuracy)) << ",\"log_x\":" << (chart.log_x ? "true" : "false")
      << ",\"points\":[";
  for (size_t i = 0; i < chart.points.size(); ++i) {
    const CostPoint& p = chart.points[i];
    out << (i ? "," : "") << "\n{\"id\":" << p.run_id << ",\"name\":" << jsonText(p.label)
        << ",\"teacher\":" << (p.teacher ? "true" : "false") << ",\"teacher_run_id\":" << p.teacher_run_id
        << ",\"cost\":" << jsonNumber(p.cost) << ",\"accuracy\":" << jsonNumber(p.accuracy)
        << ",\"counted\":" << jsonText(p.counted) << "}";
  }
  out << "],\n\"front\":[";
  for (size_t k = 0; k < chart.front.size(); ++k) out << (k ? "," : "") << chart.points[chart.front[k]].run_id;
  out << "],\"missing\":[";
  for (size_t k = 0; k < chart.missing.size(); ++k) out << (k ? "," : "") << chart.missing[k];
  out << "]}\n";
  return int64_t(chart.points.size());
}

} // namespace distillery
