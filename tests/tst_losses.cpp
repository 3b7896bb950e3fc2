// Distillation losses and metrics against independent computations: a hand
// derivation in plain C++ and, where installed, Debian's python3-torch.
#include "core/classification_metrics.h"
#include "core/distill_losses.h"
#include "core/method_registry.h"

#include <QProcess>
#include <QtTest>

#include <cmath>

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
    LossParts p = methodLoss("none", {}, tensorOf(kStudent), torch::Tensor(), labels());
    QVERIFY(std::abs(p.total.item<double>() - handKd(1.0, 0.0)) < 1e-10);
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
