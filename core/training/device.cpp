#include "core/training/device.h"

#include "core/base/errors.h"
#include "core/training/device_name.h"

#if DISTILLERY_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include <cstdio>
#include <fstream>

namespace distillery {

torch::Device resolveDevice(const std::string& setting) {
  const bool cuda = torch::cuda::is_available();
  if (setting == "auto") return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (setting == "cpu") return torch::Device(torch::kCPU);
  if (setting == "cuda" || setting.rfind("cuda:", 0) == 0) {
    if (!cuda)
      throw ConfigError("device", "\"" + setting + "\" asked for CUDA, but this LibTorch build has no CUDA "
                                  "support or no GPU is visible; use \"cpu\" or \"auto\"");
    int index = 0;
    if (setting.size() > 5) {
      try {
        index = std::stoi(setting.substr(5));
      } catch (const std::exception&) {
        throw ConfigError("device", "expected cuda:N with a GPU index, got \"" + setting + "\"");
      }
    }
    const int count = int(torch::cuda::device_count());
    if (index < 0 || index >= count)
      throw ConfigError("device", "GPU index " + std::to_string(index) + " does not exist; " +
                                      std::to_string(count) + " GPU(s) visible");
    return torch::Device(torch::kCUDA, int8_t(index));
  }
  throw ConfigError("device", "unknown device \"" + setting + "\"; allowed: auto, cpu, cuda, cuda:N");
}

namespace {

// The CPU's model name from /proc/cpuinfo (Linux), or "CPU".
std::string cpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  return "CPU";
}

} // namespace

std::string deviceHardwareName(torch::Device device) {
#if DISTILLERY_TORCH_CUDA
  if (device.is_cuda()) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0);
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB", double(p->totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return std::string(p->name) + ", " + memory;
  }
#endif
  if (device.is_cuda()) return "a CUDA GPU"; // this build cannot ask its name
  const int threads = at::get_num_threads();
  return cpuModelName() + ", " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

std::string deviceHardwareName(const std::string& setting) {
  try {
    return deviceHardwareName(resolveDevice(setting));
  } catch (const std::exception&) {
    return deviceHardwareName(torch::Device(torch::kCPU)) + " (\"" + setting + "\" is not usable here)";
  }
}

} // namespace distillery
