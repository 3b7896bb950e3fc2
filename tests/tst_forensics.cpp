// Issue 18, part 1: classifier tests, suspect against reference teacher.
// The statistics against independent references (numpy and scipy), the rank
// p-value by hand, the tests on tiny models trained here (a null of
// independent models, held-out independents, a distilled student), refusal of
// a suspect that does not fit, and distillery-cli forensics end to end.
#include "core/base/errors.h"
#include "core/forensics/cutmix_inputs.h"
#include "core/forensics/detection_harness.h"
#include "core/forensics/detection_roc.h"
#include "core/forensics/forensic_request.h"
#include "core/forensics/forensic_session.h"
#include "core/forensics/forensic_tests.h"
#include "core/forensics/rank_p_value.h"
#include "core/forensics/sac_correlation.h"
#include "core/forensics/targeted_fingerprints.h"
#include "core/config/run_config.h"
#include "core/data/dataset.h"
#include "core/store/run_store.h"
#include "core/models/model_zoo.h"
#include "core/models/torchscript_export.h"
#include "core/training/prepared_model.h"
#include "core/training/trainer.h"
#include "test_support.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

using namespace distillery;
using namespace testsupport;

namespace {

std::vector<double> doubles(const QJsonArray& a) {
  std::vector<double> out;
  for (const auto& v : a) out.push_back(v.toDouble());
  return out;
}

std::vector<float> floatRows(const QJsonArray& rows) {
  std::vector<float> out;
  for (const auto& r : rows)
    for (const auto& v : r.toArray()) out.push_back(float(v.toDouble()));
  return out;
}

// Ten classes, each a fixed +-1 pattern on an 8x8 image, faint under heavy
// noise: about three in four are learnable, so models trained apart disagree
// on the rest and a model distilled from the teacher shares its mistakes.
Dataset noisyPatterns() {
  std::mt19937 rng(18);
  std::normal_distribution<float> noise(0.0f, 0.2f);
  std::bernoulli_distribution sign(0.5);
  std::vector<std::vector<float>> proto(10, std::vector<float>(64));
  for (auto& p : proto)
    for (float& v : p) v = sign(rng) ? 1.0f : -1.0f;
  auto split = [&](int n) {
    TensorSplit s;
    std::vector<float> x(size_t(n) * 64);
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int c = int(rng() % 10);
      y[size_t(i)] = c;
      for (int k = 0; k < 64; ++k) {
        const float raw = std::clamp(0.5f + 0.05f * proto[size_t(c)][size_t(k)] + noise(rng), 0.0f, 1.0f);
        x[size_t(i) * 64 + size_t(k)] = (raw - 0.5f) / 0.25f;
      }
    }
    s.x = torch::tensor(x).reshape({n, 1, 8, 8});
    s.y = torch::tensor(y, torch::kLong);
    return s;
  };
  Dataset d;
  d.name = "noisy-patterns";
  d.path = "(in memory)";
  d.shape = {1, 8, 8};
  d.num_classes = 10;
  d.train = split(2000);
  d.test = split(600);
  d.normalisation.mean = {0.5};
  d.normalisation.std = {0.25};
  return d;
}

ModelSpec mlp(std::vector<int> hidden) {
  ModelSpec s;
  s.zoo = "mlp";
  s.hidden = std::move(hidden);
  return s;
}

// Adam on labels (teacher == nullptr) or on the teacher's softened outputs (KD, T = 4).
Classifier train(const ModelSpec& spec, const Dataset& data, uint64_t seed, int epochs,
                 const Classifier& teacher = nullptr) {
  Classifier model = buildSeeded(spec, data, seed);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(size_t(data.train.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  torch::Tensor soft;
  if (teacher) soft = torch::softmax(predictLogits(teacher, data.train.x, torch::kCPU) / 4.0, 1);
  model->train();
  for (int e = 0; e < epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t b = 0; b < order.size(); b += 64) {
      const auto end = std::min(order.size(), b + 64);
      const torch::Tensor idx = torch::tensor(std::vector<int64_t>(order.begin() + long(b), order.begin() + long(end)));
      const torch::Tensor out = model->forward(data.train.x.index_select(0, idx));
      torch::Tensor loss;
      if (teacher)
        loss = torch::kl_div(torch::log_softmax(out / 4.0, 1), soft.index_select(0, idx), at::Reduction::Sum) * 16.0 /
               double(idx.size(0));
      else
        loss = torch::nn::functional::cross_entropy(out, data.train.y.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  model->eval();
  return model;
}

} // namespace

class TestForensics : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void sacMatchesNumpy();
  void rankPValueByHand();
  void probeStatisticsByHand();
  void rocMatchesScipy();
  void rocCurveByHand();
  void cutmixPastesOneBoxOfAnotherInput();
  void nullCalibrationAndDistilledStudent();
  void labelOnlySuspectSkipsSac();
  void harnessPerTestAndKind();
  void harnessLadderStopsAtTheProbe();
  void conferrableFingerprintsTransferToStudents();
  void mismatchedSuspectIsRefused();
  void cliForensicsStoresResults();
  void bashCompletionMatchesHelp();
  void cliForensicsRocMatchesHarness();
  void cliForensicsRocRefusesNamingTheOption();
  void forensicsRocCompletionMatchesHelp();

private:
  void probeStatisticsBody();
  void trainModels();
  bool trained_ = false;
  Dataset data_;
  Classifier teacher_, student_, student2_;
  std::vector<Classifier> label_clones_; // trained on the teacher's labels only
  std::vector<Classifier> null_, heldout_;
  QTemporaryDir dir_;
};

// The correlation matrices (cosine similarity of every pair of output rows)
// and their mean L1 distance, against numpy on the script's own random outputs.
void TestForensics::sacMatchesNumpy() {
  QString error;
  const QJsonObject ref = pythonReference(QStringLiteral("forensics_reference.py"), error);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  const std::vector<float> a = floatRows(ref["a"].toArray()), b = floatRows(ref["b"].toArray());
  const int64_t n = ref["a"].toArray().size(), c = ref["a"].toArray()[0].toArray().size();
  const std::vector<double> ca = sacCorrelationMatrix(a, n, c), cb = sacCorrelationMatrix(b, n, c);
  QCOMPARE(int64_t(ca.size()), n * n);
  const QJsonArray ref_ca = ref["corr_a"].toArray(), ref_cb = ref["corr_b"].toArray();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      QVERIFY2(std::abs(ca[size_t(i * n + j)] - ref_ca[int(i)].toArray()[int(j)].toDouble()) < 1e-6,
               qPrintable(QStringLiteral("corr_a[%1][%2]").arg(i).arg(j)));
      QVERIFY(std::abs(cb[size_t(i * n + j)] - ref_cb[int(i)].toArray()[int(j)].toDouble()) < 1e-6);
    }
  const double d = sacDistance(ca, cb);
  QVERIFY2(std::abs(d - ref["distance"].toDouble()) < 1e-7,
           qPrintable(QStringLiteral("%1 vs numpy %2").arg(d).arg(ref["distance"].toDouble())));
  QVERIFY(d > 0.01); // the two draws differ: a zero distance would prove nothing
  QCOMPARE(sacDistance(ca, ca), 0.0);
  QVERIFY_THROWS_EXCEPTION(ConfigError, sacDistance(ca, std::vector<double>(4, 0.0)));
}

// p = (1 + null models at least as close, ties included) / (null size + 1).
void TestForensics::rankPValueByHand() {
  const std::vector<double> null{0.1, 0.2, 0.3, 0.4};
  RankPValue p = rankPValue(0.5, null, Closeness::HigherIsCloser);
  QCOMPARE(p.p_value, 1.0 / 5.0);
  QCOMPARE(p.null_size, int64_t(4));
  QCOMPARE(p.at_least_as_close, int64_t(0));
  p = rankPValue(0.3, null, Closeness::HigherIsCloser); // 0.3 (a tie) and 0.4
  QCOMPARE(p.p_value, 3.0 / 5.0);
  QCOMPARE(p.at_least_as_close, int64_t(2));
  p = rankPValue(0.05, null, Closeness::LowerIsCloser);
  QCOMPARE(p.p_value, 1.0 / 5.0);
  p = rankPValue(0.05, null, Closeness::HigherIsCloser);
  QCOMPARE(p.p_value, 1.0);
  p = rankPValue(0.25, null, Closeness::LowerIsCloser); // 0.1 and 0.2
  QCOMPARE(p.p_value, 3.0 / 5.0);
  QVERIFY_THROWS_EXCEPTION(ConfigError, rankPValue(0.5, {}, Closeness::HigherIsCloser));
  QVERIFY_THROWS_EXCEPTION(ConfigError, rankPValue(std::nan(""), null, Closeness::HigherIsCloser));
}

// Agreement and fingerprint statistics are the share of answers whose argmax
// is the probe's label; SAC-m's is the distance to the teacher matrix, and a
// prefix probe's matrix is the matrix of the first k rows.
void TestForensics::probeStatisticsByHand() {
  // QtTest reports a stray exception without its message; say what it was.
  try {
    probeStatisticsBody();
  } catch (const std::exception& e) {
    QFAIL(e.what());
  }
}

void TestForensics::probeStatisticsBody() {
  ForensicProbe agreement;
  agreement.test = ForensicTest::Agreement;
  agreement.inputs = torch::zeros({4, 1, 2, 2});
  agreement.labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 3});
  const torch::Tensor answers = torch::tensor(std::vector<float>{0.9f, 0.1f, 0.0f, 0.0f,  //
                                                                 0.2f, 0.7f, 0.1f, 0.0f,  //
                                                                 0.6f, 0.0f, 0.4f, 0.0f,  // wrong: 0, not 2
                                                                 0.1f, 0.1f, 0.1f, 0.7f})
                                    .reshape({4, 4});
  QCOMPARE(probeStatistic(agreement, answers), 0.75);
  QCOMPARE(probeStatistic(prefixProbe(agreement, 2), answers.slice(0, 0, 2)), 1.0);
  QVERIFY_THROWS_EXCEPTION(ConfigError, probeStatistic(agreement, answers.slice(0, 0, 3)));

  ForensicProbe sac;
  sac.test = ForensicTest::Sac;
  sac.inputs = agreement.inputs;
  const torch::Tensor a = answers.contiguous();
  sac.teacher_matrix = sacCorrelationMatrix(std::vector<float>(a.data_ptr<float>(), a.data_ptr<float>() + 16), 4, 4);
  QCOMPARE(probeStatistic(sac, answers), 0.0);
  const ForensicProbe cut = prefixProbe(sac, 3);
  QCOMPARE(cut.teacher_matrix, sacCorrelationMatrix(std::vector<float>(a.data_ptr<float>(), a.data_ptr<float>() + 12), 3, 4));
  const torch::Tensor uniform = torch::full({4, 4}, 0.25f);
  // Every uniform row has cosine 1 with every other: the distance is the mean of |teacher - 1|.
  double expected = 0;
  for (double v : sac.teacher_matrix) expected += std::abs(v - 1.0);
  QCOMPARE(probeStatistic(sac, uniform), expected / 16.0);
}

