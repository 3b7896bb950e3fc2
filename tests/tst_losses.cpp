// Distillation losses and metrics against independent computations: a hand
// derivation in plain C++ and, where installed, Debian's python3-torch.
#include "core/training/classification_metrics.h"
#include "core/methods/distill_losses.h"
#include "core/base/errors.h"
#include "core/methods/feature_distiller.h"
#include "core/methods/feature_losses.h"
#include "core/methods/method_losses.h"
#include "core/methods/method_registry.h"
#include "core/models/model_zoo.h"

#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <tuple>

using namespace distillery;

namespace {

const std::vector<std::vector<double>> kStudent = {{1.0, 2.0, 3.0}, {0.5, -1.0, 2.5}};
const std::vector<std::vector<double>> kTeacher = {{3.0, 1.0, 0.5}, {0.0, 0.2, 4.0}};
const std::vector<int64_t> kLabels = {2, 0};

torch::Tensor tensorOf(const std::vector<std::vector<double>>& rows) {
  auto t = torch::empty({int64_t(rows.size()), int64_t(rows[0].size())}, torch::kFloat64);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[int64_t(i)][int64_t(j)] = rows[i][j];
  return t;
}

std::vector<double> softmax(const std::vector<double>& z, double T) {
  double m = *std::max_element(z.begin(), z.end()), sum = 0;
  std::vector<double> p;
  for (double v : z) sum += std::exp((v - m) / T);
  for (double v : z) p.push_back(std::exp((v - m) / T) / sum);
  return p;
}

// Hinton KD written out from its definition, with no LibTorch involved.
double handKd(double T, double alpha) {
  double kl = 0, ce = 0;
  for (size_t i = 0; i < kStudent.size(); ++i) {
    auto ps = softmax(kStudent[i], T), pt = softmax(kTeacher[i], T), p1 = softmax(kStudent[i], 1.0);
    for (size_t c = 0; c < ps.size(); ++c) kl += pt[c] * std::log(pt[c] / ps[c]);
    ce += -std::log(p1[size_t(kLabels[i])]);
  }
  const double n = double(kStudent.size());
  return alpha * T * T * kl / n + (1 - alpha) * ce / n;
}

torch::Tensor labels() { return torch::tensor(kLabels, torch::kLong); }

// Batch 4, 6 classes; the same numbers as tests/loss_reference.py. The teacher's
// top-1 differs from the label in rows 0 and 1; no ties among the teacher's logits.
const std::vector<std::vector<double>> kS = {{1.0, 2.0, 3.0, -0.5, 0.2, 1.5},
                                             {0.5, -1.0, 2.5, 0.3, -2.0, 1.0},
                                             {-1.2, 0.4, 0.0, 2.2, 1.1, -0.3},
                                             {2.0, 1.8, -0.7, 0.6, -1.5, 0.9}};
const std::vector<std::vector<double>> kT = {{3.0, 1.0, 0.5, -1.0, 2.0, 0.1},
                                             {0.0, 0.2, 4.0, 1.5, -0.5, 0.8},
                                             {0.3, -0.8, 1.9, 2.6, 0.7, -1.4},
                                             {1.1, 3.2, -0.2, 0.4, 2.1, -0.9}};
const std::vector<int64_t> kY = {2, 4, 3, 1};

torch::Tensor labels6() { return torch::tensor(kY, torch::kLong); }

// One loss configuration per key of tests/loss_reference.py's output.
struct Variant {
  const char* key;
  std::string method;
  std::map<std::string, double> params;
  double epoch = 0.0;
};

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"kd", "kd", {{"temperature", 4.0}, {"alpha", 0.9}}},
      {"dkd", "dkd", {{"alpha", 1.0}, {"beta", 8.0}, {"temperature", 4.0}, {"warmup", 20}, {"ce_weight", 1.0}}, 5.0},
      {"dkd-nowarmup", "dkd", {{"alpha", 0.5}, {"beta", 2.0}, {"temperature", 2.0}, {"warmup", 0}, {"ce_weight", 0.7}}},
      {"dist", "dist", {{"beta", 1.0}, {"gamma", 2.0}, {"tau", 2.0}, {"ce_weight", 1.0}}},
      {"logit_mse", "logit_mse", {{"alpha", 0.9}}},
      {"hard_label", "hard_label", {{"alpha", 0.7}}},
      {"topk_probs-tail0", "topk_probs", {{"k", 2}, {"temperature", 2.0}, {"alpha", 0.8}, {"tail", 0}}},
      {"topk_probs-tail1", "topk_probs", {{"k", 2}, {"temperature", 2.0}, {"alpha", 0.8}, {"tail", 1}}},
      {"none", "none", {}},
  };
  return v;
}

LossParts lossOf(const Variant& v, const torch::Tensor& s, const torch::Tensor& t, const torch::Tensor& y) {
  return methodLoss(v.method, v.params, s, v.method == "none" ? torch::Tensor() : t, y, LossContext{v.epoch});
}

double handCe(const std::vector<std::vector<double>>& s, const std::vector<int64_t>& y) {
  double ce = 0;
  for (size_t i = 0; i < s.size(); ++i) ce -= std::log(softmax(s[i], 1.0)[size_t(y[i])]);
  return ce / double(s.size());
}

double handLogitMse(double alpha) {
  double se = 0;
  for (size_t i = 0; i < kS.size(); ++i)
    for (size_t c = 0; c < kS[i].size(); ++c) se += (kS[i][c] - kT[i][c]) * (kS[i][c] - kT[i][c]);
  return alpha * se / double(kS.size() * kS[0].size()) + (1 - alpha) * handCe(kS, kY);
}

