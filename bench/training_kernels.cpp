// Issue 20's CPU measurements, run by hand (-DDISTILLERY_BUILD_BENCH=ON):
//   training_kernels optimizer [ROUNDS]   one optimiser step, torch::optim vs the multi-tensor step
//   training_kernels teacher-forward [ROUNDS]   the teacher's eval forward pass (the cache fill) in
//       GFLOP/s: today's eager chunks, inference mode, channels-last inputs, against a 512x512 fp32 matmul on one thread
// Each round times both alternately (A B A B ...), so a load that changes
// during the run (a shared machine) falls on both alike; medians are printed.
#include "core/config/model_spec.h"
#include "core/models/model_info.h"
#include "core/models/model_zoo.h"
#include "core/training/channels_last_weights.h"
#include "core/training/trainer.h"
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

double matmulGflops() {
  auto a = torch::randn({512, 512}), b = torch::randn({512, 512});
  for (int i = 0; i < 3; ++i) torch::mm(a, b);
  const int n = 50;
  const double s = secondsOf([&] {
    for (int i = 0; i < n; ++i) torch::mm(a, b);
  });
  return n * 2.0 * 512 * 512 * 512 / s / 1e9;
}

int teacherForwardBench(int rounds) {
  ModelSpec cnn, resnet56;
  cnn.zoo = "cnn";
  resnet56.zoo = "resnet56";
  const std::vector<std::pair<Zoo, int64_t>> teachers = {
      {{"cnn[32,64]fc256 (kd_vs_pytorch's teacher)", cnn, {1, 28, 28}, 10}, 4096},
      {{"resnet56 (Fashion-MNIST shape, the resnet peer's)", resnet56, {1, 28, 28}, 10}, 512}};
  std::printf("teacher forward pass, chunks of 128, %d threads, median GFLOP/s of %d alternating rounds\n",
              at::get_num_threads(), rounds);
  for (const auto& [z, n] : teachers) {
    Classifier model = buildModel(z.spec, z.shape, z.classes);
    model->eval();
    const double flops = describeModel(z.spec, z.shape.channels, z.shape.height, z.shape.width, z.classes).flops_per_sample;
    auto x = torch::randn({n, z.shape.channels, z.shape.height, z.shape.width});
    auto chunks = [&](const std::function<torch::Tensor(const torch::Tensor&)>& f) {
      return n * flops / secondsOf([&] {
               for (int64_t i = 0; i < n; i += 128) f(x.slice(0, i, std::min(n, i + 128)));
             }) / 1e9;
    };
    std::vector<std::pair<std::string, std::function<torch::Tensor(const torch::Tensor&)>>> variants = {
        {"eager (predictLogits, today)", [&](const torch::Tensor& c) { return predictLogits(model, c, torch::kCPU); }},
        {"eager, inference mode", [&](const torch::Tensor& c) { c10::InferenceMode im; return model->forward(c); }},
        {"channels-last input", [&](const torch::Tensor& c) {
           torch::NoGradGuard ng;
           return model->forward(c.contiguous(at::MemoryFormat::ChannelsLast));
         }},
        {"channels-last weights", [&](const torch::Tensor& c) {
           ChannelsLastWeights cl(*model);
           return predictLogits(model, c, torch::kCPU);
         }},
        {"channels-last weights and input", [&](const torch::Tensor& c) {
           ChannelsLastWeights cl(*model);
           torch::NoGradGuard ng;
           return model->forward(c.contiguous(at::MemoryFormat::ChannelsLast));
         }}};
    std::vector<std::vector<double>> rates(variants.size());
    for (auto& v : variants) v.second(x.slice(0, 0, 128));
    for (int r = 0; r < rounds; ++r)
      for (size_t v = 0; v < variants.size(); ++v) rates[v].push_back(chunks(variants[v].second));
    const double mm = matmulGflops();
    std::printf("%s, %.1f MFLOP/sample, %lld samples; matmul 512 one thread %.1f GFLOP/s\n", z.label, flops / 1e6,
                (long long)n, mm);
    for (size_t v = 0; v < variants.size(); ++v)
      std::printf("  %-30s %7.1f GFLOP/s  x%.2f of today  %3.0f%% of the matmul\n", variants[v].first.c_str(),
                  median(rates[v]), median(rates[v]) / median(rates[0]), 100 * median(rates[v]) / mm);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  if (mode == "optimizer") return optimizerBench(rounds);
  if (mode == "teacher-forward") return teacherForwardBench(rounds);
  std::fprintf(stderr, "usage: training_kernels optimizer|teacher-forward [ROUNDS]\n");
  return 2;
}