// AUC = U / (n_pos n_neg) from scipy.stats.mannwhitneyu (ties half); TPR at 1%
// FPR from numpy; 200 negatives with ties, so the threshold is the third largest.
void TestForensics::rocMatchesScipy() {
  QString error;
  const QJsonObject ref = pythonReference(QStringLiteral("forensics_reference.py"), error);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  const std::vector<double> pos = doubles(ref["positives"].toArray()), neg = doubles(ref["negatives"].toArray());
  QCOMPARE(neg.size(), size_t(200));
  const double auc = rocAuc(pos, neg);
  QVERIFY2(std::abs(auc - ref["auc"].toDouble()) < 1e-12,
           qPrintable(QStringLiteral("%1 vs scipy %2").arg(auc).arg(ref["auc"].toDouble())));
  QVERIFY(auc > 0.6 && auc < 0.95);
  const double tpr = tprAtFpr(pos, neg, 0.01);
  QCOMPARE(tpr, ref["tpr_at_1pct"].toDouble());
  // By hand: perfect separation, reversed, and one negative above every positive.
  QCOMPARE(rocAuc({2, 3}, {0, 1}), 1.0);
  QCOMPARE(rocAuc({0, 1}, {2, 3}), 0.0);
  QCOMPARE(rocAuc({1}, {1}), 0.5);
  QCOMPARE(tprAtFpr({2, 3}, {0, 1, 5}, 0.01), 0.0);
  QCOMPARE(tprAtFpr({2, 6}, {0, 1, 5}, 0.01), 0.5);
}

// The ROC curve's points by hand (a tie makes one diagonal step), and its
// trapezoid area equals rocAuc on scipy's case (issue 18 part 4: the Calibration page draws it).
void TestForensics::rocCurveByHand() {
  const std::vector<RocPoint> c = rocCurve({3, 2, 2}, {2, 1});
  const std::vector<std::pair<double, double>> want = {{0, 0}, {0, 1.0 / 3}, {0.5, 1}, {1, 1}};
  QCOMPARE(c.size(), want.size());
  for (size_t i = 0; i < c.size(); ++i) {
    QCOMPARE(c[i].fpr, want[i].first);
    QCOMPARE(c[i].tpr, want[i].second);
  }
  auto area = [](const std::vector<RocPoint>& curve) {
    double a = 0;
    for (size_t i = 1; i < curve.size(); ++i)
      a += (curve[i].fpr - curve[i - 1].fpr) * (curve[i].tpr + curve[i - 1].tpr) / 2;
    return a;
  };
  QVERIFY(std::abs(area(c) - 5.0 / 6.0) < 1e-15);
  QString error;
  const QJsonObject ref = pythonReference(QStringLiteral("forensics_reference.py"), error);
  QVERIFY2(error.isEmpty(), qPrintable(error));
  const std::vector<double> pos = doubles(ref["positives"].toArray()), neg = doubles(ref["negatives"].toArray());
  const std::vector<RocPoint> curve = rocCurve(pos, neg);
  QVERIFY(std::abs(area(curve) - ref["auc"].toDouble()) < 1e-12);
  QCOMPARE(curve.front().fpr, 0.0);
  QCOMPARE(curve.back().tpr, 1.0);
  for (size_t i = 1; i < curve.size(); ++i) QVERIFY(curve[i].fpr >= curve[i - 1].fpr && curve[i].tpr >= curve[i - 1].tpr);
  QVERIFY_THROWS_EXCEPTION(ConfigError, rocCurve({1, std::nan("")}, {0}));
}

