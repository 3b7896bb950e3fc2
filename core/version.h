#pragma once
#include <string>

namespace distillery {

std::string appVersion();
std::string libtorchVersion();

} // namespace distillery