double handHardLabel(double alpha) {
  std::vector<int64_t> top1;
  for (const auto& row : kT) top1.push_back(std::max_element(row.begin(), row.end()) - row.begin());
  return alpha * handCe(kS, top1) + (1 - alpha) * handCe(kS, kY);
}

// k + 1 bins: the teacher's k largest probabilities and what they leave out,
// against the student's probabilities on those classes and the sum of the rest.
double handTopkTail(size_t k, double T, double alpha) {
  double kl = 0;
  for (size_t i = 0; i < kS.size(); ++i) {
    auto ps = softmax(kS[i], T), pt = softmax(kT[i], T);
    std::vector<size_t> order(pt.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pt[a] > pt[b]; });
    double t_seen = 0, s_seen = 0;
    for (size_t j = 0; j < k; ++j) {
      const size_t c = order[j];
      kl += pt[c] * std::log(pt[c] / ps[c]);
      t_seen += pt[c];
      s_seen += ps[c];
    }
    kl += (1 - t_seen) * std::log((1 - t_seen) / (1 - s_seen));
  }
  return alpha * T * T * kl / double(kS.size()) + (1 - alpha) * handCe(kS, kY);
}

QString describeMismatch(const char* what, double got, double expected) {
  return QString("%1: %2 vs %3").arg(what).arg(got, 0, 'g', 17).arg(expected, 0, 'g', 17);
}

// ---- feature methods: inputs shared with tests/feature_loss_reference.py ----

// The same formula as fill() in feature_loss_reference.py, in float64.
torch::Tensor fill(const std::vector<int64_t>& shape, double phase) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[size_t(i)] = std::sin(0.37 * double(i) + phase) + 0.5 * std::cos(0.11 * double(i) * double(i) + phase);
  return torch::tensor(values, torch::kFloat64).reshape(shape);
}

torch::Tensor unit(const torch::Tensor& x) { return x / x.norm(2, 1, true); }

struct FeatureInputs {
  torch::Tensor fs = fill({3, 2, 4, 4}, 0.0), ft = fill({3, 3, 2, 2}, 1.0);
  torch::Tensor es = fill({5, 4}, 2.0), et = fill({5, 6}, 3.0);
  torch::Tensor anchors = unit(fill({3, 4}, 4.0)), positives = unit(fill({3, 4}, 5.0)),
                negatives = unit(fill({5, 4}, 6.0));
  torch::Tensor ls = fill({3, 4}, 7.0), lt = fill({3, 4}, 8.0);
  torch::Tensor labels = torch::tensor(std::vector<int64_t>{1, 0, 3}, torch::kLong);
  torch::Tensor w = fill({3, 2, 1, 1}, 9.0), b = fill({3}, 10.0);
  double checksum() const {
    double sum = 0;
    for (const auto& t : {fs, ft, es, et, anchors, positives, negatives, ls, lt, w, b}) sum += t.sum().item<double>();
    return sum;
  }
};

// FitNets through FeatureDistiller with the reference's adapter weights, in float64.
FeatureDistiller fitnetsWithFixedAdapter(const FeatureInputs& in) {
  FeatureDistiller d("fitnets",
                     std::map<std::string, double>{{"beta", 2.0}, {"ce_weight", 0.5}, {"kd_weight", 0.3}, {"temperature", 2.0}},
                     in.fs, in.ft, FeatureLayers{"t", "s"}, 10, 0);
  d->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto params = d->named_parameters();
  params["adapter.weight"].copy_(in.w);
  params["adapter.bias"].copy_(in.b);
  return d;
}

LossParts featureMethodLoss(FeatureDistiller& d, const FeatureInputs& in, const torch::Tensor& fs) {
  return d->loss(in.ls, fs, in.lt, in.ft, in.labels, torch::tensor(std::vector<int64_t>{0, 1, 2}));
}

} // namespace

class TestLosses : public QObject {
  Q_OBJECT

  // tests/loss_reference.py's output, run once (a python3-torch start costs seconds).
  QJsonObject lossReference_;

  // Fills lossReference_. Returns why it could not (empty: it did); `missing`
  // says python3-torch is absent, which skips rather than fails.
  QString loadLossReference(bool& missing) {
    missing = false;
    if (!lossReference_.isEmpty()) return {};
    const QString why = testsupport::pythonTorchMissing();
    if (!why.isEmpty()) {
      missing = true;
      return why;
    }
    QString error;
    lossReference_ = testsupport::pythonReference(QStringLiteral("loss_reference.py"), error);
    return error;
  }

private Q_SLOTS:
  void kdMatchesHandDerivation() {
    for (double T : {1.0, 2.0, 4.0})
      for (double alpha : {0.0, 0.5, 0.9, 1.0}) {
        LossParts p = kdLoss(tensorOf(kStudent), tensorOf(kTeacher), labels(), T, alpha);
        QVERIFY2(std::abs(p.total.item<double>() - handKd(T, alpha)) < 1e-10,
                 qPrintable(QString("T=%1 alpha=%2: %3 vs %4").arg(T).arg(alpha).arg(p.total.item<double>()).arg(handKd(T, alpha))));
      }
  }

