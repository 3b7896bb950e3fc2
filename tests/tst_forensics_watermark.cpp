// Issue 18, part 2: the green-list watermark and its radioactivity detector.
// The binomial and KS statistics against SciPy (tests/watermark_reference.py);
// the green list's determinism and size; watermarked sampling raising the
// green share; detection of watermarked text at p < 1e-5 while clean text and
// a clean model's text give uniform p-values (KS over 60 samples); the
// (window, token) deduplication; the config fields and their errors; and a
// tiny seq_kd run whose student, trained on watermarked teacher text, is
// flagged by distillery-cli watermark-test while a clean student is not. The
// open-weights z test on the suspect's green mass / log-probabilities: its
// null mean, variance and third cumulant against NumPy (exact enumeration of
// the k-subsets, and the indicator covariance), its normal tail against SciPy,
// its calibration on a clean model, and its power on a model whose logits
// carry the green bias.
#include "core/base/errors.h"
#include "core/config/lm_config.h"
#include "core/config/run_config.h"
#include "core/forensics/green_list.h"
#include "core/forensics/green_weight_test.h"
#include "core/forensics/ks_test.h"
#include "core/forensics/watermark_detection.h"
#include "core/forensics/watermark_sampler.h"
#include "core/lm/gpt_model.h"
#include "core/lm/lm_generation.h"
#include "core/lm/text_corpus.h"
#include "core/store/run_store.h"
#include "core/training/engine.h"

#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

using namespace distillery;

namespace {

class NullObserver : public RunObserver {};

constexpr int64_t kVocab = 110; // about the char vocabulary of the fortunes corpus

// Runs tests/watermark_reference.py on spec; the parsed answer, or a failure naming why.
QJsonObject scipyReference(const QJsonObject& spec, QString& error) {
  QProcess py;
  py.start(QString::fromLatin1(testsupport::kPython),
           {QStringLiteral(DISTILLERY_SOURCE_DIR "/tests/watermark_reference.py")});
  if (!py.waitForStarted(30000)) {
    error = QStringLiteral("cannot start /usr/bin/python3");
    return {};
  }
  py.write(QJsonDocument(spec).toJson(QJsonDocument::Compact));
  py.closeWriteChannel();
  if (!py.waitForFinished(120000) || py.exitCode() != 0) {
    error = QStringLiteral("tests/watermark_reference.py failed: ") + QString::fromUtf8(py.readAllStandardError());
    return {};
  }
  return QJsonDocument::fromJson(py.readAllStandardOutput()).object();
}

std::vector<int64_t> uniformTokens(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int64_t> pick(0, kVocab - 1);
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = pick(rng);
  return t;
}

Gpt tinyGpt(uint64_t seed) {
  GptSpec spec;
  spec.layers = 1, spec.heads = 2, spec.embed = 16, spec.context = 32;
  return buildGpt(spec, kVocab, seed);
}

std::vector<std::vector<int64_t>> rowsOf(const torch::Tensor& t) {
  std::vector<std::vector<int64_t>> out;
  auto c = t.contiguous();
  for (int64_t b = 0; b < c.size(0); ++b)
    out.emplace_back(c[b].data_ptr<int64_t>(), c[b].data_ptr<int64_t>() + c.size(1));
  return out;
}

double greenShareOf(const GreenList& g, const std::vector<std::vector<int64_t>>& rows) {
  WatermarkDetector d(g);
  for (const auto& r : rows) d.addText(r);
  return d.score().greenFraction();
}

} // namespace

