#include "core/models/torchscript_export.h"

#include "core/models/scripted_classifier.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/script.h>

#include <cctype>
#include <sstream>

namespace distillery {

namespace {

// "distillery::CifarResNetImpl" -> "CifarResNet": the class name Python shows.
std::string className(const torch::nn::Module& module) {
  std::string name = module.name();
  const size_t colon = name.rfind(':');
  if (colon != std::string::npos) name = name.substr(colon + 1);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
  std::string clean;
  for (char c : name) clean.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (clean.empty() || std::isdigit(static_cast<unsigned char>(clean[0]))) clean = "M" + clean;
  return clean;
}

// A TorchScript module with the same tree of submodules as `module`, holding
// the same parameter and buffer tensors (shared, not copied), so the tracer
// can name every weight by its path from `self`.
torch::jit::Module mirror(torch::nn::Module& module, const std::shared_ptr<torch::jit::CompilationUnit>& cu) {
  torch::jit::Module script(c10::QualifiedName("__torch__.distillery." + className(module)), cu,
                            /*shouldMangle=*/true);
  script.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (p.value().defined()) script.register_parameter(p.key(), p.value(), /*is_buffer=*/false);
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (b.value().defined()) script.register_buffer(b.key(), b.value());
  for (const auto& child : module.named_children()) script.register_module(child.key(), mirror(*child.value(), cu));
  return script;
}

std::string traceZooModel(const Classifier& model, const InputShape& shape) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module root = mirror(*model, cu);
  // Two samples, so nothing in the graph can silently assume a batch of one.
  torch::jit::Stack inputs{torch::zeros({2, shape.channels, shape.height, shape.width})};
  auto forward = [&](torch::jit::Stack stack) -> torch::jit::Stack {
    return {model->forward(stack.at(0).toTensor())};
  };
  std::shared_ptr<torch::jit::tracer::TracingState> state;
  {
    torch::NoGradGuard no_grad;
    state = torch::jit::tracer::trace(
                std::move(inputs), forward, [](const torch::autograd::Variable&) { return std::string(); },
                /*strict=*/true, /*force_outplace=*/false, &root)
                .first;
  }
  torch::jit::Function* method =
      cu->create_function(c10::QualifiedName(*root.type()->name(), "forward"), state->graph);
  root.type()->addMethod(method);
  root.eval();
  std::ostringstream out;
  root.save(out);
  return out.str();
}

} // namespace

std::string exportTorchScriptBytes(const Classifier& model, const InputShape& shape) {
  model->to(torch::kCPU);
  model->eval();
  if (auto* scripted = dynamic_cast<ScriptedClassifierImpl*>(model.get())) return scripted->saveBytes();
  return traceZooModel(model, shape);
}

} // namespace distillery