  void kdMatchesPyTorch() {
    SKIP_WITHOUT_PYTHON_TORCH();
    const testsupport::ProcessResult py = testsupport::runPython({"-c", R"(
import torch, torch.nn.functional as F
s = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.5]], dtype=torch.float64)
t = torch.tensor([[3.0, 1.0, 0.5], [0.0, 0.2, 4.0]], dtype=torch.float64)
y = torch.tensor([2, 0])
T, a = 4.0, 0.9
soft = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction='batchmean') * T * T
print(repr((a * soft + (1 - a) * F.cross_entropy(s, y)).item()))
)"});
    QVERIFY2(py.code == 0, qPrintable(py.err));
    const double expected = py.out.trimmed().toDouble();
    const double got = kdLoss(tensorOf(kStudent), tensorOf(kTeacher), labels(), 4.0, 0.9).total.item<double>();
    QVERIFY2(std::abs(got - expected) < 1e-12, qPrintable(QString("%1 vs %2").arg(got).arg(expected)));
  }

  void kdGradientMatchesFiniteDifferences() {
    auto s = tensorOf(kStudent).requires_grad_(true);
    auto t = tensorOf(kTeacher);
    kdLoss(s, t, labels(), 3.0, 0.7).total.backward();
    auto grad = s.grad();
    const double eps = 1e-6;
    for (int64_t i = 0; i < s.size(0); ++i)
      for (int64_t j = 0; j < s.size(1); ++j) {
        auto plus = tensorOf(kStudent), minus = tensorOf(kStudent);
        plus[i][j] += eps;
        minus[i][j] -= eps;
        const double numeric = (kdLoss(plus, t, labels(), 3.0, 0.7).total.item<double>() -
                                kdLoss(minus, t, labels(), 3.0, 0.7).total.item<double>()) /
                               (2 * eps);
        QVERIFY2(std::abs(numeric - grad[i][j].item<double>()) < 1e-7,
                 qPrintable(QString("d/ds[%1][%2]: %3 vs %4").arg(i).arg(j).arg(numeric).arg(grad[i][j].item<double>())));
      }
  }

  void kdIsZeroSoftLossForIdenticalLogits() {
    auto s = tensorOf(kStudent);
    LossParts p = kdLoss(s, s.clone(), labels(), 4.0, 1.0);
    QVERIFY(std::abs(p.soft.item<double>()) < 1e-12);
  }

  void noneIsCrossEntropy() {
    const MethodInfo* none = findMethod("none");
    QVERIFY(none && !none->needs_teacher);
    LossParts p = methodLoss("none", {}, tensorOf(kStudent), torch::Tensor(), labels(), LossContext{});
    QVERIFY(std::abs(p.total.item<double>() - handKd(1.0, 0.0)) < 1e-10);
  }

  // (1) Every method's value against tests/loss_reference.py, an independent
  // PyTorch computation from the published formulas.
  void methodsMatchPythonReference() {
    bool missing = false;
    const QString why = loadLossReference(missing);
    if (missing) QSKIP(qPrintable(why));
    QVERIFY2(why.isEmpty(), qPrintable(why));
    const QJsonObject& ref = lossReference_;

    // Both sides must still use the same inputs.
    const QJsonObject inputs = ref["_inputs"].toObject();
    auto sameRows = [](const QJsonArray& a, const std::vector<std::vector<double>>& rows) {
      if (a.size() != int(rows.size())) return false;
      for (size_t i = 0; i < rows.size(); ++i) {
        const QJsonArray r = a[int(i)].toArray();
        if (r.size() != int(rows[i].size())) return false;
        for (size_t j = 0; j < rows[i].size(); ++j)
          if (r[int(j)].toDouble() != rows[i][j]) return false;
      }
      return true;
    };
    QVERIFY(sameRows(inputs["student"].toArray(), kS));
    QVERIFY(sameRows(inputs["teacher"].toArray(), kT));
    const QJsonArray y = inputs["labels"].toArray();
    QCOMPARE(y.size(), int(kY.size()));
    for (size_t i = 0; i < kY.size(); ++i) QCOMPARE(int64_t(y[int(i)].toInt()), kY[i]);

    int values = 0; // keys that are not "_"-prefixed extras
    for (auto it = ref.begin(); it != ref.end(); ++it) values += it.key().startsWith('_') ? 0 : 1;
    QCOMPARE(values, int(variants().size()));
    for (const Variant& v : variants()) {
      QVERIFY2(ref.contains(v.key), v.key);
      const double expected = ref[v.key].toDouble();
      const double got = lossOf(v, tensorOf(kS), tensorOf(kT), labels6()).total.item<double>();
      QVERIFY2(std::abs(got - expected) < 1e-9, qPrintable(describeMismatch(v.key, got, expected)));
    }
  }

  // (1a) DKD's target term (TCKD) for an over-confident student, logits
  // [m, 0, ..., 0] against an all-zero teacher (issue 22): its value keeps
  // growing with the margin and its gradient keeps teaching, as in the
  // reference formula in float64, also where the student's "rest" bin is far
  // below any probability floor (e^-120), and in float32 too, where summing
  // the probabilities first would underflow to log(0).
  void dkdTargetTermMatchesReferenceForOverConfidentStudents() {
    bool missing = false;
    const QString why = loadLossReference(missing);
    if (missing) QSKIP(qPrintable(why));
    QVERIFY2(why.isEmpty(), qPrintable(why));
    const QJsonArray cases = lossReference_["_dkd_saturated"].toArray();
    QCOMPARE(cases.size(), 20);
    for (const auto& item : cases) {
      const QJsonObject c = item.toObject();
      const int64_t classes = c["classes"].toInt();
      const double T = c["temperature"].toDouble(), margin = c["margin"].toDouble();
      const double value = c["value"].toDouble(), grad_norm = c["grad_norm"].toDouble();
      const std::map<std::string, double> tckd_only = {
          {"alpha", 1.0}, {"beta", 0.0}, {"temperature", T}, {"warmup", 0}, {"ce_weight", 0.0}};
      for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
        auto s = torch::zeros({1, classes}, dtype);
        s[0][0] = margin;
        s.requires_grad_(true);
        LossParts p = methodLoss("dkd", tckd_only, s, torch::zeros({1, classes}, dtype),
                                 torch::zeros({1}, torch::kLong), {});
        p.soft.backward();
        const double got = p.soft.item<double>();
        const double got_norm = s.grad().norm().item<double>();
        const double tol = dtype == torch::kFloat64 ? 1e-9 : 1e-5;
        const QString where = QString("C=%1 T=%2 margin=%3 %4").arg(classes).arg(T).arg(margin)
                                  .arg(dtype == torch::kFloat64 ? "float64" : "float32");
        QVERIFY2(std::abs(got - value) <= tol * std::abs(value),
                 qPrintable(where + QString(": TCKD %1, reference %2").arg(got, 0, 'g', 12).arg(value, 0, 'g', 12)));
        QVERIFY2(std::abs(got_norm - grad_norm) <= tol * 10 * grad_norm,
                 qPrintable(where + QString(": gradient norm %1, reference %2").arg(got_norm, 0, 'g', 12)
                                        .arg(grad_norm, 0, 'g', 12)));
      }
    }
  }

  // (1b) Hand derivations in plain C++, no LibTorch.
  void methodsMatchHandDerivation() {
    auto s = tensorOf(kS), t = tensorOf(kT);
    const double mse = methodLoss("logit_mse", {{"alpha", 0.9}}, s, t, labels6(), {}).total.item<double>();
    QVERIFY2(std::abs(mse - handLogitMse(0.9)) < 1e-12, qPrintable(describeMismatch("logit_mse", mse, handLogitMse(0.9))));
    for (double alpha : {0.0, 0.7, 1.0}) {
      const double hl = methodLoss("hard_label", {{"alpha", alpha}}, s, t, labels6(), {}).total.item<double>();
      QVERIFY2(std::abs(hl - handHardLabel(alpha)) < 1e-12, qPrintable(describeMismatch("hard_label", hl, handHardLabel(alpha))));
    }
    for (double k : {1.0, 2.0, 5.0}) {
      const double tk = methodLoss("topk_probs", {{"k", k}, {"temperature", 2.0}, {"alpha", 0.8}, {"tail", 1}}, s, t,
                                   labels6(), {}).total.item<double>();
      QVERIFY2(std::abs(tk - handTopkTail(size_t(k), 2.0, 0.8)) < 1e-12,
               qPrintable(describeMismatch("topk_probs tail=1", tk, handTopkTail(size_t(k), 2.0, 0.8))));
    }
    // Each method reports its CE and teacher terms separately.
    for (const Variant& v : variants()) {
      LossParts p = lossOf(v, s, t, labels6());
      QVERIFY2(p.hard.defined() && std::abs(p.hard.item<double>() - handCe(kS, kY)) < 1e-12, v.key);
      QCOMPARE(p.soft.defined(), v.method != "none");
    }
  }

  // (2) d loss / d student logits against central differences, every method.
  void methodGradientsMatchFiniteDifferences() {
    const double eps = 1e-6;
    auto t = tensorOf(kT);
    for (const Variant& v : variants()) {
      auto s = tensorOf(kS).requires_grad_(true);
      lossOf(v, s, t, labels6()).total.backward();
      auto grad = s.grad();
      double largest = 0;
      for (int64_t i = 0; i < s.size(0); ++i)
        for (int64_t j = 0; j < s.size(1); ++j) {
          auto plus = tensorOf(kS), minus = tensorOf(kS);
          plus[i][j] += eps;
          minus[i][j] -= eps;
          const double numeric = (lossOf(v, plus, t, labels6()).total.item<double>() -
                                  lossOf(v, minus, t, labels6()).total.item<double>()) /
                                 (2 * eps);
          const double analytic = grad[i][j].item<double>();
          largest = std::max(largest, std::abs(analytic));
          QVERIFY2(std::abs(numeric - analytic) <= 1e-6 * std::max(1.0, std::abs(analytic)),
                   qPrintable(QString("%1 d/ds[%2][%3]: %4 vs %5").arg(v.key).arg(i).arg(j)
                                  .arg(numeric, 0, 'g', 12).arg(analytic, 0, 'g', 12)));
        }
      QVERIFY2(largest > 1e-3, v.key); // a gradient that is all zero would pass trivially
    }
  }

  // Saturated softmaxes and a batch of one: no log(0), no 0/0.
  void methodsStayFiniteOnExtremeInputs() {
    for (auto dtype : {torch::kFloat64, torch::kFloat32})
      for (double scale : {1.0, 60.0, 400.0})
        for (int64_t rows : {int64_t(1), int64_t(4)}) {
          auto t = (tensorOf(kT) * scale).slice(0, 0, rows).to(dtype);
          auto y = labels6().slice(0, 0, rows);
          for (const Variant& v : variants()) {
            auto s = (tensorOf(kS) * scale).slice(0, 0, rows).to(dtype).requires_grad_(true);
            LossParts p = lossOf(v, s, t, y);
            p.total.backward();
            QVERIFY2(std::isfinite(p.total.item<double>()) && torch::isfinite(s.grad()).all().item<bool>(),
                     qPrintable(QString("%1 scale %2 rows %3").arg(v.key).arg(scale).arg(rows)));
          }
          // Identical student and teacher: the KL terms vanish; DIST's correlations
          // are 1 up to the eps in their denominators, which only matters when a
          // column's probabilities barely vary (so DIST is checked unsaturated only).
          for (const char* m : {"dist", "topk_probs", "dkd"}) {
            const bool dist = std::string(m) == "dist";
            if (dist && scale > 1.0) continue;
            const MethodInfo* info = findMethod(m);
            auto x = (tensorOf(kT) * scale).to(dtype);
            LossParts p = methodLoss(m, info->resolve({{"warmup", 0}}), x, x.clone(), labels6(), {});
            const double tol = dist ? 1e-4 : dtype == torch::kFloat64 ? 1e-9 : 1e-4;
            QVERIFY2(std::abs(p.soft.item<double>()) < tol * (scale * scale),
                     qPrintable(QString("%1 scale %2: %3").arg(m).arg(scale).arg(p.soft.item<double>())));
          }
        }
  }

  // (3) DKD's warm-up: min(epoch / warmup, 1) on the distillation term.
  void dkdWarmsUpLinearly() {
    auto s = tensorOf(kS), t = tensorOf(kT);
    const std::map<std::string, double> params = {
        {"alpha", 1.0}, {"beta", 8.0}, {"temperature", 4.0}, {"warmup", 10}, {"ce_weight", 1.0}};
    auto at = [&](double epoch) { return methodLoss("dkd", params, s, t, labels6(), {epoch}); };
    LossParts start = at(0.0);
    const double ce = handCe(kS, kY);
    QVERIFY(start.soft.item<double>() > 0.1);
    QVERIFY(std::abs(start.total.item<double>() - ce) < 1e-12);
    const double full = ce + start.soft.item<double>();
    QVERIFY(std::abs(at(2.5).total.item<double>() - (ce + 0.25 * start.soft.item<double>())) < 1e-12);
    QVERIFY(std::abs(at(10.0).total.item<double>() - full) < 1e-12);
    QVERIFY(std::abs(at(37.5).total.item<double>() - full) < 1e-12);
    auto no_warmup = params;
    no_warmup["warmup"] = 0;
    QVERIFY(std::abs(methodLoss("dkd", no_warmup, s, t, labels6(), {0.0}).total.item<double>() - full) < 1e-12);
  }

  // (4) With every probability visible, topk_probs is Hinton KD.
  void topkWithAllClassesIsKd() {
    auto s = tensorOf(kS), t = tensorOf(kT);
    for (double k : {6.0, 100000.0})
      for (double tail : {0.0, 1.0})
        for (double T : {1.0, 3.0}) {
          const double topk = methodLoss("topk_probs", {{"k", k}, {"temperature", T}, {"alpha", 0.6}, {"tail", tail}},
                                         s, t, labels6(), {}).total.item<double>();
          const double kd = kdLoss(s, t, labels6(), T, 0.6).total.item<double>();
          QVERIFY2(std::abs(topk - kd) < 1e-12, qPrintable(describeMismatch("topk k=C vs kd", topk, kd)));
        }
  }

  // (5) Registry entries: schema defaults, teacher access, every method implemented.
  void registryDefaults() {
    using Params = std::map<std::string, double>;
    const std::map<std::string, std::pair<std::string, Params>> expected = {
        {"kd", {"logits", {{"temperature", 4.0}, {"alpha", 0.9}}}},
        {"dkd", {"logits", {{"alpha", 1.0}, {"beta", 8.0}, {"temperature", 4.0}, {"warmup", 20}, {"ce_weight", 1.0}}}},
        {"dist", {"logits", {{"beta", 1.0}, {"gamma", 1.0}, {"tau", 1.0}, {"ce_weight", 1.0}}}},
        {"logit_mse", {"logits", {{"alpha", 0.9}}}},
        {"hard_label", {"top1", {{"alpha", 1.0}}}},
        {"topk_probs", {"topk", {{"k", 5}, {"temperature", 1.0}, {"alpha", 0.9}, {"tail", 1}}}},
        {"none", {"none", {}}},
        {"fitnets", {"features", {{"beta", 100.0}, {"ce_weight", 1.0}, {"kd_weight", 0.0}, {"temperature", 4.0}}}},
        {"at", {"features", {{"beta", 1000.0}, {"p", 2.0}, {"ce_weight", 1.0}, {"kd_weight", 0.0}, {"temperature", 4.0}}}},
        {"rkd", {"features", {{"beta", 1.0}, {"distance_weight", 25.0}, {"angle_weight", 50.0}, {"ce_weight", 1.0},
                              {"kd_weight", 0.0}, {"temperature", 4.0}}}},
        {"crd", {"features", {{"beta", 0.8}, {"feat_dim", 128}, {"k", 16384}, {"nce_t", 0.07}, {"momentum", 0.5},
                              {"ce_weight", 1.0}, {"kd_weight", 0.0}, {"temperature", 4.0}}}},
    };
    QCOMPARE(methodsForTask("distill").size(), expected.size()); // the language-model ones: tst_lm
    for (const auto& [name, access_params] : expected) {
      const MethodInfo* info = findMethod(name);
      QVERIFY2(info, name.c_str());
      QCOMPARE(info->teacher_access, access_params.first);
      QCOMPARE(info->needs_teacher, name != "none");
      QVERIFY2(info->resolve({}) == access_params.second, name.c_str());
      for (const MethodParam& p : info->params) {
        QVERIFY(!p.help.empty());
        if (p.isText()) continue;
        QVERIFY2(p.min <= p.default_value && p.default_value <= p.max, p.name.c_str());
        if (p.type == "integer") QCOMPARE(std::round(p.default_value), p.default_value);
        else QCOMPARE(p.type, std::string("number"));
      }
      // Feature methods: both layers are text parameters, empty by default (the models' defaults).
      QCOMPARE(info->resolveText({}).size(), size_t(info->needs_features ? 2 : 0));
      if (info->needs_features) {
        QVERIFY(info->resolveText({}) == (std::map<std::string, std::string>{{"student_layer", ""}, {"teacher_layer", ""}}));
        continue; // their losses are tested above, through FeatureDistiller
      }
      LossParts p = methodLoss(name, info->resolve({}), tensorOf(kS), tensorOf(kT), labels6(), {1.0});
      QVERIFY2(std::isfinite(p.total.item<double>()), name.c_str());
    }
  }

  // (6) Feature losses against tests/feature_loss_reference.py (RepDistiller / mdistiller formulas).
  void featureLossesMatchPythonReference() {
    SKIP_WITHOUT_PYTHON_TORCH();
    QString error;
    const QJsonObject ref = testsupport::pythonReference(QStringLiteral("feature_loss_reference.py"), error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const FeatureInputs in;
    QVERIFY2(std::abs(ref["_checksum"].toDouble() - in.checksum()) < 1e-9, "inputs differ from the script's");

    FeatureDistiller fitnets = fitnetsWithFixedAdapter(in);
    FeatureDistiller rkd("rkd", findMethod("rkd")->resolve({}), in.fs, in.ft, FeatureLayers{"t", "s"}, 10, 0);
    const std::vector<std::pair<const char*, double>> got = {
        {"fitnets_total", featureMethodLoss(fitnets, in, in.fs).total.item<double>()},
        {"fitnets_mse", featureMethodLoss(fitnets, in, in.fs).soft.item<double>() / 2.0 -
                            0.3 / 2.0 * kdLoss(in.ls, in.lt, in.labels, 2.0, 1.0).soft.item<double>()},
        {"at_p2", attentionLoss(in.fs, in.ft, 2.0).item<double>()},
        {"at_p3", attentionLoss(in.fs, in.ft, 3.0).item<double>()},
        {"rkd_distance", rkdDistanceLoss(in.es, in.et).item<double>()},
        {"rkd_angle", rkdAngleLoss(in.es, in.et).item<double>()},
        {"rkd_total", featureMethodLoss(rkd, in, in.fs).total.item<double>()},
        {"contrast_t0.5", contrastiveLoss(in.anchors, in.positives, in.negatives, 0.5).item<double>()},
    };
    QCOMPARE(ref.size(), int(got.size()) + 1);
    for (const auto& [key, value] : got) {
      QVERIFY2(ref.contains(key), key);
      QVERIFY2(std::abs(value - ref[key].toDouble()) < 1e-9 * std::max(1.0, std::abs(value)),
               qPrintable(describeMismatch(key, value, ref[key].toDouble())));
    }
  }

  // (6b) Hand derivations: an attention map and RKD distances of points on a line.
  void featureLossesMatchHandDerivation() {
    // One channel with values 1..4: A = f^2 / ||f^2|| = (1, 4, 9, 16) / sqrt(354).
    auto f = torch::tensor(std::vector<double>{1, 2, 3, 4}, torch::kFloat64).reshape({1, 1, 2, 2});
    auto a = attentionMap(f, 2.0);
    for (int i = 0; i < 4; ++i)
      QVERIFY(std::abs(a[0][i].item<double>() - double((i + 1) * (i + 1)) / std::sqrt(354.0)) < 1e-15);
    // A constant map has the uniform attention 1/2 at each of 4 positions.
    auto flat = torch::ones({1, 3, 2, 2}, torch::kFloat64);
    double expected = 0;
    for (int i = 1; i <= 4; ++i) expected += std::pow(double(i * i) / std::sqrt(354.0) - 0.5, 2) / 4.0;
    QVERIFY(std::abs(attentionLoss(f, flat, 2.0).item<double>() - expected) < 1e-15);
    // Student points 0, 1, 3: distances 1, 3, 2, mean 2 -> 0.5, 1.5, 1. Teacher 0, 1, 2:
    // 1, 2, 1, mean 4/3 -> 0.75, 1.5, 0.75. Smooth L1 (all |diff| < 1: diff^2 / 2) over 9
    // entries: 4 off-diagonal entries differ by 0.25 -> 4 * 0.03125 / 9.
    auto s = torch::tensor(std::vector<double>{0, 1, 3}, torch::kFloat64).reshape({3, 1});
    auto t = torch::tensor(std::vector<double>{0, 1, 2}, torch::kFloat64).reshape({3, 1});
    QVERIFY(std::abs(rkdDistanceLoss(s, t).item<double>() - 0.125 / 9.0) < 1e-12);
    // Collinear points: every angle's cosine is +-1 (or 0 at the apex) in both, so no angle loss.
    QVERIFY(std::abs(rkdAngleLoss(s, t).item<double>()) < 1e-12);
    // Contrast with one negative: -log(e^(a.p/T) / (e^(a.p/T) + e^(a.n/T))).
    auto an = torch::tensor(std::vector<double>{1, 0}, torch::kFloat64).reshape({1, 2});
    auto po = torch::tensor(std::vector<double>{0.6, 0.8}, torch::kFloat64).reshape({1, 2});
    auto ne = torch::tensor(std::vector<double>{0, 1}, torch::kFloat64).reshape({1, 2});
    QVERIFY(std::abs(contrastiveLoss(an, po, ne, 0.5).item<double>() - std::log(1 + std::exp((0 - 0.6) / 0.5))) < 1e-14);
  }

  // (7) d loss / d student activation against central differences, float64.
  void featureLossGradientsMatchFiniteDifferences() {
    const FeatureInputs in;
    FeatureDistiller fitnets = fitnetsWithFixedAdapter(in);
    FeatureDistiller rkd("rkd", findMethod("rkd")->resolve({}), in.fs, in.ft, FeatureLayers{"t", "s"}, 10, 0);
    rkd->to(torch::kFloat64);
    using Fn = std::function<torch::Tensor(const torch::Tensor&)>;
    const std::vector<std::tuple<const char*, torch::Tensor, Fn>> cases = {
        {"fitnets mse", fill({3, 3, 2, 2}, 11.0), [&](const torch::Tensor& x) { return fitnetsLoss(x, in.ft); }},
        {"fitnets method (adapter, pooling, CE, KD)", in.fs,
         [&](const torch::Tensor& x) { return featureMethodLoss(fitnets, in, x).total; }},
        {"at p=2", in.fs, [&](const torch::Tensor& x) { return attentionLoss(x, in.ft, 2.0); }},
        {"at p=3", in.fs, [&](const torch::Tensor& x) { return attentionLoss(x, in.ft, 3.0); }},
        {"rkd distance", in.es, [&](const torch::Tensor& x) { return rkdDistanceLoss(x, in.et); }},
        {"rkd angle", in.es, [&](const torch::Tensor& x) { return rkdAngleLoss(x, in.et); }},
        {"rkd method (pooled maps)", in.fs, [&](const torch::Tensor& x) { return featureMethodLoss(rkd, in, x).total; }},
        {"contrast", fill({3, 4}, 4.0),
         [&](const torch::Tensor& x) { return contrastiveLoss(x, in.positives, in.negatives, 0.5); }},
    };
    const double eps = 1e-6;
    for (const auto& [name, x0, fn] : cases) {
      auto x = x0.clone().requires_grad_(true);
      fn(x).backward();
      auto grad = x.grad().flatten();
      auto flat = x0.flatten();
      double largest = 0;
      for (int64_t i = 0; i < flat.numel(); ++i) {
        auto plus = flat.clone(), minus = flat.clone();
        plus[i] += eps;
        minus[i] -= eps;
        const double numeric = (fn(plus.reshape(x0.sizes())).item<double>() - fn(minus.reshape(x0.sizes())).item<double>()) / (2 * eps);
        const double analytic = grad[i].item<double>();
        largest = std::max(largest, std::abs(analytic));
        QVERIFY2(std::abs(numeric - analytic) <= 1e-6 * std::max(1.0, std::abs(analytic)),
                 qPrintable(QString("%1 d/dx[%2]: %3 vs %4").arg(name).arg(i).arg(numeric, 0, 'g', 12).arg(analytic, 0, 'g', 12)));
      }
      QVERIFY2(largest > 1e-4, name);
    }
  }

  // (8) CRD's memory banks: the batch's rows move towards the new embeddings and stay unit
  // length, the other rows do not change, and the heads receive gradients.
  void crdUpdatesOnlyTheBatchRowsOfItsMemoryBanks() {
    const FeatureInputs in;
    auto params = findMethod("crd")->resolve({{"feat_dim", 4}, {"k", 6}});
    FeatureDistiller crd("crd", params, in.fs.to(torch::kFloat), in.ft.to(torch::kFloat), FeatureLayers{"t", "s"}, 10, 3);
    auto buffers = crd->named_buffers();
    const auto before_s = buffers["memory_student"].clone(), before_t = buffers["memory_teacher"].clone();
    QCOMPARE(before_s.sizes(), (std::vector<int64_t>{10, 4}));
    auto idx = torch::tensor(std::vector<int64_t>{2, 5, 7});
    LossParts p = crd->loss(in.ls.to(torch::kFloat), in.fs.to(torch::kFloat), in.lt.to(torch::kFloat),
                            in.ft.to(torch::kFloat), in.labels, idx);
    QVERIFY(std::isfinite(p.soft.item<double>()) && p.soft.item<double>() > 0);
    p.total.backward();
    for (const auto& param : crd->parameters()) QVERIFY(param.grad().defined() && param.grad().abs().sum().item<double>() > 0);
    for (const char* bank : {"memory_student", "memory_teacher"}) {
      const auto after = buffers[bank];
      const auto& before = std::string(bank) == "memory_student" ? before_s : before_t;
      for (int64_t row = 0; row < 10; ++row) {
        const bool in_batch = row == 2 || row == 5 || row == 7;
        const double moved = (after[row] - before[row]).abs().max().item<double>();
        QVERIFY2(in_batch ? moved > 1e-4 : moved == 0.0, qPrintable(QString("%1 row %2").arg(bank).arg(row)));
        if (in_batch) QVERIFY(std::abs(after[row].norm().item<double>() - 1.0) < 1e-5);
      }
    }
  }

  // (9) Layer taps of every zoo family: names listed, the default among them, tapped
  // outputs of the documented shape, logits unchanged; a wrong name lists the layers.
  void zooModelsExposeNamedLayers() {
    torch::manual_seed(0);
    const InputShape shape{3, 32, 32};
    const std::vector<std::pair<std::string, std::string>> expected_default = {
        {"mlp", "layers.1"},  {"cnn", "features"}, {"resnet8", "layer3"},
        {"wrn_16_1", "bn"},   {"vgg8", "block4"},  {"mobilenetv2", "conv2"}};
    for (const auto& [zoo, layer] : expected_default) {
      ModelSpec spec;
      spec.zoo = zoo;
      Classifier model = buildModel(spec, shape, 10);
      model->eval();
      QCOMPARE(QString::fromStdString(model->defaultFeatureLayer()), QString::fromStdString(layer));
      QCOMPARE(QString::fromStdString(resolveFeatureLayer(*model, "", "method.student_layer")),
               QString::fromStdString(layer));
      torch::NoGradGuard no_grad;
      auto x = torch::randn({2, 3, 32, 32});
      for (const std::string& name : model->layerNames()) {
        FeatureTaps taps({name});
        auto logits = model->forwardTapped(x, taps);
        QVERIFY2(torch::allclose(logits, model->forward(x)), (zoo + " " + name).c_str());
        QCOMPARE(taps.get(name).size(0), int64_t(2));
      }
      try {
        resolveFeatureLayer(*model, "nope", "method.teacher_layer");
        QFAIL("a wrong layer name was accepted");
      } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.field()), QString("method.teacher_layer"));
        const std::string msg = e.what();
        QVERIFY2(msg.find("no layer \"nope\"") != std::string::npos && msg.find(layer) != std::string::npos, e.what());
      }
    }
    // Shapes a user relies on when picking layers: resnet8's stages on 32x32 inputs.
    ModelSpec resnet;
    resnet.zoo = "resnet8";
    Classifier r = buildModel(resnet, shape, 10);
    FeatureTaps taps({"layer1", "layer2", "layer3", "pool"});
    r->forwardTapped(torch::randn({2, 3, 32, 32}), taps);
    QCOMPARE(taps.get("layer1").sizes(), (std::vector<int64_t>{2, 16, 32, 32}));
    QCOMPARE(taps.get("layer2").sizes(), (std::vector<int64_t>{2, 32, 16, 16}));
    QCOMPARE(taps.get("layer3").sizes(), (std::vector<int64_t>{2, 64, 8, 8}));
    QCOMPARE(taps.get("pool").sizes(), (std::vector<int64_t>{2, 64}));
  }

  // (10) Attention transfer needs spatial maps: a vector is refused naming the field.
  void attentionTransferRefusesVectors() {
    const FeatureInputs in;
    try {
      FeatureDistiller("at", findMethod("at")->resolve({}), in.es, in.ft, FeatureLayers{"layer3", "layers.1"}, 10, 0);
      QFAIL("accepted a vector");
    } catch (const ConfigError& e) {
      QCOMPARE(QString::fromStdString(e.field()), QString("method.student_layer"));
      QVERIFY2(std::string(e.what()).find("layers.1") != std::string::npos, e.what());
    }
  }

  void metricsAgreeWithHandCounts() {
    auto s = tensorOf(kStudent), t = tensorOf(kTeacher);
    // Student picks classes 2 and 2, teacher 0 and 2, labels are 2 and 0.
    QCOMPARE(accuracy(s, labels()), 0.5);
    QCOMPARE(agreement(s, t), 0.5);
    double kl = 0;
    for (size_t i = 0; i < kStudent.size(); ++i) {
      auto ps = softmax(kStudent[i], 1), pt = softmax(kTeacher[i], 1);
      for (size_t c = 0; c < ps.size(); ++c) kl += pt[c] * std::log(pt[c] / ps[c]);
    }
    QVERIFY(std::abs(teacherStudentKl(s, t) - kl / 2) < 1e-12);
  }
  // Issue 16 item 4: every method of the registry is tied to its loss, and no
  // loss lacks a registry entry. Image methods have a logit loss or a feature
  // term (the latter exactly when the registry says they read features);
  // language-model methods have a token loss; "none" serves both.
  void everyMethodHasALoss() {
    for (const MethodInfo& info : methodRegistry()) {
      const MethodLoss* loss = findMethodLoss(info.name);
      QVERIFY2(loss, ("no loss for method " + info.name + " (core/methods/method_losses.cpp)").c_str());
      const bool feature = loss->features != FeatureTerm::None;
      if (info.appliesTo("distill")) {
        QVERIFY2((loss->logits != nullptr) != feature, info.name.c_str()); // one or the other
        QCOMPARE(feature, info.needs_features);
      } else {
        QVERIFY2(!loss->logits && !feature, ("image loss for a language-model method: " + info.name).c_str());
      }
      if (info.appliesTo("lm")) QVERIFY2(loss->tokens != nullptr, info.name.c_str());
      else QVERIFY2(!loss->tokens, ("token loss for an image method: " + info.name).c_str());
    }
    for (const MethodLoss& loss : methodLosses())
      QVERIFY2(findMethod(loss.method), ("a loss for " + loss.method + ", which the registry lacks").c_str());
    QCOMPARE(methodLosses().size(), methodRegistry().size());
  }
};

QTEST_APPLESS_MAIN(TestLosses)
#include "tst_losses.moc"