class TestForensicsWatermark : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // ---- statistics against SciPy ---------------------------------------------------------------

  void binomialPValuesMatchScipy() {
    // (k, n, p): the body, the tails, tiny p-values down to 1e-49 and past, the edges.
    const std::vector<std::array<double, 3>> cases = {
        {0, 10, 0.25},     {1, 1, 0.3},       {3, 10, 0.25},     {40, 60, 0.5},     {50, 100, 0.25},
        {80, 100, 0.25},   {150, 200, 0.25},  {200, 256, 0.25},  {500, 1000, 0.25}, {320, 1000, 0.25},
        {1000, 2000, 0.25}, {90, 300, 0.25},  {64, 64, 0.25},    {30, 5000, 0.01},  {256, 256, 0.5},
        {700, 2000, 0.3}};
    QJsonArray binomial;
    for (const auto& c : cases) binomial.append(QJsonArray{c[0], c[1], c[2]});
    QString error;
    const QJsonObject ref = scipyReference({{"binomial", binomial}}, error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QJsonArray got = ref["binomial"].toArray();
    QCOMPARE(got.size(), int(cases.size()));
    int tiny = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& c = cases[i];
      const double log_p = binomialSurvivalLog(int64_t(c[0]), int64_t(c[1]), c[2]);
      const double sf = got[int(i)].toObject()["sf"].toDouble();
      const QString what = QStringLiteral("k=%1 n=%2 p=%3: ours %4, scipy %5")
                               .arg(c[0]).arg(c[1]).arg(c[2]).arg(std::exp(log_p), 0, 'g', 17).arg(sf, 0, 'g', 17);
      QVERIFY2(sf > 0, qPrintable(what));
      QVERIFY2(std::abs(std::exp(log_p) - sf) <= 1e-10 * sf, qPrintable(what));
      tiny += sf < 1e-30;
    }
    QVERIFY(tiny >= 3); // the accuracy below 1e-30 is really tested
    // Past double's range: the log stays exact (all of 1000 green at 0.25 is 0.25^1000).
    QVERIFY(std::abs(binomialSurvivalLog(1000, 1000, 0.25) - 1000.0 * std::log(0.25)) < 1e-9);
    QCOMPARE(binomialSurvivalLog(0, 50, 0.25), 0.0);
    QVERIFY(std::isinf(binomialSurvivalLog(51, 50, 0.25)));
  }

  void ksTestMatchesScipy() {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<std::vector<double>> samples;
    for (int n : {5, 20, 50, 100, 140, 300, 20000, 100000}) {
      std::vector<double> x(static_cast<size_t>(n));
      for (auto& v : x) v = u(rng);
      samples.push_back(x);
      for (auto& v : x) v = v * v; // skewed towards 0: a rejection, p far in the tail
      samples.push_back(x);
    }
    QJsonArray ks;
    for (const auto& x : samples) {
      QJsonArray a;
      for (double v : x) a.append(v);
      ks.append(a);
    }
    QString error;
    const QJsonObject ref = scipyReference({{"ks", ks}}, error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QJsonArray got = ref["ks"].toArray();
    QCOMPARE(got.size(), int(samples.size()));
    int rejected = 0, tiny = 0, asymptotic = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const KsResult r = ksTestUniform(samples[i]);
      const double d = got[int(i)].toObject()["statistic"].toDouble();
      const double p = got[int(i)].toObject()["p_value"].toDouble();
      const size_t n = samples[i].size();
      // SciPy is exact up to n = 140 and in the tail; in the body above that it uses the
      // Pelz-Good approximation (about 1e-7), and we Kolmogorov's limit past n D = 200.
      const bool body = n * r.statistic * r.statistic < 2.2;
      const bool limit = body && double(n) * r.statistic >= 200.0;
      const double rtol = n <= 140 || !body ? 1e-9 : limit ? 2e-2 : 1e-5;
      const QString what = QStringLiteral("n=%1: D %2 vs %3, p %4 vs %5 (%6)")
                               .arg(n).arg(r.statistic, 0, 'g', 15).arg(d, 0, 'g', 15)
                               .arg(r.p_value, 0, 'g', 15).arg(p, 0, 'g', 15).arg(QString::fromStdString(r.method));
      QCOMPARE(r.method, std::string(limit ? "asymptotic" : "exact"));
      asymptotic += limit;
      QVERIFY2(std::abs(r.statistic - d) < 1e-12, qPrintable(what));
      if (p == 0.0) QVERIFY2(r.p_value < 1e-300, qPrintable(what)); // below double's range for SciPy too
      else QVERIFY2(std::abs(r.p_value - p) <= rtol * p, qPrintable(what));
      rejected += p < 0.01;
      tiny += p > 0.0 && p < 1e-15;
    }
    QVERIFY(rejected >= 5); // both regimes are compared
    QVERIFY(tiny >= 1);     // and a tail where 1 - CDF would have lost every digit
    QCOMPARE(asymptotic, 1); // and the limit distribution (n = 100000)
  }

  // ---- the green list -------------------------------------------------------------------------

  void greenListIsDeterministicWithGammaV() {
    const GreenList a({42, 0.25, 4}, kVocab), b({42, 0.25, 4}, kVocab), other({43, 0.25, 4}, kVocab);
    QCOMPARE(a.greenCount(), int64_t(28)); // round(0.25 * 110)
    QCOMPARE(a.greenShare(), 28.0 / 110.0);
    std::mt19937_64 rng(1);
    std::vector<double> share(static_cast<size_t>(kVocab), 0.0);
    int differ_key = 0, differ_window = 0;
    const int windows = 2000;
    std::vector<uint8_t> previous;
    for (int i = 0; i < windows; ++i) {
      const auto w = uniformTokens(rng, 4);
      const auto g = a.greens(w.data());
      QCOMPARE(int64_t(std::count(g.begin(), g.end(), 1)), a.greenCount());
      QVERIFY(g == b.greens(w.data()));
      differ_key += g != other.greens(w.data());
      differ_window += !previous.empty() && g != previous;
      previous = g;
      for (int64_t v = 0; v < kVocab; ++v) share[size_t(v)] += g[size_t(v)];
    }
    QVERIFY(differ_key > windows * 0.99);
    QVERIFY(differ_window > windows * 0.99);
    // Every token is green for about a quarter of the windows (sd 0.0097 at 2000 windows).
    for (double s : share) QVERIFY2(std::abs(s / windows - 28.0 / 110.0) < 0.06, qPrintable(QString::number(s / windows)));
    // Out of range settings name the field.
    for (double gamma : {0.0, 0.001, 0.999, 1.0}) {
      try {
        GreenList bad({1, gamma, 4}, kVocab, "teacher.watermark");
        QFAIL("expected a ConfigError");
      } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.field()), QStringLiteral("teacher.watermark.gamma"));
      }
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, GreenList({1, 0.25, 0}, kVocab));
    QVERIFY(watermarkKeyFingerprint(42) != watermarkKeyFingerprint(43));
    QCOMPARE(watermarkKeyFingerprint(42), watermarkKeyFingerprint(42));
  }

  // ---- sampling and detection -----------------------------------------------------------------

  void watermarkedSamplingRaisesGreenShare() {
    const WatermarkSampler sampler({42, 0.25, 4}, 2.0, kVocab);
    Gpt model = tinyGpt(3);
    auto prompt = torch::randint(0, kVocab, {16, 4}, torch::kLong);
    auto clean_gen = seededGenerator(5), marked_gen = seededGenerator(5), half_gen = seededGenerator(5);
    auto clean = generateTokens(model, prompt, 120, 1.0, clean_gen, torch::kCPU);
    auto marked = generateTokens(model, prompt, 120, 1.0, marked_gen, torch::kCPU,
                                 [&](const torch::Tensor& s) { return sampler.nextTokenBias(s); });
    const auto half_rows = watermarkedRows(0, 16, 0.5);
    QCOMPARE(int(std::count(half_rows.begin(), half_rows.end(), 1)), 8);
    auto half = generateTokens(model, prompt, 120, 1.0, half_gen, torch::kCPU,
                               [&](const torch::Tensor& s) { return sampler.nextTokenBias(s, half_rows); });
    const GreenList& g = sampler.greenList();
    const double clean_share = greenShareOf(g, rowsOf(clean)), marked_share = greenShareOf(g, rowsOf(marked));
    // A near-uniform model: gamma e^delta / (gamma e^delta + 1 - gamma) = 0.72 expected when watermarked.
    QVERIFY2(std::abs(clean_share - 0.2545) < 0.05, qPrintable(QString::number(clean_share)));
    QVERIFY2(marked_share > 0.6, qPrintable(QString::number(marked_share)));
    // Unmarked rows are sampled exactly as without the watermark... (same draws only while the rows
    // agree, so compare shares): the half-marked batch lies between.
    std::vector<std::vector<int64_t>> marked_rows, clean_rows;
    const auto rows = rowsOf(half);
    for (size_t b = 0; b < rows.size(); ++b) (half_rows[b] ? marked_rows : clean_rows).push_back(rows[b]);
    QVERIFY(greenShareOf(g, marked_rows) > 0.6);
    QVERIFY(std::abs(greenShareOf(g, clean_rows) - 0.2545) < 0.07);
    // Position bias (on_policy's teacher scores) equals the next-token bias of each prefix.
    auto pos = sampler.positionBias(clean.slice(1, 0, 10));
    for (int64_t t = 3; t < 10; ++t)
      QVERIFY(torch::equal(pos.select(1, t), sampler.nextTokenBias(clean.slice(1, 0, t + 1))));
    QVERIFY(torch::equal(pos.select(1, 2), torch::zeros({16, kVocab})));
  }

  void detectionFlagsWatermarkedTextAndIsCalibratedOnCleanText() {
    const WatermarkSampler sampler({42, 0.25, 4}, 2.0, kVocab);
    const GreenList& g = sampler.greenList();
    Gpt model = tinyGpt(9);
    auto prompt = torch::randint(0, kVocab, {60, 4}, torch::kLong);
    auto gen = seededGenerator(11);
    auto clean_model_text = rowsOf(generateTokens(model, prompt, 200, 1.0, gen, torch::kCPU));
    auto marked_text = rowsOf(generateTokens(model, prompt.slice(0, 0, 4), 200, 1.0, gen, torch::kCPU,
                                             [&](const torch::Tensor& s) { return sampler.nextTokenBias(s); }));
    std::mt19937_64 rng(13);
    std::vector<std::vector<int64_t>> clean_text;
    for (int i = 0; i < 60; ++i) clean_text.push_back(uniformTokens(rng, 204));
    for (const auto* samples : {&clean_model_text, &clean_text}) {
      std::vector<double> p;
      for (const auto& s : *samples) {
        WatermarkDetector d(g);
        d.addText(s);
        p.push_back(d.score().p_value);
      }
      QCOMPARE(int(p.size()), 60);
      const KsResult ks = ksTestUniform(p);
      QVERIFY2(ks.p_value > 0.01, qPrintable(QStringLiteral("KS p %1, D %2").arg(ks.p_value).arg(ks.statistic)));
    }
    // Four watermarked sequences of 200 tokens together: far below 1e-5.
    WatermarkDetector marked(g);
    for (const auto& s : marked_text) marked.addText(s);
    QVERIFY2(marked.score().p_value < 1e-5, qPrintable(QString::number(marked.score().p_value)));
    const GreenList wrong_key({7, 0.25, 4}, kVocab);
    WatermarkDetector wrong(wrong_key);
    for (const auto& s : marked_text) wrong.addText(s);
    QVERIFY2(wrong.score().p_value > 1e-3, qPrintable(QString::number(wrong.score().p_value)));
  }

  void deduplicationStopsRepeatedWindowsInflatingCounts() {
    const GreenList g({42, 0.25, 4}, kVocab);
    // A cycle of 5 tokens whose every (4-token window, next token) pair is green.
    std::mt19937_64 rng(3);
    std::vector<int64_t> cycle;
    for (int tries = 0; tries < 100000 && cycle.empty(); ++tries) {
      auto c = uniformTokens(rng, 5);
      bool all = true;
      for (int i = 0; i < 5 && all; ++i) {
        const int64_t w[4] = {c[size_t(i)], c[size_t((i + 1) % 5)], c[size_t((i + 2) % 5)], c[size_t((i + 3) % 5)]};
        all = g.isGreen(w, c[size_t((i + 4) % 5)]);
      }
      if (all) cycle = c;
    }
    QVERIFY(!cycle.empty());
    std::vector<int64_t> text;
    for (int r = 0; r < 200; ++r) text.insert(text.end(), cycle.begin(), cycle.end());
    WatermarkDetector d(g);
    d.addText(text);
    const WatermarkScore s = d.score();
    QCOMPARE(s.scored, int64_t(5));
    QCOMPARE(s.green, int64_t(5));
    QCOMPARE(s.duplicates, int64_t(text.size()) - 4 - 5);
    // 5 of 5 green at 28/110: p = 0.00108; counted 996 times it would be ~1e-590.
    QVERIFY2(s.p_value > 1e-4, qPrintable(QString::number(s.p_value)));
    QVERIFY(std::abs(s.p_value - std::pow(28.0 / 110.0, 5)) < 1e-12);
  }

  // ---- the open-weights z test on the suspect's distribution -----------------------------------

  void greenWeightStatisticMatchesNumpy() {
    std::mt19937_64 rng(21);
    std::normal_distribution<double> normal(0.0, 2.0);
    // Case 0: V = 7, k = 2 (every k-subset enumerated: the exact mean, variance and
    // third moment); case 1: the char vocabulary, probabilities; case 2: log-probabilities
    // (any key-independent weights). Cases 0 and 1 weigh windows by sqrt(1..5).
    struct Case {
      int64_t vocab;
      double gamma;
      bool log_weights;
      int windows;
    };
    const std::vector<Case> cases = {{7, 0.3, false, 12}, {kVocab, 0.25, false, 40}, {kVocab, 0.25, true, 40}};
    QJsonArray spec;
    std::vector<GreenWeightScore> ours;
    for (const auto& c : cases) {
      const GreenList g({99, c.gamma, 3}, c.vocab);
      GreenWeightDetector d(g);
      QJsonArray weights, flags, window_weights;
      std::uniform_int_distribution<int64_t> tok(0, c.vocab - 1);
      for (int w = 0; w < c.windows; ++w) {
        const int64_t window[3] = {tok(rng), tok(rng), int64_t(w % c.vocab)};
        // A peaked, skewed distribution: a few likely tokens, a long tail.
        std::vector<double> logits(size_t(c.vocab));
        for (auto& l : logits) l = normal(rng) * (1.0 + double(w % 3));
        double z = 0.0;
        for (double l : logits) z += std::exp(l);
        std::vector<double> a;
        for (double l : logits) a.push_back(c.log_weights ? l - std::log(z) : std::exp(l) / z);
        // Window weights as the open-weights reading gives them: sqrt(occurrences).
        const double ww = c.log_weights ? 1.0 : std::sqrt(double(1 + w % 5));
        if (!d.add(window, a.data(), ww)) continue; // a window drawn twice is scored once
        window_weights.append(ww);
        const auto f = g.greens(window);
        QJsonArray aw, fw;
        for (int64_t i = 0; i < c.vocab; ++i) aw.append(a[size_t(i)]), fw.append(int(f[size_t(i)]));
        weights.append(aw);
        flags.append(fw);
      }
      QCOMPARE(d.score().windows, int64_t(weights.size()));
      ours.push_back(d.score());
      spec.append(QJsonObject{{"k", int(g.greenCount())}, {"weights", weights}, {"flags", flags},
                              {"window_weights", window_weights}, {"enumerate", c.vocab < 10}});
    }
    const std::vector<double> zs = {-2.0, 0.0, 1.5, 4.264890794, 5.0, 8.0, 20.0, 36.9, 37.1, 60.0};
    QJsonArray zj;
    for (double z : zs) zj.append(z);
    QString error;
    const QJsonObject ref = scipyReference({{"green_weight", spec}, {"normal_logsf", zj}}, error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QJsonArray got = ref["green_weight"].toArray();
    QCOMPARE(got.size(), int(cases.size()));
    auto near = [](double a, double b, double rel) { return std::abs(a - b) <= rel * std::max(1.0, std::abs(b)); };
    for (size_t i = 0; i < cases.size(); ++i) {
      const QJsonObject r = got[int(i)].toObject();
      const GreenWeightScore& s = ours[i];
      const QString what = QStringLiteral("case %1: ours green %2 expected %3 var %4 third %5 z %6; numpy %7 %8 %9 %10 %11")
                               .arg(i).arg(s.green).arg(s.expected).arg(s.variance).arg(s.third).arg(s.z)
                               .arg(r["green"].toDouble()).arg(r["expected"].toDouble()).arg(r["variance"].toDouble())
                               .arg(r["third"].toDouble()).arg(r["z"].toDouble());
      QVERIFY2(near(s.green, r["green"].toDouble(), 1e-9), qPrintable(what));
      QVERIFY2(near(s.expected, r["expected"].toDouble(), 1e-9), qPrintable(what));
      QVERIFY2(std::abs(s.variance - r["variance"].toDouble()) <= 1e-9 * r["variance"].toDouble(), qPrintable(what));
      QVERIFY2(std::abs(s.z - r["z"].toDouble()) <= 1e-6, qPrintable(what));
      QVERIFY2(std::abs(s.log10_p - r["log10_p"].toDouble()) <= 1e-6 * std::max(1.0, std::abs(s.log10_p)),
               qPrintable(what));
      QVERIFY2(std::abs(s.third - r["third"].toDouble()) <= 1e-9 * std::max(1.0, std::abs(s.third)), qPrintable(what));
    }
    const QJsonArray tails = ref["normal_logsf"].toArray();
    for (size_t i = 0; i < zs.size(); ++i) {
      const double want = tails[int(i)].toDouble();
      QVERIFY2(std::abs(normalSurvivalLog(zs[i]) - want) <= 1e-9 * std::max(1.0, std::abs(want)),
               qPrintable(QStringLiteral("z %1: ours %2, scipy %3").arg(zs[i]).arg(normalSurvivalLog(zs[i]), 0, 'g', 15)
                              .arg(want, 0, 'g', 15)));
    }
  }

  // A clean model's green mass and log-probabilities on clean text give
  // uniform p-values (60 disjoint samples, KS); the same model with the
  // watermark's bias added to its logits (a student that learned it) is
  // flagged from a few sequences, and not under another key.
  void greenWeightTestIsCalibratedAndFlagsABiasedModel() {
    const WatermarkSampler sampler({42, 0.25, 3}, 1.0, kVocab);
    const GreenList& g = sampler.greenList();
    Gpt model = tinyGpt(4);
    std::mt19937_64 rng(17);
    std::vector<std::vector<int64_t>> texts;
    for (int i = 0; i < 60; ++i) texts.push_back(uniformTokens(rng, 64));
    auto batch = torch::empty({60, 64}, torch::kLong);
    for (int i = 0; i < 60; ++i) batch[i] = torch::tensor(texts[size_t(i)], torch::kLong);
    const auto logits = scoreTokens(model, batch, torch::kCPU);
    const auto biased = logits + sampler.positionBias(batch);
    auto scoreWith = [&](const GreenList& greens, const torch::Tensor& l, bool log_weights, int rows,
                         std::vector<double>* sample_p) {
      const auto lp = torch::log_softmax(l.to(torch::kDouble), -1).contiguous();
      GreenWeightDetector d(greens);
      std::vector<double> w(static_cast<size_t>(kVocab), 0.0);
      for (int b = 0; b < rows; ++b) {
        const GreenWeightScore before = d.score();
        for (int64_t t = 2; t < 64; ++t) {
          const double* at = lp[b][t].data_ptr<double>();
          for (int64_t v = 0; v < kVocab; ++v) w[size_t(v)] = log_weights ? at[v] : std::exp(at[v]);
          d.add(texts[size_t(b)].data() + (t - 2), w.data());
        }
        if (sample_p) sample_p->push_back(d.score().since(before).p_value);
      }
      return d.score();
    };
    for (bool log_weights : {false, true}) {
      std::vector<double> p;
      const GreenWeightScore all = scoreWith(g, logits, log_weights, 60, &p);
      QCOMPARE(int(p.size()), 60);
      const KsResult ks = ksTestUniform(p);
      QVERIFY2(ks.p_value > 0.01, qPrintable(QStringLiteral("KS p %1, D %2").arg(ks.p_value).arg(ks.statistic)));
      QVERIFY2(all.p_value > 1e-3, qPrintable(QString::number(all.p_value)));
      // The bias the watermark adds, learned: 4 sequences (248 windows) are enough.
      const GreenWeightScore marked = scoreWith(g, biased, log_weights, 4, nullptr);
      QVERIFY2(marked.p_value < 1e-5, qPrintable(QString::number(marked.p_value)));
      const GreenList wrong_key({7, 0.25, 3}, kVocab);
      const GreenWeightScore wrong = scoreWith(wrong_key, biased, log_weights, 4, nullptr);
      QVERIFY2(wrong.p_value > 1e-3, qPrintable(QString::number(wrong.p_value)));
    }
    // A window is scored once: the same window again changes nothing.
    GreenWeightDetector d(g);
    std::vector<double> w(size_t(kVocab), 1.0 / double(kVocab));
    w[0] = 0.5;
    const int64_t window[3] = {1, 2, 3};
    QVERIFY(d.add(window, w.data()));
    const GreenWeightScore once = d.score();
    QVERIFY(!d.add(window, w.data()));
    QCOMPARE(d.score().green, once.green);
    QCOMPARE(d.score().windows, int64_t(1));
    QCOMPARE(d.score().repeated, int64_t(1));
  }

  // ---- config ---------------------------------------------------------------------------------

  // A tiny seq_kd run end to end. The teacher writes watermarked text for
  // exactly the share of sequences asked (sequence r when floor((r + 1) f) >
  // floor(r f)), and that text is far greener than gamma; the summary keeps a
  // key fingerprint, not the key; the detector runs on the students in both
  // modes and on a file, and a clean student or a wrong key is not flagged.
  // Whether a student is flagged is measured by scripts/watermark_results.py:
  // a model this small, trained this briefly, does not learn the green lists
  // (tried here: its loss stayed at log V with 12^3 windows; with 8^2 windows
  // its samples cover every (window, token) pair, which deduplication then
  // scores once each, at exactly gamma).
  void seqKdRunWatermarksTheShareOfTeacherTextAsked() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    torch::set_num_threads(1);
    const std::string corpus = (dir.path() + "/tiny.txt").toStdString();
    {
      // Random letters: a teacher of high entropy, whose watermark moves most
      // tokens, and few enough windows (8^2, context 2) for a small student to
      // learn each one's green preference within a few hundred steps (with
      // 12^3 windows its loss had not left log 12 after 400 steps).
      std::ofstream out(corpus);
      std::mt19937_64 rng(5);
      for (int i = 0; i < 60000; ++i) out << char('a' + rng() % 8);
    }
    RunStore store((dir.path() + "/runs.sqlite").toStdString());
    auto run = [&](const nlohmann::json& j) {
      const RunConfig c = RunConfig::fromJson(j);
      const int64_t id = queueRun(store, c);
      NullObserver observer;
      StopToken stop;
      return executeRun(store, id, c, observer, stop);
    };
    auto gpt = [](int layers, int embed) {
      return nlohmann::json{{"zoo", "gpt"}, {"layers", layers}, {"heads", 2}, {"embed", embed}, {"context", 24}};
    };
    nlohmann::json base = {{"task", "lm"}, {"corpus", {{"path", corpus}, {"val_fraction", 0.1}}},
                           {"batch_size", 16}, {"eval_every", 1000}, {"eval_tokens", 1024},
                           {"optim", {{"name", "adam"}, {"lr", 0.01}}}, {"seed", 1}, {"device", "cpu"},
                           // The last weights: the lowest clean validation loss would pick the student
                           // that learned the least from the teacher's (watermarked) text.
                           {"select_best", false}};
    nlohmann::json tc = base;
    tc.update({{"name", "teacher"}, {"student", gpt(1, 32)}, {"method", {{"name", "none"}}}, {"steps", 150}});
    const RunOutcome teacher = run(tc);
    QVERIFY2(teacher.kind == RunOutcome::Kind::Success, teacher.message.c_str());
    std::map<double, int64_t> students;
    for (double fraction : {0.0, 0.25, 1.0}) {
      nlohmann::json sc = base;
      sc.update({{"name", "student"}, {"student", gpt(2, 48)}, {"method", {{"name", "seq_kd"}}}, {"steps", 100},
                 {"teacher", {{"run", teacher.run_id},
                              {"watermark", {{"key", 42}, {"gamma", 0.25}, {"delta", 3.0}, {"context", 2},
                                             {"fraction", fraction}}}}}});
      const RunOutcome out = run(sc);
      QVERIFY2(out.kind == RunOutcome::Kind::Success, out.message.c_str());
      const auto& w = out.summary["watermark"];
      QCOMPARE(w["key_fingerprint"].get<std::string>(), watermarkKeyFingerprint(42));
      QVERIFY(!w.contains("key"));
      QCOMPARE(w["fraction"].get<double>(), fraction);
      // 100 steps x 16 rows, 17 written tokens each (context 24 + 1 - 8 prompt tokens).
      QCOMPARE(w["watermarked_tokens"].get<int64_t>(), int64_t(std::llround(fraction * 1600)) * 17);
      if (fraction > 0) // the teacher's text is watermarked: far above gamma
        QVERIFY2(w["teacher_green_share"].get<double>() > 0.6, w.dump().c_str());
      else
        QVERIFY(!w.contains("teacher_green_share"));
      students[fraction] = out.run_id;
    }
    WatermarkTestRequest request;
    request.params = {42, 0.25, 2};
    request.samples = 128;
    request.length = 128;
    for (bool open : {false, true}) {
      request.open_weights = open;
      const auto clean = watermarkTestRun(store, students[0.0], request);
      QCOMPARE(QString::fromStdString(clean.mode), open ? QStringLiteral("open-weights") : QStringLiteral("text"));
      QVERIFY2(clean.score.p_value > 1e-3, qPrintable(QString::number(clean.score.p_value)));
      QVERIFY(clean.score.scored > 0);
      QVERIFY(!clean.sample_p_values.empty() && clean.sample_p_values.size() <= 128);
    }
    // Green mass minus the teacher's: the clean student's p-value is not small,
    // and its per-sample p-values are not piled near 0; the watermarked
    // student's excess mass is larger than the clean one's.
    request.open_weights = true;
    request.statistic = "mass";
    request.reference_run = teacher.run_id;
    const auto clean_mass = watermarkTestRun(store, students[0.0], request);
    const auto marked_mass = watermarkTestRun(store, students[1.0], request);
    QCOMPARE(QString::fromStdString(clean_mass.statistic), QStringLiteral("mass"));
    QVERIFY(clean_mass.weight_score.windows > 0 && clean_mass.weight_score.variance > 0);
    QVERIFY2(clean_mass.p_value() > 1e-3, qPrintable(QString::number(clean_mass.p_value())));
    QVERIFY2(clean_mass.sample_ks.p_value > 0.01, qPrintable(QString::number(clean_mass.sample_ks.p_value)));
    QVERIFY2(marked_mass.weight_score.z > clean_mass.weight_score.z,
             qPrintable(QStringLiteral("z %1 vs clean %2").arg(marked_mass.weight_score.z).arg(clean_mass.weight_score.z)));
    qInfo("green mass minus the teacher: z %.2f clean, %.2f watermarked", clean_mass.weight_score.z, marked_mass.weight_score.z);
    // The clean student reading its own samples instead of corpus text.
    request.reading = "samples";
    const auto own = watermarkTestRun(store, students[0.0], request);
    QVERIFY(own.weight_score.windows > 0);
    QVERIFY2(own.p_value() > 1e-3, qPrintable(QString::number(own.p_value())));
    // The whole held-out split, once, in consecutive windows: every token of
    // it is read (the tail shorter than a window is left out), and the clean
    // student's p-value is not small there either.
    request.reading = "heldout";
    const auto split = watermarkTestRun(store, students[0.0], request);
    const int64_t held_out = loadTextCorpus(RunConfig::fromJsonText(store.run(students[0.0])->config_json).lm.corpus).val.numel();
    QCOMPARE(split.tokens, held_out / request.length * request.length);
    // One p-value per window that holds a window of h tokens not read before.
    QVERIFY(!split.sample_p_values.empty() && int64_t(split.sample_p_values.size()) <= held_out / request.length);
    QVERIFY2(split.p_value() > 1e-3, qPrintable(QString::number(split.p_value())));
    request.statistic = "mass";
    request.reference_run = teacher.run_id;
    const auto split_marked = watermarkTestRun(store, students[1.0], request);
    QVERIFY2(split_marked.weight_score.z > split.weight_score.z,
             qPrintable(QStringLiteral("z %1 vs clean %2").arg(split_marked.weight_score.z).arg(split.weight_score.z)));
    // A window longer than the held-out split names the option and the sizes.
    request.length = held_out + 1;
    try {
      watermarkTestRun(store, students[0.0], request);
      QFAIL("expected a ConfigError for a window longer than the held-out split");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QStringLiteral("--reading"));
      QVERIFY2(QString::fromStdString(e.what()).contains(QString::number(held_out)), e.what());
    }
    request.length = 128;
    request.reading = "corpus";
    // The teacher against itself: nothing is left to score.
    const auto itself = watermarkTestRun(store, teacher.run_id, request);
    QCOMPARE(itself.weight_score.variance, 0.0);
    QCOMPARE(itself.p_value(), 1.0);
    // Options that do not fit name themselves.
    for (auto [statistic, reference, reading, option] :
         {std::tuple{"logit", int64_t(0), "corpus", "--statistic"}, std::tuple{"top1", teacher.run_id, "corpus", "--reference"},
          std::tuple{"mass", int64_t(999), "corpus", "--reference"}, std::tuple{"mass", int64_t(0), "prose", "--reading"}}) {
      request.statistic = statistic;
      request.reference_run = reference;
      request.reading = reading;
      try {
        watermarkTestRun(store, students[0.0], request);
        QFAIL(qPrintable(QStringLiteral("expected a ConfigError for %1").arg(option)));
      } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.field()), QString::fromLatin1(option));
      }
    }
    request.statistic = "top1";
    request.reference_run = 0;
    request.reading = "corpus";
    // The wrong key sees nothing in the watermarked student either.
    request.open_weights = false;
    request.params.key = 43;
    const auto wrong = watermarkTestRun(store, students[1.0], request);
    QVERIFY2(wrong.score.p_value > 1e-3, qPrintable(QString::number(wrong.score.p_value)));
    // A file of the teacher's vocabulary (characters it lacks are left out); an
    // unknown suspect names the option.
    const QString file = dir.path() + "/plain.txt";
    {
      std::ofstream out(file.toStdString());
      out << "a black cab; a bad face; a hedge: a deaf lab";
    }
    request.params.key = 42;
    const auto plain = watermarkTestFile(store, teacher.run_id, file.toStdString(), request);
    QCOMPARE(QString::fromStdString(plain.mode), QStringLiteral("file"));
    QVERIFY(plain.dropped_characters >= 10); // spaces, ';', ':', 'l', 'k'... are not in the vocabulary
    QVERIFY(plain.score.scored > 0);
    // Clean random text read in short samples: most add only a few new pairs,
    // where P(X >= x) alone piles up at 1 (KS rejects it); the per-sample
    // p-values, randomized within the count, are uniform as calibration needs.
    const QString random_file = dir.path() + "/random.txt";
    {
      std::mt19937 rng(5);
      std::ofstream out(random_file.toStdString());
      const std::string letters = "abcdefh";
      for (int i = 0; i < 20000; ++i) out << letters[rng() % letters.size()];
    }
    request.length = 8;
    const auto random_text = watermarkTestFile(store, teacher.run_id, random_file.toStdString(), request);
    request.length = 128;
    QVERIFY2(random_text.sample_p_values.size() >= 100, qPrintable(QString::number(random_text.sample_p_values.size())));
    QVERIFY2(random_text.sample_ks.p_value > 0.01, qPrintable(QString::number(random_text.sample_ks.p_value)));
    for (double p : random_text.sample_p_values) QVERIFY(p > 0.0 && p <= 1.0);
    try {
      watermarkTestRun(store, 999, request);
      QFAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QStringLiteral("--suspect"));
    }
  }

  void watermarkConfigIsReadCheckedAndWritten() {
    auto base = nlohmann::json::parse(R"({"task": "lm", "corpus": {"path": "/tmp/x.txt"},
      "teacher": {"run": 3, "watermark": {"key": 42, "gamma": 0.3, "delta": 1.5, "context": 5, "fraction": 0.05}},
      "student": {"zoo": "gpt", "layers": 1, "heads": 1, "embed": 8, "context": 16},
      "method": {"name": "seq_kd"}})");
    const RunConfig c = RunConfig::fromJson(base);
    const auto& w = c.lm.teacher.watermark;
    QVERIFY(w.enabled);
    QCOMPARE(w.params.key, uint64_t(42));
    QCOMPARE(w.params.gamma, 0.3);
    QCOMPARE(w.params.context, 5);
    QCOMPARE(w.delta, 1.5);
    QCOMPARE(w.fraction, 0.05);
    const RunConfig again = RunConfig::fromJson(c.toJson());
    QCOMPARE(again.lm.teacher.watermark.fraction, 0.05);
    QCOMPARE(again.lm.teacher.watermark.params.key, uint64_t(42));
    auto expectField = [&](nlohmann::json j, const char* field) {
      try {
        RunConfig::fromJson(j);
        QFAIL(qPrintable(QStringLiteral("no error for ") + field));
      } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.field()), QString::fromLatin1(field));
      }
    };
    auto j = base;
    j["teacher"]["watermark"].erase("key");
    expectField(j, "teacher.watermark.key");
    j = base;
    j["teacher"]["watermark"]["gamma"] = 1.0;
    expectField(j, "teacher.watermark.gamma");
    j = base;
    j["teacher"]["watermark"]["fraction"] = 1.5;
    expectField(j, "teacher.watermark.fraction");
    j = base;
    j["teacher"]["watermark"]["salt"] = 1;
    expectField(j, "teacher.watermark.salt");
    j = base;
    j["method"]["name"] = "forward_kl";
    expectField(j, "teacher.watermark");
    j = base;
    j["method"]["name"] = "on_policy";
    QVERIFY(RunConfig::fromJson(j).lm.teacher.watermark.enabled);
  }
};

QTEST_GUILESS_MAIN(TestForensicsWatermark)
#include "tst_forensics_watermark.moc"
