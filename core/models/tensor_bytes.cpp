#include "core/models/tensor_bytes.h"

#include <sstream>

namespace distillery {

std::string saveTensors(const std::vector<torch::Tensor>& tensors) {
  std::ostringstream out;
  torch::save(tensors, out);
  return out.str();
}

std::vector<torch::Tensor> loadTensors(const std::string& bytes) {
  std::vector<torch::Tensor> tensors;
  std::istringstream in(bytes);
  torch::load(tensors, in);
  return tensors;
}

std::string saveOptimizerState(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::string& bytes, torch::Device device) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in, device);
  optimizer.load(archive);
}

} // namespace distillery