// Pool image i is filled with i: each mixed input holds at most two values,
// two different pool images, and the same seed gives the same inputs.
void TestForensics::cutmixPastesOneBoxOfAnotherInput() {
  const torch::Tensor pool = torch::arange(20, torch::kFloat).reshape({20, 1, 1, 1}).expand({20, 1, 8, 8}).contiguous();
  const torch::Tensor mixed = cutmixInputs(pool, 50, 7);
  QCOMPARE(mixed.size(0), int64_t(50));
  int two_valued = 0;
  for (int64_t i = 0; i < 50; ++i) {
    const torch::Tensor values = std::get<0>(torch::_unique(mixed[i].flatten()));
    QVERIFY(values.numel() >= 1 && values.numel() <= 2);
    if (values.numel() == 2) ++two_valued;
  }
  QVERIFY2(two_valued >= 35, qPrintable(QStringLiteral("only %1 of 50 inputs mixed").arg(two_valued)));
  QVERIFY(torch::equal(mixed, cutmixInputs(pool, 50, 7)));
  QVERIFY(!torch::equal(mixed, cutmixInputs(pool, 50, 8)));
  const torch::Tensor table = torch::arange(10, torch::kFloat).reshape({10, 1}).expand({10, 16}).contiguous();
  const torch::Tensor mixed_table = cutmixInputs(table, 10, 1);
  QCOMPARE(mixed_table.sizes(), torch::IntArrayRef({10, 16}));
}

void TestForensics::trainModels() {
  if (trained_) return;
  torch::set_num_threads(1);
  data_ = noisyPatterns();
  teacher_ = train(mlp({64}), data_, 0, 25);
  // The null: independent models on the same task without the teacher,
  // several seeds and architectures; held-out ones stand for innocent suspects.
  const std::vector<std::vector<int>> archs{{32}, {64}, {128}, {64, 32}};
  for (int i = 0; i < 12; ++i) null_.push_back(train(mlp(archs[size_t(i) % archs.size()]), data_, uint64_t(1 + i), 25));
  for (int i = 0; i < 6; ++i)
    heldout_.push_back(train(mlp(archs[size_t(i) % archs.size()]), data_, uint64_t(101 + i), 25));
  student_ = train(mlp({32}), data_, 201, 40, teacher_);
  student2_ = train(mlp({64}), data_, 202, 40, teacher_);
  Dataset relabelled = data_;
  relabelled.train.y = predictLogits(teacher_, data_.train.x, torch::kCPU).argmax(1);
  for (int i = 0; i < 2; ++i) label_clones_.push_back(train(mlp({64}), relabelled, uint64_t(301 + i), 25));
  trained_ = true;
}

// The null's size is 12, so the smallest possible p is 1/13. Held-out
// independent models are exchangeable with the null: their p-values are
// uniform on {1/13, ..., 1}. The check (18 p-values, 6 models x 3 tests):
// their mean is at least 0.3 (uniform: 0.54) and at most 4 of them are at
// the minimum 1/13 (uniform: 1.4 expected). The distilled student gets the
// smallest possible p for agreement, SAC-m and the fingerprints.
void TestForensics::nullCalibrationAndDistilledStudent() {
  trainModels();
  std::vector<ForensicModel> null;
  for (size_t i = 0; i < null_.size(); ++i)
    null.push_back(localForensicModel(null_[i], "null:" + std::to_string(i), "null model"));
  ForensicOptions options;
  options.inputs = 64;
  double sum = 0;
  int count = 0, at_minimum = 0;
  for (size_t i = 0; i < heldout_.size(); ++i) {
    ForensicModel suspect = localForensicModel(heldout_[i], "heldout", "held-out independent");
    for (const ForensicOutcome& o : runForensicTests(teacher_, data_, suspect, null, options)) {
      QVERIFY(o.skipped.empty());
      QCOMPARE(o.p.null_size, int64_t(12));
      sum += o.p.p_value;
      ++count;
      if (o.p.p_value <= 1.0 / 13.0 + 1e-12) ++at_minimum;
      qInfo("held-out %zu %s: statistic %.4f p %.3f", i, toString(o.test), o.statistic, o.p.p_value);
    }
  }
  QCOMPARE(count, 18);
  QVERIFY2(sum / count >= 0.3, qPrintable(QStringLiteral("mean p of independents %1").arg(sum / count)));
  QVERIFY2(at_minimum <= 4, qPrintable(QStringLiteral("%1 of 18 independents' p at the minimum").arg(at_minimum)));

  ForensicModel student = localForensicModel(student_, "student", "distilled student");
  const auto outcomes = runForensicTests(teacher_, data_, student, null, options);
  for (const ForensicOutcome& o : outcomes) {
    qInfo("student %s: statistic %.4f p %.3f (null %s)", toString(o.test), o.statistic, o.p.p_value,
          nlohmann::json(o.null_statistics).dump().c_str());
    QVERIFY(o.suspect_queries == o.inputs && o.inputs > 0);
    QVERIFY2(o.p.p_value == 1.0 / 13.0, qPrintable(QStringLiteral("%1: p %2").arg(toString(o.test)).arg(o.p.p_value)));
  }
  QCOMPARE(student.queries, int64_t(outcomes[0].inputs + outcomes[1].inputs + outcomes[2].inputs));
}

// A label-only suspect (an API in label mode): SAC-m needs probabilities and
// says so; agreement and fingerprints run on its labels.
void TestForensics::labelOnlySuspectSkipsSac() {
  trainModels();
  std::vector<ForensicModel> null;
  for (size_t i = 0; i < 4; ++i) null.push_back(localForensicModel(null_[i], "null", "null model"));
  ForensicModel suspect;
  suspect.id = "http://127.0.0.1:1/";
  suspect.description = "API http://127.0.0.1:1/ (label)";
  suspect.labels_only = true;
  const Classifier student = student_;
  suspect.answer = [student](const torch::Tensor& x) {
    return torch::one_hot(predictLogits(student, x, torch::kCPU).argmax(1), 10).to(torch::kFloat);
  };
  ForensicOptions options;
  options.inputs = 32;
  const auto outcomes = runForensicTests(teacher_, data_, suspect, null, options);
  QCOMPARE(outcomes.size(), size_t(3));
  QCOMPARE(outcomes[1].test, ForensicTest::Sac);
  QVERIFY(outcomes[1].skipped.find("needs probabilities") != std::string::npos);
  QVERIFY(outcomes[1].skipped.find("labels only") != std::string::npos);
  QVERIFY(outcomes[1].toJson().contains("skipped"));
  QVERIFY(!outcomes[1].toJson().contains("p_value"));
  QVERIFY(outcomes[0].skipped.empty() && outcomes[2].skipped.empty());
  QCOMPARE(suspect.queries, outcomes[0].inputs + outcomes[2].inputs); // none spent on the skipped test
}

