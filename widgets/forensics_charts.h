#pragma once
// The pictures and words of the Forensics view (issue 18, part 4), from the
// JSON a forensic result is stored as (ForensicOutcome::toJson): the null's
// statistics as a histogram with the suspect's statistic as a vertical line,
// the verdict in plain words, and the calibration's ROC curves.
#include <QString>
#include <QVector>
#include <QPointF>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

class QChart;

namespace distillery::gui {

// The level a p-value is called evidence of copying at is kForensicLevel
// (core/forensics/forensic_verdict.h), said in the view.

// "#12" for "run:12", the file name for a path, the URL as it is.
QString forensicModelLabel(const std::string& id);

// One line of plain words: "distilled from #12: p = 0.024 against 40
// independent models", "no evidence of copying: p = 0.41 against 40
// independent models", or "skipped: <why>".
QString forensicVerdict(const nlohmann::json& result, const std::string& teacher);
// The line under it: the statistic, which way is closer, how many null models
// were as close, and when the null is too small to reach the threshold.
QString forensicDetails(const nlohmann::json& result);
// How the fingerprint test crafted its inputs, from what a result was computed
// from (its stored inputs_json, ForensicSession::inputs): "fingerprints crafted
// on the teacher alone" or "fingerprints crafted conferrable with surrogate
// students #3 and references #9". Empty when the fingerprint test was not run.
QString forensicCraftingText(const nlohmann::json& inputs);

// The null histogram's bins: equal widths, with the suspect's statistic on an
// edge, so every bar holds values from one side of it only and the bars on the
// closer side add up to "N of M as close or closer". A value equal to the
// suspect's counts as close (as the p-value counts it): bins are closed on the
// far side of the suspect, [a, b) when higher is closer, (a, b] when lower is.
struct NullHistogramBins {
  std::vector<double> edges; // bins + 1, increasing; one of them is the suspect's statistic
  std::vector<int> counts;   // per bin
  bool closedLeft = true;    // [a, b) bins; (a, b] when false
};
NullHistogramBins nullHistogramBins(const std::vector<double>& null, double suspect, bool higherIsCloser);
// The bars' outline (steps).
QVector<QPointF> histogramOutline(const NullHistogramBins& bins);

// Draws result (with null_statistics) into chart: the histogram and the suspect's line.
void drawNullHistogram(QChart* chart, const nlohmann::json& result);

struct RocSeries {
  QString name; // the test
  QVector<QPointF> points;
};
// One curve per test, and the chance diagonal.
void drawRocCurves(QChart* chart, const std::vector<RocSeries>& curves);

} // namespace distillery::gui
