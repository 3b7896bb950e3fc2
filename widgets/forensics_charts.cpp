#include "widgets/forensics_charts.h"

#include "core/forensics/forensic_verdict.h"

#include <QAreaSeries>
#include <QChart>
#include <QFileInfo>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPen>
#include <QStringList>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace distillery::gui {

namespace {

QString number(double v) { return QString::number(v, 'g', 3); }

constexpr double kRocPad = 0.03;

// Short enough for a chart a third of the page wide; the chart's title says more.
QString statisticName(const std::string& test) {
  if (test == "agreement") return QObject::tr("labels as the teacher's");
  if (test == "sac") return QObject::tr("SAC-m distance");
  if (test == "fingerprint") return QObject::tr("targets followed");
  return QString::fromStdString(test);
}

QString chartTitle(const std::string& test) {
  if (test == "agreement") return QObject::tr("agreement (higher: closer)");
  if (test == "sac") return QObject::tr("SAC-m (lower: closer)");
  if (test == "fingerprint") return QObject::tr("fingerprint (higher: closer)");
  return QString::fromStdString(test);
}

void clearChart(QChart* chart) {
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
}

QValueAxis* newAxis(const QString& title, double lo, double hi, int ticks = 5, bool nice = true) {
  auto* axis = new QValueAxis;
  axis->setTitleText(title);
  axis->setRange(lo, hi);
  axis->setTickCount(ticks);
  if (nice) axis->applyNiceNumbers(); // round ticks: "0.06", not "0.0573" cut to "0.0..."
  axis->setLabelFormat(QStringLiteral("%.3g"));
  return axis;
}

// 0 to 1 padded by kRocPad each side, ticks at 0, 0.2, ... 1.
QValueAxis* rateAxis(const QString& title) {
  auto* axis = new QValueAxis;
  axis->setTitleText(title);
  axis->setRange(-kRocPad, 1 + kRocPad);
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(0.0);
  axis->setTickInterval(0.2);
  axis->setLabelFormat(QStringLiteral("%.1f"));
  return axis;
}

} // namespace

QString forensicModelLabel(const std::string& id) { return QString::fromStdString(distillery::forensicModelLabel(id)); }

QString forensicVerdict(const nlohmann::json& result, const std::string& teacher) {
  return QString::fromStdString(distillery::forensicVerdict(result, distillery::forensicModelLabel(teacher)));
}

QString forensicDetails(const nlohmann::json& result) {
  if (result.contains("skipped")) return {};
  const auto n = result.value("null_size", int64_t(0));
  QString text = QObject::tr("statistic %1 (%2 is closer); %3 of %4 independent models as close or closer")
                     .arg(number(result.value("statistic", 0.0)),
                          QString::fromStdString(result.value("closer", std::string("higher"))))
                     .arg(result.value("null_at_least_as_close", int64_t(0)))
                     .arg(n);
  const double smallest = 1.0 / double(n + 1);
  if (smallest > kForensicLevel)
    text += QObject::tr(". With %1 independent models the smallest possible p is 1/%2 = %3, above %4: "
                        "add independent runs to the null before claiming a copy")
                .arg(n)
                .arg(n + 1)
                .arg(number(smallest))
                .arg(kForensicLevel);
  // The fingerprint test's own account (ForensicProbe notes): how many crafted inputs it kept.
  const nlohmann::json notes = result.value("notes", nlohmann::json::object());
  if (notes.contains("crafting") && notes.contains("kept")) {
    text += QObject::tr("; %1 crafting kept %2 of %3 crafted")
                .arg(QString::fromStdString(notes["crafting"].get<std::string>()))
                .arg(notes["kept"].get<int64_t>())
                .arg(notes.value("crafted", int64_t(0)));
    if (notes.contains("mean_conferrability"))
      text += QObject::tr(", mean conferrability %1").arg(number(notes["mean_conferrability"].get<double>()));
  }
  return text;
}

QString forensicCraftingText(const nlohmann::json& inputs) {
  const nlohmann::json tests = inputs.value("tests", nlohmann::json::array());
  if (std::find(tests.begin(), tests.end(), nlohmann::json("fingerprint")) == tests.end()) return {};
  const nlohmann::json f = inputs.value("fingerprint", nlohmann::json::object());
  // Results stored before conferrable crafting existed were all crafted on the teacher.
  if (f.value("crafting", std::string("teacher")) != "conferrable")
    return QObject::tr("fingerprints crafted on the teacher alone");
  auto runs = [&f](const char* key) {
    QStringList labels;
    for (const auto& id : f.value(key, nlohmann::json::array()))
      labels << QStringLiteral("#%1").arg(id.is_number() ? QString::number(id.get<int64_t>())
                                                          : QString::fromStdString(id.dump()));
    return labels.isEmpty() ? QObject::tr("none") : labels.join(QStringLiteral(", "));
  };
  return QObject::tr("fingerprints crafted conferrable with surrogate students %1 and surrogate references %2")
      .arg(runs("confer_with"), runs("confer_against"));
}