// The harness on the trained models: positives of two kinds (KD students; label-only clones
// answering labels only, as through a label API), the held-out independents as
// negatives, the 12 null models. The KD students sit beyond every negative for
// SAC-m (AUC 1, TPR at 1% FPR 1) and reach p = 1/13 within the 64 queries;
// the label-only clones skip SAC-m, saying so in the count (on this task
// they are not told apart from independents: AUC 0.58 agreement, 0.17
// fingerprints, printed, not asserted).
void TestForensics::harnessPerTestAndKind() {
  trainModels();
  std::vector<ForensicModel> null;
  for (size_t i = 0; i < null_.size(); ++i) null.push_back(localForensicModel(null_[i], "null", "null model"));
  std::vector<LabelledModel> positives{{"kd", localForensicModel(student_, "kd1", "student")},
                                       {"kd", localForensicModel(student2_, "kd2", "student")}};
  for (const Classifier& c : label_clones_) {
    ForensicModel m;
    m.id = "label-clone";
    m.labels_only = true;
    m.answer = [c](const torch::Tensor& x) {
      return torch::one_hot(predictLogits(c, x, torch::kCPU).argmax(1), 10).to(torch::kFloat);
    };
    positives.push_back({"label-only", m});
  }
  std::vector<LabelledModel> negatives;
  for (const Classifier& h : heldout_) negatives.push_back({"independent", localForensicModel(h, "h", "held-out")});
  ForensicOptions options;
  options.inputs = 64;
  const auto rows = evaluateForensicTests(teacher_, data_, positives, negatives, null, options, {8, 16, 32, 64});
  QCOMPARE(rows.size(), size_t(6));
  for (const HarnessRow& r : rows) {
    qInfo("%s", r.toJson().dump().c_str());
    QCOMPARE(r.negatives, int64_t(6));
    QCOMPARE(r.positives + r.skipped, int64_t(2));
    for (int64_t q : r.queries_for_decision) QVERIFY(q == -1 || q == 8 || q == 16 || q == 32 || q == 64);
    if (r.kind == "kd" && r.test == ForensicTest::Sac) {
      QCOMPARE(r.auc, 1.0);
      QCOMPARE(r.tpr_at_1pct_fpr, 1.0);
      for (int64_t q : r.queries_for_decision) QVERIFY2(q > 0, "a KD student never reached p = 1/13");
    }
    if (r.kind == "label-only" && r.test == ForensicTest::Sac) {
      QCOMPARE(r.skipped, int64_t(2));
      QCOMPARE(r.positives, int64_t(0));
      QVERIFY(r.toJson()["auc"].is_null());
    }
    if (r.positives > 0) QVERIFY(r.auc >= 0.0 && r.auc <= 1.0);
  }
}

// The conferrability filter can keep fewer fingerprints than asked for: the
// ladder then stops at the probe's size (it threw asking a prefix beyond it),
// and each row says how many inputs its probe had. A filter of refusers that
// follow everything and a teacher-follower keeps few of the 64 asked for.
void TestForensics::harnessLadderStopsAtTheProbe() {
  trainModels();
  std::vector<ForensicModel> null;
  for (size_t i = 0; i < null_.size(); ++i) null.push_back(localForensicModel(null_[i], "null", "null model"));
  std::vector<LabelledModel> positives{{"kd", localForensicModel(student_, "kd1", "student")}};
  std::vector<LabelledModel> negatives;
  for (const Classifier& h : heldout_) negatives.push_back({"independent", localForensicModel(h, "h", "held-out")});
  ForensicOptions options;
  options.tests = {ForensicTest::Fingerprint, ForensicTest::Agreement};
  options.inputs = 64;
  options.fingerprint_followers = {student2_};
  options.fingerprint_refusers = {heldout_[0], heldout_[1]};
  options.fingerprint.refuser_share = 0.0; // kept only where neither refuser follows
  const auto rows = evaluateForensicTests(teacher_, data_, positives, negatives, null, options, {8, 16, 32, 64, 128});
  QCOMPARE(rows.size(), size_t(2));
  const HarnessRow& fp = rows[0];
  QCOMPARE(fp.test, ForensicTest::Fingerprint);
  qInfo("fingerprints kept: %lld of 64", static_cast<long long>(fp.inputs));
  QVERIFY2(fp.inputs >= 2 && fp.inputs < 64, qPrintable(QString::number(fp.inputs)));
  for (int64_t q : fp.queries_for_decision) QVERIFY(q == -1 || q <= fp.inputs);
  QCOMPARE(fp.toJson()["inputs"].get<int64_t>(), fp.inputs);
  QCOMPARE(rows[1].inputs, int64_t(64)); // agreement: the ladder's 128 became the probe's 64
  for (int64_t q : rows[1].queries_for_decision) QVERIFY(q == -1 || q == 8 || q == 16 || q == 32 || q == 64);
}

// Conferrable crafting on the tiny task: the surrogates are a KD student
// (student2_) and four null models, none of the models judged below. Every
// example stays within eps of its test input and in the valid range, the
// teacher answers its target, the scores are the surrogates' probabilities
// (checked by hand) in descending order, and the other KD student (student_)
// follows more of the targets than any held-out independent model does.
// Without references conferrable crafting is refused.
void TestForensics::conferrableFingerprintsTransferToStudents() {
  trainModels();
  const std::vector<Classifier> followers{student2_};
  const std::vector<Classifier> refusers{null_[0], null_[1], null_[2], null_[3]};
  FingerprintSettings settings;
  settings.count = 48;
  settings.seed = 5;
  settings.crafting = FingerprintCrafting::Conferrable;
  // The task's inputs are (raw - 0.5) / 0.25: one raw unit is 4 input units, raw [0, 1] is [-2, 2].
  const torch::Tensor scale = torch::tensor({4.0f}), lo = torch::tensor({-2.0f}), hi = torch::tensor({2.0f});
  const Fingerprints f = craftFingerprints(teacher_, data_.test.x, data_.test.y, scale, lo, hi, settings, followers, refusers);
  const int64_t k = f.targets.numel();
  qInfo("conferrable: kept %lld of %lld crafted (teacher follows %lld)", static_cast<long long>(k),
        static_cast<long long>(f.crafted), static_cast<long long>(f.teacher_follows));
  QVERIFY2(k >= 24 && k <= 48, qPrintable(QString::number(k)));
  QCOMPARE(f.inputs.size(0), k);
  QCOMPARE(f.sources.numel(), k);
  const torch::Tensor source = data_.test.x.index_select(0, f.sources);
  const double moved = (f.inputs - source).abs().max().item<double>();
  QVERIFY2(moved <= 0.25 * 4.0 + 1e-5, qPrintable(QString::number(moved)));
  QVERIFY2(moved >= 0.5, "the examples hardly moved from their test inputs");
  QVERIFY(f.inputs.min().item<double>() >= -2.0 - 1e-6 && f.inputs.max().item<double>() <= 2.0 + 1e-6);
  QVERIFY(torch::equal(predictLogits(teacher_, f.inputs, torch::kCPU).argmax(1), f.targets));
  QVERIFY((f.targets != data_.test.y.index_select(0, f.sources)).all().item<bool>()); // towards another class

  // The scores by hand: the student's p(target) x (1 - the references' mean p(target)).
  QCOMPARE(f.conferrability.size(), size_t(k));
  for (int64_t i = 0; i < k; ++i) {
    const int64_t t = f.targets[i].item<int64_t>();
    auto p = [&](const Classifier& m) {
      return torch::softmax(predictLogits(m, f.inputs.slice(0, i, i + 1), torch::kCPU).to(torch::kDouble), 1)[0][t]
          .item<double>();
    };
    double ref = 0;
    for (const Classifier& r : refusers) ref += p(r) / 4.0;
    QVERIFY2(std::abs(f.conferrability[size_t(i)] - p(student2_) * (1.0 - ref)) < 1e-6, // float logits, batch of one
             qPrintable(QStringLiteral("%1: %2 vs %3").arg(i).arg(f.conferrability[size_t(i)]).arg(p(student2_) * (1.0 - ref))));
    if (i > 0) QVERIFY(f.conferrability[size_t(i)] <= f.conferrability[size_t(i - 1)]);
  }

  auto followed = [&](const Classifier& m, const Fingerprints& fp) {
    return (predictLogits(m, fp.inputs, torch::kCPU).argmax(1) == fp.targets).to(torch::kDouble).mean().item<double>();
  };
  // The teacher-only crafting on the same candidates, for the record (printed, not asserted).
  FingerprintSettings plain = settings;
  plain.crafting = FingerprintCrafting::Teacher;
  const Fingerprints old = craftFingerprints(teacher_, data_.test.x, data_.test.y, scale, lo, hi, plain);
  const double student = followed(student_, f);
  double independent = 0;
  for (const Classifier& h : heldout_) independent = std::max(independent, followed(h, f));
  double old_independent = 0;
  for (const Classifier& h : heldout_) old_independent = std::max(old_independent, followed(h, old));
  qInfo("targets followed: student %.2f, most of 6 independents %.2f (teacher crafting: %.2f, %.2f)", student,
        independent, followed(student_, old), old_independent);
  QVERIFY2(student > independent, qPrintable(QStringLiteral("student %1, independent %2").arg(student).arg(independent)));

  bool refused = false;
  try {
    craftFingerprints(teacher_, data_.test.x, data_.test.y, scale, lo, hi, settings, followers, {});
  } catch (const ConfigError& e) {
    refused = std::string(e.what()).find("--confer-against") != std::string::npos;
  }
  QVERIFY(refused);
}

