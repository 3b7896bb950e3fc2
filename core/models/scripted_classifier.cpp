#include "core/models/scripted_classifier.h"

#include "core/base/errors.h"
#include "core/models/op_mac_counter.h"
#include "core/base/version.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/scope.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace distillery {

namespace {

// nn::Module names may not contain dots; the script's "layer1.0.weight" becomes "layer1/0/weight".
std::string flatName(std::string name) {
  for (char& c : name)
    if (c == '.') c = '/';
  return name;
}

std::string shapeText(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

// Turns LibTorch's loader messages into what went wrong for the user.
[[noreturn]] void rethrowLoadError(const std::string& origin, const c10::Error& e) {
  const std::string raw = e.what_without_backtrace();
  const std::string first_line = raw.substr(0, raw.find('\n'));
  std::string why;
  if (raw.find("version") != std::string::npos && (raw.find("maximum supported") != std::string::npos ||
                                                    raw.find("too old") != std::string::npos ||
                                                    raw.find("newer") != std::string::npos)) {
    why = "was written by a newer PyTorch than this LibTorch " + libtorchVersion() +
          " can read; save it again with torch.jit.save from PyTorch " + libtorchVersion() + " or older";
  } else if (raw.find("central directory") != std::string::npos || raw.find("zip archive") != std::string::npos ||
             raw.find("reader failed") != std::string::npos ||
             (raw.find("file not found") == std::string::npos &&
              raw.find("PytorchStreamReader") != std::string::npos)) {
    why = "is not a readable TorchScript archive (truncated or corrupt); expected a file written by "
          "torch.jit.save of a torch.jit.trace'd or torch.jit.script'ed model";
  } else if (raw.find("constants.pkl") != std::string::npos || raw.find("file not found") != std::string::npos) {
    why = "is a PyTorch archive but not TorchScript (a state_dict or a model saved with torch.save?); "
          "expected torch.jit.save(torch.jit.script(model), PATH) or torch.jit.trace";
  } else {
    why = "could not be loaded as TorchScript";
  }
  throw DataError(origin, why + " (" + first_line + ")");
}

// The dotted path from the graph's self (input 0) to `value` through prim::GetAttr
// of submodules, or "" when value is not such a chain.
std::string submodulePath(const torch::jit::Value* value, const torch::jit::Value* self) {
  std::string path;
  while (value != self) {
    const torch::jit::Node* node = value->node();
    if (node->kind() != c10::prim::GetAttr) return "";
    path = node->s(c10::attr::name) + (path.empty() ? "" : "." + path);
    value = node->input(0);
  }
  return path;
}

// Top-level calls of submodules' forward in a graph, in order: (path, node).
std::vector<std::pair<std::string, torch::jit::Node*>> submoduleCalls(torch::jit::Graph& graph) {
  std::vector<std::pair<std::string, torch::jit::Node*>> calls;
  const torch::jit::Value* self = graph.inputs().at(0);
  for (torch::jit::Node* node : graph.nodes()) {
    if (node->kind() != c10::prim::CallMethod || node->s(c10::attr::name) != "forward") continue;
    if (node->outputs().size() != 1) continue;
    const std::string path = submodulePath(node->input(0), self);
    if (!path.empty()) calls.emplace_back(path, node);
  }
  return calls;
}

} // namespace

ScriptedClassifierImpl::ScriptedClassifierImpl(torch::jit::Module module, std::string origin)
    : module_(std::move(module)), origin_(std::move(origin)) {
  if (!module_.find_method("forward"))
    throw DataError(origin_, "the TorchScript module has no forward method");
  std::set<std::string> names;
  auto unique = [&](const std::string& name) {
    if (!names.insert(name).second)
      throw DataError(origin_, "two tensors of the TorchScript module share the name \"" + name + "\"");
    return name;
  };
  for (const auto& p : module_.named_parameters(/*recurse=*/true))
    register_parameter(unique(flatName(p.name)), p.value, /*requires_grad=*/true);
  for (const auto& b : module_.named_buffers(/*recurse=*/true))
    if (b.value.defined()) register_buffer(unique(flatName(b.name)), b.value);
  train(module_.is_training());
  std::set<std::string> seen;
  for (const auto& [path, node] : submoduleCalls(*module_.get_method("forward").graph()))
    if (seen.insert(path).second) layers_.push_back(path);
}

std::string ScriptedClassifierImpl::defaultFeatureLayer() const {
  if (layers_.empty()) return "";
  return layers_.size() >= 2 ? layers_[layers_.size() - 2] : layers_.back();
}

std::string ScriptedClassifierImpl::tappedMethod(const std::vector<std::string>& layers) {
  std::string name = "__distillery_tapped";
  for (const auto& l : layers) {
    name += "__";
    for (char c : l) name += c == '.' ? '_' : c;
  }
  if (module_.find_method(name)) return name;
  auto graph = module_.get_method("forward").graph()->copy();
  std::vector<torch::jit::Value*> outputs{graph->outputs().at(0)};
  const auto calls = submoduleCalls(*graph);
  for (const auto& layer : layers) {
    torch::jit::Value* found = nullptr;
    for (const auto& [path, node] : calls)
      if (path == layer) found = node->output(); // the last call wins, as in FeatureTaps
    if (!found) throw DataError(origin_, "has no directly called submodule \"" + layer + "\"");
    outputs.push_back(found);
  }
  graph->setInsertPoint(graph->return_node());
  torch::jit::Node* tuple = graph->insertNode(graph->createTuple(outputs));
  graph->eraseOutput(0);
  graph->registerOutput(tuple->output());
  auto cu = module_._ivalue()->compilation_unit();
  torch::jit::Function* fn = cu->create_function(c10::QualifiedName(*module_.type()->name(), name), graph);
  module_.type()->addMethod(fn);
  return name;
}

torch::Tensor ScriptedClassifierImpl::forwardTapped(torch::Tensor x, FeatureTaps& taps) {
  std::vector<std::string> wanted;
  for (const auto& l : layers_)
    if (taps.wants(l)) wanted.push_back(l);
  if (wanted.empty()) return forward(std::move(x));
  c10::IValue out = module_.get_method(tappedMethod(wanted))({std::move(x)});
  const auto& items = out.toTupleRef().elements();
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!items[i + 1].isTensor())
      throw DataError(origin_, "layer \"" + wanted[i] + "\" outputs a " + items[i + 1].tagKind() +
                                   "; feature methods need a tensor");
    taps.offer(wanted[i], items[i + 1].toTensor());
  }
  if (!items[0].isTensor())
    throw DataError(origin_, "forward returned a " + items[0].tagKind() + "; expected a tensor of logits [N, classes]");
  return items[0].toTensor();
}

