#include "core/version.h"

#include <torch/version.h>

namespace distillery {

std::string appVersion() { return DISTILLERY_VERSION; }
std::string libtorchVersion() { return TORCH_VERSION; }

} // namespace distillery