// A TorchScript suspect with another class count, or another input shape, is
// refused with the reason (and never compared).
void TestForensics::mismatchedSuspectIsRefused() {
  trainModels();
  QVERIFY(dir_.isValid());
  const std::string five = dir_.filePath("five_classes.pt").toStdString();
  {
    Classifier m = buildModel(mlp({8}), {1, 8, 8}, 5);
    std::ofstream(five, std::ios::binary) << exportTorchScriptBytes(m, {1, 8, 8});
  }
  try {
    forensicModelFromTorchScript(five, data_);
    QFAIL("a 5-class suspect against a 10-class teacher was accepted");
  } catch (const DataError& e) {
    const QString why = QString::fromStdString(e.what());
    QVERIFY2(why.contains(QStringLiteral("10 classes")) && why.contains(QStringLiteral("five_classes.pt")), qPrintable(why));
  }
  const std::string wide = dir_.filePath("wide.pt").toStdString();
  {
    Classifier m = buildModel(mlp({8}), {3, 8, 8}, 10);
    std::ofstream(wide, std::ios::binary) << exportTorchScriptBytes(m, {3, 8, 8});
  }
  QVERIFY_THROWS_EXCEPTION(DataError, forensicModelFromTorchScript(wide, data_));
  // The same architecture with the teacher's shape loads.
  const std::string fits = dir_.filePath("fits.pt").toStdString();
  std::ofstream(fits, std::ios::binary) << exportTorchScriptBytes(student_, {1, 8, 8});
  const ForensicModel ok = forensicModelFromTorchScript(fits, data_);
  QCOMPARE(ok.answer(data_.test.x.slice(0, 0, 3)).sizes(), torch::IntArrayRef({3, 10}));
}

namespace {

int64_t runIdOf(const ProcessResult& r) {
  for (const QString& line : r.out.split('\n'))
    if (line.startsWith(QStringLiteral("run_id="))) return line.mid(7).toLongLong();
  return 0;
}

} // namespace

// distillery-cli forensics on runs: a train-run teacher, three independent
// train runs as the null, a student distilled from the teacher. The JSON
// names the null's size and p-values on its grid; every result is stored with
// its inputs; a mismatched TorchScript suspect is refused with the reason.
void TestForensics::cliForensicsStoresResults() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString data = dir.filePath(QStringLiteral("data"));
  QVERIFY(QDir().mkpath(data));
  writeSyntheticDataset(data.toStdString(), 1500, 300);
  const QString db = dir.filePath(QStringLiteral("runs.sqlite"));
  auto runConfig = [&](const nlohmann::json& config, const QString& name) {
    const QString path = dir.filePath(name + QStringLiteral(".json"));
    std::ofstream(path.toStdString()) << config.dump();
    const ProcessResult r = runCli({QStringLiteral("run"), path, QStringLiteral("--db"), db});
    if (r.code != 0) qWarning("%s", qPrintable(r.err));
    return runIdOf(r);
  };
  auto trainConfig = [&](std::vector<int> hidden, int seed) {
    return nlohmann::json{{"name", "independent"}, {"task", "train"},
                          {"data", {{"path", data.toStdString()}, {"val_size", 200}}},
                          {"model", {{"zoo", "mlp"}, {"hidden", hidden}}},
                          {"optim", {{"name", "adam"}, {"lr", 0.003}}},
                          {"batch_size", 64}, {"epochs", 1}, {"seed", seed}, {"device", "cpu"}};
  };
  const int64_t teacher = runConfig(trainConfig({64}, 0), QStringLiteral("teacher"));
  QVERIFY(teacher > 0);
  std::vector<int64_t> null;
  for (int i = 0; i < 3; ++i) null.push_back(runConfig(trainConfig(i == 1 ? std::vector<int>{32} : std::vector<int>{16}, 10 + i), QStringLiteral("null%1").arg(i)));
  for (int64_t id : null) QVERIFY(id > 0);
  nlohmann::json distill = smallDistillConfig(data.toStdString());
  distill["teacher"] = {{"run", teacher}};
  const int64_t student = runConfig(distill, QStringLiteral("student"));
  QVERIFY(student > 0);

  const QString null_arg = QStringLiteral("%1,%2,%3").arg(null[0]).arg(null[1]).arg(null[2]);
  const ProcessResult r = runCli({QStringLiteral("forensics"), QStringLiteral("--suspect"), QString::number(student),
                                  QStringLiteral("--teacher"), QString::number(teacher), QStringLiteral("--null"), null_arg,
                                  QStringLiteral("--inputs"), QStringLiteral("32"), QStringLiteral("--json"),
                                  QStringLiteral("--db"), db});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  const nlohmann::json out = nlohmann::json::parse(r.out.toStdString());
  QCOMPARE(out["results"].size(), size_t(3));
  std::set<std::string> tests;
  for (const auto& res : out["results"]) {
    tests.insert(res["test"].get<std::string>());
    QCOMPARE(res["null_size"].get<int64_t>(), int64_t(3));
    const double p = res["p_value"].get<double>();
    const double steps = p * 4.0; // on the grid {1/4, 2/4, 3/4, 1}
    QVERIFY2(std::abs(steps - std::round(steps)) < 1e-9 && p >= 0.25 && p <= 1.0, qPrintable(QString::number(p)));
    QCOMPARE(res["smallest_possible_p"].get<double>(), 0.25);
    QCOMPARE(res["null_statistics"].size(), size_t(3));
  }
  QCOMPARE(tests, (std::set<std::string>{"agreement", "sac", "fingerprint"}));

  RunStore store(db.toStdString());
  const auto stored = store.forensicResults();
  QCOMPARE(stored.size(), size_t(3));
  for (const auto& s : stored) {
    QCOMPARE(s.suspect, "run:" + std::to_string(student));
    QCOMPARE(s.reference, "run:" + std::to_string(teacher));
    QCOMPARE(s.inputs["null"], nlohmann::json(null));
    QCOMPARE(s.inputs["inputs"].get<int64_t>(), int64_t(32));
    QCOMPARE(s.inputs["seed"].get<int64_t>(), int64_t(0));
    QVERIFY(s.result.contains("p_value"));
  }
  QCOMPARE(stored[1].kind, std::string("sac"));

  // Another class count: refused, naming the file and the reason; nothing stored.
  const std::string five = dir.filePath(QStringLiteral("five.pt")).toStdString();
  std::ofstream(five, std::ios::binary) << exportTorchScriptBytes(buildModel(mlp({8}), {1, 28, 28}, 5), {1, 28, 28});
  const ProcessResult bad = runCli({QStringLiteral("forensics"), QStringLiteral("--suspect"), QString::fromStdString(five),
                                    QStringLiteral("--teacher"), QString::number(teacher), QStringLiteral("--null"), null_arg,
                                    QStringLiteral("--db"), db});
  QVERIFY(bad.code != 0);
  QVERIFY2(bad.err.contains(QStringLiteral("five.pt")) && bad.err.contains(QStringLiteral("10 classes")), qPrintable(bad.err));
  // The suspect in its own null is no test at all.
  const ProcessResult self = runCli({QStringLiteral("forensics"), QStringLiteral("--suspect"), QString::number(null[0]),
                                     QStringLiteral("--teacher"), QString::number(teacher), QStringLiteral("--null"), null_arg,
                                     QStringLiteral("--db"), db});
  QCOMPARE(self.code, 2);
  QVERIFY2(self.err.contains(QStringLiteral("--null")), qPrintable(self.err));
  // A fingerprint filter drawn from the null would bias it: refused.
  const ProcessResult filter = runCli({QStringLiteral("forensics"), QStringLiteral("--suspect"), QString::number(student),
                                       QStringLiteral("--teacher"), QString::number(teacher), QStringLiteral("--null"), null_arg,
                                       QStringLiteral("--confer-against"), QString::number(null[1]),
                                       QStringLiteral("--db"), db});
  QCOMPARE(filter.code, 2);
  QVERIFY2(filter.err.contains(QStringLiteral("--confer-against")), qPrintable(filter.err));
  QCOMPARE(RunStore(db.toStdString()).forensicResults().size(), size_t(3));
}