torch::Tensor ScriptedClassifierImpl::forward(torch::Tensor x) {
  c10::IValue out = module_.forward({std::move(x)});
  if (!out.isTensor())
    throw DataError(origin_, "forward returned a " + out.tagKind() + "; expected a tensor of logits [N, classes]");
  return out.toTensor();
}

void ScriptedClassifierImpl::train(bool on) {
  torch::nn::Module::train(on);
  module_.train(on);
}

std::string ScriptedClassifierImpl::saveBytes() {
  // Python's torch.jit.load should not need a GPU: save a CPU copy.
  bool on_cpu = true;
  for (const auto& p : parameters()) on_cpu = on_cpu && p.device().is_cpu();
  for (const auto& b : buffers()) on_cpu = on_cpu && b.device().is_cpu();
  std::ostringstream out;
  if (on_cpu) {
    module_.save(out);
  } else {
    torch::jit::Module copy = module_.clone();
    copy.to(torch::kCPU);
    copy.save(out);
  }
  return out.str();
}

ScriptedClassifier loadScriptedFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw DataError(path, "no such file; expected a TorchScript model (.pt) written by torch.jit.save");
  if (std::filesystem::is_directory(path, ec))
    throw DataError(path, "is a directory; expected a TorchScript model file (.pt)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot be opened for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return loadScriptedBytes(bytes.str(), path);
}

