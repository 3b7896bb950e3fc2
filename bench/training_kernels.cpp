// Issue 20's CPU measurements, run by hand (-DDISTILLERY_BUILD_BENCH=ON):
//   training_kernels optimizer [ROUNDS]   one optimiser step, torch::optim vs the multi-tensor step
// Each round times both alternately (A B A B ...), so a load that changes
// during the run (a shared machine) falls on both alike; medians are printed.
#include "core/config/model_spec.h"
#include "core/models/model_zoo.h"
#include "core/training/multi_tensor_optimizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace distillery;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double secondsOf(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Zoo {
  const char* label;
  ModelSpec spec;
  InputShape shape;
  int64_t classes;
};

std::vector<Zoo> zooModels() {
  ModelSpec mlp, cnn, resnet20;
  mlp.zoo = "mlp";
  cnn.zoo = "cnn";
  resnet20.zoo = "resnet20";
  return {{"mlp[128] (the bench student)", mlp, {1, 28, 28}, 10},
          {"cnn[32,64]fc256 (the bench teacher)", cnn, {1, 28, 28}, 10},
          {"resnet20 (CIFAR-100)", resnet20, {3, 32, 32}, 100}};
}

// Microseconds per optimiser step over `steps` steps with fixed gradients.
double stepMicros(torch::optim::Optimizer& optimizer, int steps) {
  return 1e6 * secondsOf([&] {
           for (int i = 0; i < steps; ++i) optimizer.step();
         }) /
         steps;
}

int optimizerBench(int rounds) {
  std::printf("optimiser step, median of %d alternating rounds (us per step; ratio = torch::optim / multi-tensor)\n",
              rounds);
  for (const Zoo& z : zooModels()) {
    Classifier model = buildModel(z.spec, z.shape, z.classes);
    std::vector<torch::Tensor> params = model->parameters();
    for (auto& p : params) p.mutable_grad() = torch::randn_like(p) * 1e-3;
    int64_t count = 0;
    for (const auto& p : params) count += p.numel();
    for (const char* name : {"adam", "sgd"}) {
      const bool adam = std::string(name) == "adam";
      std::unique_ptr<torch::optim::Optimizer> reference, multi;
      if (adam) {
        reference = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-3));
        multi = std::make_unique<MultiTensorAdam>(params, torch::optim::AdamOptions(1e-3));
      } else {
        reference = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(1e-2).momentum(0.9));
        multi = std::make_unique<MultiTensorSgd>(params, torch::optim::SGDOptions(1e-2).momentum(0.9));
      }
      const int steps = count > 500000 ? 50 : 200;
      stepMicros(*reference, 5);
      stepMicros(*multi, 5);
      std::vector<double> a, b;
      for (int r = 0; r < rounds; ++r) {
        a.push_back(stepMicros(*reference, steps));
        b.push_back(stepMicros(*multi, steps));
      }
      std::printf("%-36s %-4s %3zu tensors %8lld params  torch::optim %8.1f  multi-tensor %8.1f  ratio %.2f\n",
                  z.label, name, params.size(), (long long)count, median(a), median(b), median(a) / median(b));
    }
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  if (mode == "optimizer") return optimizerBench(rounds);
  std::fprintf(stderr, "usage: training_kernels optimizer [ROUNDS]\n");
  return 2;
}