namespace {

// packaging/distillery-cli.bash offers exactly the options `command --help`
// lists, and lists the command.
void checkCompletionMatchesHelp(const QString& command) {
  const ProcessResult help = runCli({command, QStringLiteral("--help")});
  QCOMPARE(help.code, 0);
  std::set<QString> listed;
  static const QRegularExpression option(QStringLiteral("^\\s*(?:-[a-z],)?(--[a-z][a-z-]*)"));
  for (const QString& line : help.out.split('\n')) {
    const auto m = option.match(line);
    if (m.hasMatch()) listed.insert(m.captured(1));
  }
  QVERIFY(listed.count(QStringLiteral("--teacher")) == 1);
  std::ifstream f(DISTILLERY_SOURCE_DIR "/packaging/distillery-cli.bash");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const QString bash = QString::fromStdString(text);
  const auto line =
      QRegularExpression(QStringLiteral("\\n\\s*%1\\) echo \"([^\"]*)\"").arg(QRegularExpression::escape(command))).match(bash);
  QVERIFY2(line.hasMatch(), qPrintable(QStringLiteral("no %1 line in packaging/distillery-cli.bash").arg(command)));
  std::set<QString> offered;
  for (const QString& w : line.captured(1).split(' ', Qt::SkipEmptyParts)) offered.insert(w);
  QCOMPARE(offered, listed);
  QVERIFY(QRegularExpression(QStringLiteral("_distillery_cli_commands=\"[^\"]*(\\s|\")%1(\\s|\")")
                                 .arg(QRegularExpression::escape(command)))
              .match(bash)
              .hasMatch());
}

} // namespace

void TestForensics::bashCompletionMatchesHelp() { checkCompletionMatchesHelp(QStringLiteral("forensics")); }

void TestForensics::forensicsRocCompletionMatchesHelp() { checkCompletionMatchesHelp(QStringLiteral("forensics-roc")); }

namespace {

// A store of tiny runs on a synthetic task for forensics-roc: a teacher, an
// independent null and negatives (two architectures), students of two kinds,
// the fingerprint filter's own models, and runs that must be refused.
struct RocStore {
  QTemporaryDir dir;
  QString db, data, other_data;
  int64_t teacher = 0;
  std::vector<int64_t> null, negatives, kd, hard, followers, refusers;
  int64_t other_task = 0; // an independent run on another dataset of the same shape

  int64_t runConfig(const nlohmann::json& config) {
    const QString path = dir.filePath(QStringLiteral("config.json"));
    std::ofstream(path.toStdString()) << config.dump();
    const ProcessResult r = runCli({QStringLiteral("run"), path, QStringLiteral("--db"), db});
    if (r.code != 0) qWarning("%s", qPrintable(r.err));
    return runIdOf(r);
  }
  nlohmann::json trainConfig(const QString& path, std::vector<int> hidden, int seed) const {
    return nlohmann::json{{"name", "independent"}, {"task", "train"},
                          {"data", {{"path", path.toStdString()}, {"val_size", 200}}},
                          {"model", {{"zoo", "mlp"}, {"hidden", hidden}}},
                          {"optim", {{"name", "adam"}, {"lr", 0.003}}},
                          {"batch_size", 64}, {"epochs", 1}, {"seed", seed}, {"device", "cpu"}, {"threads", 1}};
  }
  int64_t student(const nlohmann::json& method, int seed) {
    nlohmann::json c = trainConfig(data, {16}, seed);
    c.erase("model");
    c["name"] = "student";
    c["task"] = "distill";
    c["teacher"] = {{"run", teacher}};
    c["student"] = {{"zoo", "mlp"}, {"hidden", {16}}};
    c["method"] = method;
    return runConfig(c);
  }
  bool make() {
    if (!dir.isValid()) return false;
    data = dir.filePath(QStringLiteral("data"));
    other_data = dir.filePath(QStringLiteral("other"));
    QDir().mkpath(data);
    QDir().mkpath(other_data);
    writeSyntheticDataset(data.toStdString(), 1500, 300);
    writeSyntheticDataset(other_data.toStdString(), 600, 100);
    db = dir.filePath(QStringLiteral("runs.sqlite"));
    teacher = runConfig(trainConfig(data, {64}, 0));
    for (int i = 0; i < 4; ++i) null.push_back(runConfig(trainConfig(data, {i % 2 ? 32 : 16}, 10 + i)));
    for (int i = 0; i < 3; ++i) negatives.push_back(runConfig(trainConfig(data, {i % 2 ? 32 : 16}, 20 + i)));
    for (int i = 0; i < 2; ++i) kd.push_back(student({{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}}, 30 + i));
    hard.push_back(student({{"name", "hard_label"}}, 40));
    followers.push_back(student({{"name", "kd"}, {"temperature", 4.0}, {"alpha", 0.9}}, 50));
    refusers.push_back(runConfig(trainConfig(data, {32}, 60)));
    other_task = runConfig(trainConfig(other_data, {16}, 70));
    std::vector<int64_t> all{teacher, other_task};
    for (const auto* v : {&null, &negatives, &kd, &hard, &followers, &refusers}) all.insert(all.end(), v->begin(), v->end());
    return std::all_of(all.begin(), all.end(), [](int64_t id) { return id > 0; });
  }
};

QString joined(const std::vector<int64_t>& ids) {
  QStringList words;
  for (int64_t id : ids) words << QString::number(id);
  return words.join(',');
}

RocStore& rocStore() {
  static RocStore store;
  static const bool made = store.make();
  if (!made) qWarning("the forensics-roc store could not be made");
  return store;
}

} // namespace

