// The training loops' optimisers (issue 20): the multi-tensor Adam and SGD
// step like torch::optim's Adam and SGD, the reference, on both of their
// paths (one fused CPU pass, _foreach ops), and their state is torch::optim's,
// so a checkpoint written by either resumes in the other.
#include "core/models/tensor_bytes.h"
#include "core/training/multi_tensor_optimizer.h"

#include <QtTest>

#include <functional>

using namespace distillery;

namespace {

// Parameters of mixed shapes, the largest split over threads by the fused pass.
std::vector<torch::Tensor> makeParams(uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> params;
  for (auto shape : std::vector<std::vector<int64_t>>{{70000}, {16, 3, 3, 3}, {10}, {}})
    params.push_back(torch::randn(shape).requires_grad_(true));
  return params;
}

using MakeOptimizer = std::function<std::unique_ptr<torch::optim::Optimizer>(const std::vector<torch::Tensor>&)>;

// Runs `steps` steps of each optimiser on its own copy of the same parameters
// with the same gradients (the last parameter has none at step 2, so its step
// count falls behind the others'), and returns both copies' parameters.
std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> stepBoth(const MakeOptimizer& reference,
                                                                           const MakeOptimizer& tested, int steps) {
  auto a = makeParams(1), b = makeParams(1);
  auto opt_a = reference(a), opt_b = tested(b);
  torch::manual_seed(2);
  for (int s = 0; s < steps; ++s) {
    for (size_t i = 0; i < a.size(); ++i) {
      const bool skip = s == 1 && i + 1 == a.size();
      auto g = torch::randn_like(a[i]) * (1.0 + s);
      a[i].mutable_grad() = skip ? torch::Tensor() : g.clone();
      b[i].mutable_grad() = skip ? torch::Tensor() : g.clone();
    }
    opt_a->step();
    opt_b->step();
  }
  return {a, b};
}

void compareParams(const std::vector<torch::Tensor>& expected, const std::vector<torch::Tensor>& actual) {
  for (size_t i = 0; i < expected.size(); ++i) {
    const double diff = (expected[i] - actual[i]).abs().max().item<double>();
    const double moved = (expected[i] - makeParams(1)[i]).abs().max().item<double>();
    QVERIFY2(moved > 1e-4, qPrintable(QString("parameter %1 moved by %2").arg(i).arg(moved))); // a step that does nothing would compare equal too
    QVERIFY2(diff <= 1e-5 * (1.0 + expected[i].abs().max().item<double>()),
             qPrintable(QString("parameter %1 differs by %2").arg(i).arg(diff)));
  }
}

} // namespace

class TestOptimizer : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void adamStepsLikeTorchOptim_data() {
    QTest::addColumn<double>("weight_decay");
    QTest::addColumn<bool>("foreach_ops");
    QTest::newRow("fused") << 0.0 << false;
    QTest::newRow("fused, weight decay") << 0.01 << false;
    QTest::newRow("foreach") << 0.0 << true;
    QTest::newRow("foreach, weight decay") << 0.01 << true;
  }
  void adamStepsLikeTorchOptim() {
    QFETCH(double, weight_decay);
    QFETCH(bool, foreach_ops);
    auto options = torch::optim::AdamOptions(3e-3).weight_decay(weight_decay);
    auto [expected, actual] = stepBoth(
        [&](const auto& p) { return std::make_unique<torch::optim::Adam>(p, options); },
        [&](const auto& p) {
          auto o = std::make_unique<MultiTensorAdam>(p, options);
          o->useForeachOps(foreach_ops);
          return o;
        },
        5);
    compareParams(expected, actual);
  }

  void sgdStepsLikeTorchOptim_data() {
    QTest::addColumn<double>("momentum");
    QTest::addColumn<double>("weight_decay");
    QTest::addColumn<bool>("nesterov");
    QTest::addColumn<bool>("foreach_ops");
    for (bool foreach_ops : {false, true}) {
      const char* path = foreach_ops ? "foreach" : "fused";
      QTest::newRow(qPrintable(QString("%1, momentum").arg(path))) << 0.9 << 0.0 << false << foreach_ops;
      QTest::newRow(qPrintable(QString("%1, momentum, weight decay").arg(path))) << 0.9 << 1e-3 << false << foreach_ops;
      QTest::newRow(qPrintable(QString("%1, nesterov").arg(path))) << 0.9 << 0.0 << true << foreach_ops;
      QTest::newRow(qPrintable(QString("%1, no momentum, weight decay").arg(path))) << 0.0 << 1e-3 << false << foreach_ops;
    }
  }
  void sgdStepsLikeTorchOptim() {
    QFETCH(double, momentum);
    QFETCH(double, weight_decay);
    QFETCH(bool, nesterov);
    QFETCH(bool, foreach_ops);
    auto options = torch::optim::SGDOptions(0.05).momentum(momentum).weight_decay(weight_decay).nesterov(nesterov);
    auto [expected, actual] = stepBoth(
        [&](const auto& p) { return std::make_unique<torch::optim::SGD>(p, options); },
        [&](const auto& p) {
          auto o = std::make_unique<MultiTensorSgd>(p, options);
          o->useForeachOps(foreach_ops);
          return o;
        },
        5);
    compareParams(expected, actual);
  }

  // A checkpoint from torch::optim::Adam (runs checkpointed before issue 20)
  // resumes in MultiTensorAdam and continues as torch::optim would.
  void torchOptimStateResumesInTheMultiTensorAdam() {
    auto options = torch::optim::AdamOptions(1e-2);
    auto a = makeParams(3), b = makeParams(3);
    torch::optim::Adam reference(a, options);
    torch::manual_seed(4);
    auto setGrads = [&](std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& grads) {
      for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i].clone();
    };
    std::vector<std::vector<torch::Tensor>> grads;
    for (int s = 0; s < 6; ++s) {
      grads.emplace_back();
      for (const auto& p : a) grads.back().push_back(torch::randn_like(p));
    }
    for (int s = 0; s < 3; ++s) {
      setGrads(a, grads[s]);
      reference.step();
    }
    { // b takes a's weights and optimiser state, as restoring a checkpoint does
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
    }
    MultiTensorAdam resumed(b, options);
    loadOptimizerState(resumed, saveOptimizerState(reference), torch::kCPU);
    for (int s = 3; s < 6; ++s) {
      setGrads(a, grads[s]);
      reference.step();
      setGrads(b, grads[s]);
      resumed.step();
    }
    for (size_t i = 0; i < a.size(); ++i)
      QVERIFY2(torch::allclose(a[i], b[i], 1e-5, 1e-6), qPrintable(QString("parameter %1").arg(i)));
    // Had the state not been read, the bias corrections of step 1 would move b far from a.
    auto& state = static_cast<torch::optim::AdamParamState&>(*resumed.state().begin()->second);
    QCOMPARE(state.step(), int64_t(6));
  }
};

QTEST_APPLESS_MAIN(TestOptimizer)
#include "tst_optimizer.moc"
