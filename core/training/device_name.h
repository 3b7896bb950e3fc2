#pragma once
// What hardware a device is, for a run's provenance and the GUI's status bar
// (issue 20): "NVIDIA H200, 139.8 GiB" for a GPU (its name and memory, read
// where the found LibTorch has CUDA), "Intel(R) Xeon(R) ..., 2 threads" for
// the CPU. No LibTorch types, so widgets can include it.
#include <string>

namespace distillery {

// `setting` as a run's "device" asks for it ("auto", "cpu", "cuda", "cuda:N");
// an unusable setting is described as the CPU it would not get, with why.
std::string deviceHardwareName(const std::string& setting);

} // namespace distillery