// distillery-cli forensics-roc on tiny runs: its JSON rows are exactly what
// evaluateForensicTests gives on the same stored models, data, options
// (fingerprint filter included) and ladder (4, 8, 16, 32 for 32 inputs).
void TestForensics::cliForensicsRocMatchesHarness() {
  RocStore& s = rocStore();
  QVERIFY(s.teacher > 0 && s.other_task > 0);
  const ProcessResult r = runCli(
      {QStringLiteral("forensics-roc"), QStringLiteral("--teacher"), QString::number(s.teacher), QStringLiteral("--null"),
       joined(s.null), QStringLiteral("--negatives"), joined(s.negatives), QStringLiteral("--positives"),
       QStringLiteral("kd=") + joined(s.kd), QStringLiteral("--positives"), QStringLiteral("hard_label=") + joined(s.hard),
       QStringLiteral("--confer-with"), joined(s.followers), QStringLiteral("--confer-against"), joined(s.refusers),
       QStringLiteral("--inputs"), QStringLiteral("32"), QStringLiteral("--seed"), QStringLiteral("3"),
       QStringLiteral("--json"), QStringLiteral("--db"), s.db});
  QVERIFY2(r.code == 0, qPrintable(r.err));
  const nlohmann::json out = nlohmann::json::parse(r.out.toStdString());
  QCOMPARE(out["ladder"], nlohmann::json({4, 8, 16, 32}));
  QCOMPARE(out["null"].size(), s.null.size());
  QCOMPARE(out["positives"]["kd"].size(), size_t(2));

  // The same computation in this process, on the models the store holds.
  torch::set_num_threads(1);
  RunStore store(s.db.toStdString());
  const Dataset data = loadDataset(RunConfig::fromJsonText(store.run(s.teacher)->config_json).data,
                                   RunConfig::fromJsonText(store.run(s.teacher)->config_json).seed);
  ForensicModel teacher = forensicModelFromRun(store, s.teacher, data, "teacher");
  std::vector<ForensicModel> null;
  for (int64_t id : s.null) null.push_back(forensicModelFromRun(store, id, data, "null"));
  std::vector<LabelledModel> negatives, positives;
  for (int64_t id : s.negatives) negatives.push_back({"independent", forensicModelFromRun(store, id, data, "neg")});
  for (int64_t id : s.kd) positives.push_back({"kd", forensicModelFromRun(store, id, data, "pos")});
  for (int64_t id : s.hard) positives.push_back({"hard_label", forensicModelFromRun(store, id, data, "pos")});
  ForensicOptions options;
  options.inputs = 32;
  options.seed = 3;
  for (int64_t id : s.followers) options.fingerprint_followers.push_back(forensicModelFromRun(store, id, data, "f").local);
  for (int64_t id : s.refusers) options.fingerprint_refusers.push_back(forensicModelFromRun(store, id, data, "r").local);
  const auto rows = evaluateForensicTests(teacher.local, data, positives, negatives, null, options, {4, 8, 16, 32});
  QCOMPARE(out["rows"].size(), rows.size());
  QCOMPARE(rows.size(), size_t(6)); // 3 tests x 2 kinds
  for (size_t i = 0; i < rows.size(); ++i) {
    const nlohmann::json want = rows[i].toJson(), got = out["rows"][i];
    for (const char* key : {"test", "kind", "positives", "skipped", "negatives", "inputs", "queries_for_decision"})
      QVERIFY2(got[key] == want[key], qPrintable(QStringLiteral("row %1 %2: %3 vs %4")
                                                     .arg(i).arg(key)
                                                     .arg(QString::fromStdString(got[key].dump()))
                                                     .arg(QString::fromStdString(want[key].dump()))));
    for (const char* key : {"auc", "tpr_at_1pct_fpr"})
      QVERIFY2(std::abs(got[key].get<double>() - want[key].get<double>()) < 1e-12, key);
  }
  QCOMPARE(out["options"], options.toJson());

  // Conferrable crafting over the same surrogates: the same rows as the harness's.
  const ProcessResult conf = runCli(
      {QStringLiteral("forensics-roc"), QStringLiteral("--teacher"), QString::number(s.teacher), QStringLiteral("--null"),
       joined(s.null), QStringLiteral("--negatives"), joined(s.negatives), QStringLiteral("--positives"),
       QStringLiteral("kd=") + joined(s.kd), QStringLiteral("--confer-with"), joined(s.followers),
       QStringLiteral("--confer-against"), joined(s.refusers), QStringLiteral("--tests"), QStringLiteral("fingerprint"),
       QStringLiteral("--fingerprint-crafting"), QStringLiteral("conferrable"), QStringLiteral("--inputs"),
       QStringLiteral("32"), QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--json"),
       QStringLiteral("--db"), s.db});
  QVERIFY2(conf.code == 0, qPrintable(conf.err));
  const nlohmann::json conf_out = nlohmann::json::parse(conf.out.toStdString());
  options.tests = {ForensicTest::Fingerprint};
  options.fingerprint.crafting = FingerprintCrafting::Conferrable;
  positives.resize(s.kd.size()); // the kd students only
  const auto conf_rows = evaluateForensicTests(teacher.local, data, positives, negatives, null, options, {4, 8, 16, 32});
  QCOMPARE(conf_out["options"]["fingerprint"]["crafting"], nlohmann::json("conferrable"));
  QCOMPARE(conf_out["rows"].size(), size_t(1));
  for (const char* key : {"test", "kind", "positives", "inputs", "queries_for_decision", "auc", "tpr_at_1pct_fpr"})
    QVERIFY2(conf_out["rows"][0][key] == conf_rows[0].toJson()[key], key);

  // The GUI's calibration fills the same choice (FingerprintCraftingChoice)
  // into its request: the same row as forensics-roc's, and what it was
  // computed from names the crafting and the surrogates.
  CalibrationRequest request;
  request.teacher = std::to_string(s.teacher);
  for (int64_t id : s.kd) request.positives.emplace_back("kd", id);
  request.negatives = s.negatives;
  request.null = s.null;
  request.tests = {"fingerprint"};
  request.fingerprint.crafting = "conferrable";
  request.fingerprint.confer_with = s.followers;
  request.fingerprint.confer_against = s.refusers;
  request.inputs = 32;
  request.seed = 3;
  request.ladder = {4, 8, 16, 32};
  const CalibrationResult calibrated = runStoredCalibration(store, request);
  QCOMPARE(calibrated.rows.size(), size_t(1));
  for (const char* key : {"test", "kind", "positives", "skipped", "negatives", "inputs", "queries_for_decision", "auc",
                          "tpr_at_1pct_fpr"})
    QVERIFY2(calibrated.rows[0].toJson()[key] == conf_out["rows"][0][key], key);
  QCOMPARE(calibrated.inputs["fingerprint"]["crafting"], nlohmann::json("conferrable"));
  QCOMPARE(calibrated.inputs["fingerprint"]["confer_with"], nlohmann::json(s.followers));
  QCOMPARE(calibrated.inputs["fingerprint"]["confer_against"], nlohmann::json(s.refusers));
  // And it is refused as forensics-roc refuses it, naming the option.
  auto refusal = [&](const FingerprintCraftingChoice& choice) {
    CalibrationRequest bad = request;
    bad.fingerprint = choice;
    try {
      runStoredCalibration(store, bad);
    } catch (const ConfigError& e) {
      return QString::fromUtf8(e.what());
    }
    return QString();
  };
  const QString none = refusal({"conferrable", s.followers, {}});
  QVERIFY2(none.contains(QStringLiteral("--fingerprint-crafting")) && none.contains(QStringLiteral("--confer-against")),
           qPrintable(none));
  const QString negative = refusal({"conferrable", s.followers, {s.negatives[0]}});
  QVERIFY2(negative.contains(QStringLiteral("run %1 is a negative").arg(s.negatives[0])), qPrintable(negative));
  const QString positive = refusal({"conferrable", {s.kd[0]}, s.refusers});
  QVERIFY2(positive.contains(QStringLiteral("--confer-with")) && positive.contains(QStringLiteral("is a positive")),
           qPrintable(positive));
  const QString copy = refusal({"conferrable", s.followers, {s.hard[0]}});
  QVERIFY2(copy.contains(QStringLiteral("--confer-against")) && copy.contains(QStringLiteral("distilled from the teacher")),
           qPrintable(copy));
  const QString elsewhere = refusal({"conferrable", s.followers, {s.other_task}});
  QVERIFY2(elsewhere.contains(QStringLiteral("trained on")), qPrintable(elsewhere));
  // A single test refuses a reference distilled from the teacher too (it
  // would push the examples away from what copies do), and stores nothing.
  {
    ForensicRequest single;
    single.suspect = std::to_string(s.kd[0]);
    single.teacher = std::to_string(s.teacher);
    single.null = s.null;
    single.tests = {"fingerprint"};
    single.fingerprint = {"conferrable", s.followers, {s.hard[0]}};
    single.inputs = 16;
    const size_t stored = store.forensicResults().size();
    try {
      runStoredForensics(store, single);
      QFAIL("expected a ConfigError for a distilled surrogate reference");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QStringLiteral("--confer-against"));
      QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("distilled from the teacher")), e.what());
    }
    QCOMPARE(store.forensicResults().size(), stored);
  }

  // The plain table: one line per test and kind.
  const ProcessResult plain = runCli(
      {QStringLiteral("forensics-roc"), QStringLiteral("--teacher"), QString::number(s.teacher), QStringLiteral("--null"),
       joined(s.null), QStringLiteral("--negatives"), joined(s.negatives), QStringLiteral("--positives"),
       QStringLiteral("kd=") + joined(s.kd), QStringLiteral("--tests"), QStringLiteral("agreement,sac"),
       QStringLiteral("--inputs"), QStringLiteral("16"), QStringLiteral("--db"), s.db});
  QVERIFY2(plain.code == 0, qPrintable(plain.err));
  QVERIFY2(plain.out.contains(QStringLiteral("TPR@1%FPR")), qPrintable(plain.out));
  QCOMPARE(plain.out.count(QRegularExpression(QStringLiteral("\\n(agreement|sac)\\s+kd\\s"))), 2);
}

