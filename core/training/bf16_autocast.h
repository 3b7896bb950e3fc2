#pragma once
// Scoped CUDA autocast to bf16 for the forward passes of a training step;
// restores the previous state on exit. LibTorch 2.4 moved autocast to
// per-device calls and deprecated the CUDA-only ones; 1.13 (Debian) has only
// the latter, so the version picks the API.
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define DISTILLERY_AUTOCAST_PER_DEVICE (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))

namespace distillery {

class Bf16Autocast {
public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
#if DISTILLERY_AUTOCAST_PER_DEVICE
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~Bf16Autocast() {
    if (!on_) return;
#if DISTILLERY_AUTOCAST_PER_DEVICE
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
#else
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
#endif
    at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

private:
  bool on_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kHalf;
};

} // namespace distillery