ScriptedClassifier loadScriptedBytes(const std::string& bytes, const std::string& origin) {
  if (bytes.empty()) throw DataError(origin, "is empty; expected a TorchScript model written by torch.jit.save");
  torch::jit::Module module;
  try {
    std::istringstream in(bytes);
    module = torch::jit::load(in, torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    rethrowLoadError(origin, e);
  } catch (const std::exception& e) {
    throw DataError(origin, std::string("could not be loaded as TorchScript (") + e.what() + ")");
  }
  return ScriptedClassifier(std::move(module), origin);
}

void probeClassifier(const Classifier& model, const torch::Tensor& probe, int64_t classes,
                     const std::string& origin) {
  const std::string input = shapeText(probe.sizes());
  const std::string layout = probe.dim() == 2 ? "table rows [N, F]" : "images [N, C, H, W]";
  const bool was_training = model->is_training();
  torch::Tensor out;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    try {
      out = model->forward(probe);
    } catch (const DataError&) {
      model->train(was_training);
      throw;
    } catch (const std::exception& e) {
      model->train(was_training);
      std::string what = e.what();
      if (auto* c10_error = dynamic_cast<const c10::Error*>(&e)) what = c10_error->what_without_backtrace();
      // The interpreter's traceback is long; its last line says what failed.
      while (!what.empty() && what.back() == '\n') what.pop_back();
      const size_t last = what.rfind('\n');
      if (last != std::string::npos) what = what.substr(last + 1);
      throw DataError(origin, "rejects the dataset's input " + input + " (" + layout + "): " + what);
    }
    model->train(was_training);
  }
  if (out.dim() != 2 || out.size(0) != probe.size(0) || out.size(1) != classes)
    throw DataError(origin, "outputs " + shapeText(out.sizes()) + " for the input " + input + "; expected logits [" +
                                std::to_string(probe.size(0)) + ", " + std::to_string(classes) +
                                "], one score per class of the dataset (" + std::to_string(classes) + " classes)");
  if (!out.is_floating_point())
    throw DataError(origin, "outputs integers; expected floating-point logits");
}

ScriptedClassifier loadCheckedTorchScript(const std::string& path, const torch::Tensor& probe, int64_t classes) {
  ScriptedClassifier model = loadScriptedFile(path);
  probeClassifier(model.ptr(), probe, classes, path);
  return model;
}

namespace {

// The submodule path a node was inlined from ("block.bn1"), "forward" for the top module's own code.
std::string inlinedModulePath(const torch::jit::Node* node) {
  std::string path;
  if (auto stack = node->callstack())
    for (const auto& frame : (*stack)->vec())
      if (const auto& module = std::get<2>(frame); module && !module->instance_name().empty())
        path += (path.empty() ? "" : ".") + module->instance_name();
  return path.empty() ? "forward" : path;
}

void collectFixedBatchNorm(torch::jit::Block* block, FixedBatchNorm& found) {
  static const std::set<c10::Symbol> kinds{c10::Symbol::fromQualString("aten::batch_norm"),
                                           c10::Symbol::fromQualString("aten::_batch_norm_impl_index"),
                                           c10::Symbol::fromQualString("aten::native_batch_norm")};
  for (torch::jit::Node* node : block->nodes()) {
    for (torch::jit::Block* inner : node->blocks()) collectFixedBatchNorm(inner, found);
    if (!kinds.count(node->kind()) || node->inputs().size() < 6) continue;
    // Input 5 is `training`: a constant in a traced graph, self.training in a scripted one.
    const c10::optional<bool> training = torch::jit::constant_as<bool>(node->input(5));
    if (!training) continue;
    (*training ? found.train_mode : found.eval_mode).push_back(inlinedModulePath(node));
  }
}

std::string layerList(const std::vector<std::string>& layers) {
  std::string s;
  for (size_t i = 0; i < layers.size() && i < 3; ++i) s += (i ? ", " : "") + layers[i];
  if (layers.size() > 3) s += " and " + std::to_string(layers.size() - 3) + " more";
  return s;
}

} // namespace