// Bad input is refused before anything is computed, naming the option: an
// unknown run, a run on another dataset as a negative, a student of the
// teacher in the null, one run in two roles, an empty null, a malformed --positives.
void TestForensics::cliForensicsRocRefusesNamingTheOption() {
  RocStore& s = rocStore();
  QVERIFY(s.teacher > 0 && s.other_task > 0);
  auto roc = [&](const QString& null, const QString& negatives, const QString& positives) {
    return runCli({QStringLiteral("forensics-roc"), QStringLiteral("--teacher"), QString::number(s.teacher),
                   QStringLiteral("--null"), null, QStringLiteral("--negatives"), negatives,
                   QStringLiteral("--positives"), positives, QStringLiteral("--inputs"), QStringLiteral("8"),
                   QStringLiteral("--db"), s.db});
  };
  const QString null = joined(s.null), negatives = joined(s.negatives), kd = QStringLiteral("kd=") + joined(s.kd);
  auto refused = [](const ProcessResult& r, const QString& option, const QString& why) {
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(option) && r.err.contains(why), qPrintable(r.err));
  };
  refused(roc(null, negatives + QStringLiteral(",9999"), kd), QStringLiteral("--negatives"), QStringLiteral("9999"));
  refused(roc(null, negatives + "," + QString::number(s.other_task), kd), QStringLiteral("--negatives"),
          QStringLiteral("trained on"));
  refused(roc(null + "," + QString::number(s.kd[0]), negatives, QStringLiteral("hard_label=") + joined(s.hard)),
          QStringLiteral("--null"), QStringLiteral("distilled from the teacher"));
  refused(roc(null, negatives, QStringLiteral("kd=") + QString::number(s.null[0])), QStringLiteral("--positives"),
          QStringLiteral("already given as --null"));
  refused(roc(QString(), negatives, kd), QStringLiteral("--null"), QStringLiteral("empty"));
  refused(roc(null, negatives, joined(s.kd)), QStringLiteral("--positives"), QStringLiteral("KIND=IDS"));
  refused(roc(null, negatives, QStringLiteral("kd=") + QString::number(s.teacher)), QStringLiteral("--positives"),
          QStringLiteral("already given as --teacher"));
  // Conferrable crafting needs both kinds of surrogate; a crafting it does not know is named.
  auto crafted = [&](const QString& crafting, const QStringList& surrogates) {
    return runCli(QStringList{QStringLiteral("forensics-roc"), QStringLiteral("--teacher"), QString::number(s.teacher),
                              QStringLiteral("--null"), null, QStringLiteral("--negatives"), negatives,
                              QStringLiteral("--positives"), kd, QStringLiteral("--fingerprint-crafting"), crafting,
                              QStringLiteral("--db"), s.db} + surrogates);
  };
  refused(crafted(QStringLiteral("conferrable"), {QStringLiteral("--confer-with"), joined(s.followers)}),
          QStringLiteral("--fingerprint-crafting"), QStringLiteral("--confer-against"));
  refused(crafted(QStringLiteral("ensemble"), {}), QStringLiteral("--fingerprint-crafting"), QStringLiteral("ensemble"));
}

QTEST_GUILESS_MAIN(TestForensics)
#include "tst_forensics.moc"
