// Distillation losses and metrics against independent computations: a hand
// derivation in plain C++ and, where installed, Debian's python3-torch.
#include "core/classification_metrics.h"
#include "core/distill_losses.h"
#include "core/method_registry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>

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

} // namespace

class TestLosses : public QObject {
  Q_OBJECT

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
    if (!QFileInfo::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3");
    QProcess py;
    py.start("/usr/bin/python3", {"-c", R"(
import torch, torch.nn.functional as F
s = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.5]], dtype=torch.float64)
t = torch.tensor([[3.0, 1.0, 0.5], [0.0, 0.2, 4.0]], dtype=torch.float64)
y = torch.tensor([2, 0])
T, a = 4.0, 0.9
soft = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction='batchmean') * T * T
print(repr((a * soft + (1 - a) * F.cross_entropy(s, y)).item()))
)"});
    QVERIFY(py.waitForFinished(120000));
    if (py.exitCode() != 0) QSKIP(qPrintable("python3-torch unavailable: " + py.readAllStandardError()));
    const double expected = py.readAllStandardOutput().trimmed().toDouble();
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
    QProcess probe;
    probe.start("/usr/bin/python3", {"-c", "import torch"});
    if (!probe.waitForFinished(120000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
      QSKIP("/usr/bin/python3 cannot import torch (install python3-torch)");
    QProcess py;
    py.start("/usr/bin/python3", {QStringLiteral(DISTILLERY_SOURCE_DIR) + "/tests/loss_reference.py"});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, qPrintable(py.readAllStandardError()));
    QJsonParseError error;
    const QJsonObject ref = QJsonDocument::fromJson(py.readAllStandardOutput(), &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));

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

    QCOMPARE(ref.size(), int(variants().size()) + 1);
    for (const Variant& v : variants()) {
      QVERIFY2(ref.contains(v.key), v.key);
      const double expected = ref[v.key].toDouble();
      const double got = lossOf(v, tensorOf(kS), tensorOf(kT), labels6()).total.item<double>();
      QVERIFY2(std::abs(got - expected) < 1e-9, qPrintable(describeMismatch(v.key, got, expected)));
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
    };
    QCOMPARE(methodsForTask("distill").size(), expected.size()); // the language-model ones: tst_lm
    for (const auto& [name, access_params] : expected) {
      const MethodInfo* info = findMethod(name);
      QVERIFY2(info, name.c_str());
      QCOMPARE(info->teacher_access, access_params.first);
      QCOMPARE(info->needs_teacher, name != "none");
      QVERIFY2(info->resolve({}) == access_params.second, name.c_str());
      for (const MethodParam& p : info->params) {
        QVERIFY2(p.min <= p.default_value && p.default_value <= p.max, p.name.c_str());
        QVERIFY(!p.help.empty());
        if (p.type == "integer") QCOMPARE(std::round(p.default_value), p.default_value);
        else QCOMPARE(p.type, std::string("number"));
      }
      LossParts p = methodLoss(name, info->resolve({}), tensorOf(kS), tensorOf(kT), labels6(), {1.0});
      QVERIFY2(std::isfinite(p.total.item<double>()), name.c_str());
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
};

QTEST_APPLESS_MAIN(TestLosses)
#include "tst_losses.moc"