FixedBatchNorm findFixedBatchNorm(const torch::jit::Module& module) {
  FixedBatchNorm found;
  auto forward = module.find_method("forward");
  if (!forward) return found;
  // Submodules' forwards and functions are separate graphs until inlined into a copy.
  std::shared_ptr<torch::jit::Graph> graph = forward->graph()->copy();
  torch::jit::Inline(*graph);
  collectFixedBatchNorm(graph->block(), found);
  return found;
}

std::string fixedBatchNormProblem(const torch::jit::Module& model, bool trains) {
  const FixedBatchNorm bn = findFixedBatchNorm(model);
  const std::string script = "save it with torch.jit.script(model), whose BatchNorm follows train() and eval()";
  if (!bn.train_mode.empty())
    return "has its BatchNorm (" + layerList(bn.train_mode) +
           ") fixed in train mode, as torch.jit.trace records the mode the model was in: it always normalises by "
           "the statistics of the batch it is given, so its outputs change with the other samples of a batch (and "
           "an exported model answers differently at batch 1); " +
           (trains ? script : "trace it after model.eval() (torch.jit.freeze may follow), or " + script);
  if (trains && !bn.eval_mode.empty())
    return "has its BatchNorm (" + layerList(bn.eval_mode) +
           ") fixed in eval mode, as torch.jit.trace (or torch.jit.freeze) records it: it always uses its running "
           "statistics, which training would never update; to train it, " + script +
           " (a model fixed in eval mode can only teach)";
  return "";
}

ModelInfo describeScripted(ScriptedClassifierImpl& model, const InputShape& shape) {
  ModelInfo info;
  info.params = countParameters(model);
  ModuleMacs macs;
  {
    torch::NoGradGuard no_grad;
    const bool was_training = model.is_training();
    model.eval();
    const torch::Device device = info.params > 0 ? model.parameters().front().device() : torch::Device(torch::kCPU);
    torch::Tensor one = torch::zeros({1, shape.channels, shape.height, shape.width}, device);
    macs = countOperatorMacsByModule([&] { model.forward(one); });
    info.flops_per_sample = 2.0 * macs.total;
    model.train(was_training);
  }
  // The rows are the top-level submodules; a wrapper holding one submodule
  // (a network saved inside a preprocessing shell, say) is looked through, so
  // they are the wrapped network's stages.
  torch::jit::Module level = model.script();
  std::string prefix;
  for (;;) {
    std::vector<torch::jit::NameModule> children;
    for (const auto& child : level.named_children()) children.push_back(child);
    if (children.size() != 1 || children.front().value.named_children().size() == 0) break;
    prefix += children.front().name + ".";
    level = children.front().value;
  }
  double attributed = 0.0;
  for (const auto& child : level.named_children()) {
    LayerSummary l;
    l.name = prefix + child.name;
    const auto type_name = child.value.type()->name();
    l.kind = type_name ? type_name->name() : std::string("Module");
    for (const auto& p : child.value.parameters()) l.params += p.numel();
    // FLOPs of the operators the interpreter ran inside this submodule (op_mac_counter.h).
    for (const auto& [path, m] : macs.by_module)
      if (path == l.name || path.rfind(l.name + ".", 0) == 0) l.flops += 2.0 * m;
    attributed += l.flops;
    info.layers.push_back(l);
  }
  // Operators in forward itself (torch.mm on a parameter, say) belong to no submodule.
  const double rest = info.flops_per_sample - attributed;
  if (rest > 0.5) {
    LayerSummary l;
    l.name = "(rest)";
    l.kind = info.layers.empty() ? "forward (no submodules)" : "forward, outside these submodules";
    l.flops = rest;
    info.layers.push_back(l);
  }
  return info;
}

torch::Tensor probeBatch(const Dataset& data, int64_t n) {
  const TensorSplit& split = data.train.size() > 0 ? data.train : data.test;
  return split.x.slice(0, 0, std::min<int64_t>(n, split.size()));
}

} // namespace distillery