NullHistogramBins nullHistogramBins(const std::vector<double>& null, double suspect, bool higherIsCloser) {
  NullHistogramBins h;
  h.closedLeft = higherIsCloser;
  double lo = suspect, hi = suspect;
  size_t finite = 0;
  for (double v : null)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      ++finite;
    }
  // About sqrt(n) + 2 bars over the values' range, as before; then the edges
  // are laid from the suspect's value outwards, one bar past the extremes.
  const int target = std::clamp(int(std::ceil(std::sqrt(double(finite)))) + 2, 5, 20);
  const double width = hi > lo ? (hi - lo) / target : 0.05 * std::max(1.0, std::abs(suspect));
  const int below = lo < suspect ? int(std::floor((suspect - lo) / width)) + 1 : 1;
  const int above = hi > suspect ? int(std::floor((hi - suspect) / width)) + 1 : 1;
  for (int b = -below; b <= above; ++b) h.edges.push_back(suspect + b * width); // b = 0: the suspect exactly
  h.counts.assign(h.edges.size() - 1, 0);
  for (double v : null) {
    if (!std::isfinite(v)) continue;
    // The first edge above v ([a, b)) or at or above v ((a, b]).
    const auto it = h.closedLeft ? std::upper_bound(h.edges.begin(), h.edges.end(), v)
                                 : std::lower_bound(h.edges.begin(), h.edges.end(), v);
    const long bin = std::clamp(long(it - h.edges.begin()) - 1, 0L, long(h.counts.size()) - 1);
    ++h.counts[size_t(bin)];
  }
  return h;
}

QVector<QPointF> histogramOutline(const NullHistogramBins& bins) {
  QVector<QPointF> outline;
  if (bins.edges.size() < 2) return outline;
  outline.reserve(int(2 * bins.counts.size() + 2));
  outline.append({bins.edges.front(), 0.0});
  for (size_t b = 0; b < bins.counts.size(); ++b) {
    outline.append({bins.edges[b], double(bins.counts[b])});
    outline.append({bins.edges[b + 1], double(bins.counts[b])});
  }
  outline.append({bins.edges.back(), 0.0});
  return outline;
}

void drawNullHistogram(QChart* chart, const nlohmann::json& result) {
  clearChart(chart);
  const std::string test = result.value("test", std::string());
  chart->setTitle(chartTitle(test));
  chart->setMargins(QMargins(2, 2, 2, 2));
  if (result.contains("skipped") || !result.contains("null_statistics")) return;
  const auto null = result["null_statistics"].get<std::vector<double>>();
  const double suspect = result.value("statistic", 0.0);
  const bool higher = result.value("closer", std::string("higher")) != "lower";
  const NullHistogramBins bins = nullHistogramBins(null, suspect, higher);
  const QVector<QPointF> outline = histogramOutline(bins);
  const double pad = 0.03 * (bins.edges.back() - bins.edges.front());
  const double lo = bins.edges.front() - pad, hi = bins.edges.back() + pad;
  double top = 1;
  for (const QPointF& p : outline) top = std::max(top, p.y());

  auto* upper = new QLineSeries;
  upper->replace(outline);
  auto* area = new QAreaSeries(upper);
  area->setName(QObject::tr("null (%1)").arg(null.size()));
  area->setColor(QColor(120, 144, 156, 150));
  area->setBorderColor(QColor(84, 110, 122));
  auto* line = new QLineSeries;
  line->setName(QObject::tr("suspect"));
  const double lineTop = std::ceil(top * 1.15);
  line->replace(QVector<QPointF>{{suspect, 0.0}, {suspect, lineTop}});
  QPen pen(QColor(198, 40, 40));
  pen.setWidthF(2.5);
  line->setPen(pen);
  chart->addSeries(area);
  chart->addSeries(line);
  auto* x = newAxis(statisticName(test), lo, hi);
  // Counts: whole-number ticks only.
  const int yMax = int(std::ceil(top * 1.15));
  auto* y = new QValueAxis;
  y->setTitleText(QObject::tr("models"));
  y->setRange(0, yMax);
  y->setTickCount(yMax <= 6 ? yMax + 1 : 5);
  if (yMax > 6) y->applyNiceNumbers();
  y->setLabelFormat(QStringLiteral("%d"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (QAbstractSeries* s : chart->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
}

void drawRocCurves(QChart* chart, const std::vector<RocSeries>& curves) {
  clearChart(chart);
  // A little past 0 and 1, so a curve along an edge (a perfect test runs up
  // the left border and along the top) is not hidden under the plot's frame.
  auto* x = rateAxis(QObject::tr("false-positive rate"));
  auto* y = rateAxis(QObject::tr("true-positive rate"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto* chance = new QLineSeries;
  chance->setName(QObject::tr("chance"));
  chance->replace(QVector<QPointF>{{0, 0}, {1, 1}});
  QPen dashed(Qt::gray);
  dashed.setStyle(Qt::DashLine);
  chance->setPen(dashed);
  chart->addSeries(chance);
  const QColor colours[] = {QColor(25, 118, 210), QColor(198, 40, 40), QColor(56, 142, 60), QColor(123, 31, 162)};
  int i = 0;
  for (const RocSeries& c : curves) {
    auto* s = new QLineSeries;
    s->setName(c.name);
    s->replace(c.points);
    QPen pen(colours[i++ % 4]);
    pen.setWidthF(2.5);
    s->setPen(pen);
    chart->addSeries(s);
  }
  for (QAbstractSeries* s : chart->series()) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
  chart->setTitle(QObject::tr("ROC per test: copies against independent runs"));
  // The legend under the plot, where the AUCs fit; the diagonal explains itself.
  chart->legend()->setAlignment(Qt::AlignBottom);
  for (QLegendMarker* m : chart->legend()->markers(chance)) m->setVisible(false);
}

} // namespace distillery::gui
