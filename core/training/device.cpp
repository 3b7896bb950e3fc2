#include "core/training/device.h"

#include "core/base/errors.h"

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

} // namespace distillery
