#include "core/models/op_mac_counter.h"

#include <ATen/record_function.h>
#include <torch/csrc/jit/runtime/interpreter.h>
#include <torch/torch.h>

#include <cstring>
#include <memory>

namespace distillery {

namespace {

enum class OpKind { Other, Convolution, Linear, MatrixProduct, BatchedProduct, Matmul };

OpKind kindOf(const char* name) {
  static const struct {
    const char* name;
    OpKind kind;
  } table[] = {{"aten::conv1d", OpKind::Convolution},       {"aten::conv2d", OpKind::Convolution},
               {"aten::conv3d", OpKind::Convolution},       {"aten::convolution", OpKind::Convolution},
               {"aten::_convolution", OpKind::Convolution}, {"aten::linear", OpKind::Linear},
               {"aten::addmm", OpKind::MatrixProduct},      {"aten::mm", OpKind::MatrixProduct},
               {"aten::bmm", OpKind::BatchedProduct},       {"aten::baddbmm", OpKind::BatchedProduct},
               {"aten::matmul", OpKind::Matmul}};
  for (const auto& entry : table)
    if (std::strcmp(name, entry.name) == 0) return entry.kind;
  return OpKind::Other;
}

struct CountState {
  double macs = 0.0;
  int open = 0; // counted operators currently running (their inner calls don't count)
  std::map<std::string, double>* by_module = nullptr; // set: attribute each operator's MACs
};
thread_local CountState* active = nullptr;

// Carries what the start callback learned to the end callback, which sees the output.
struct CountedCall : at::ObserverContext {
  double macs_per_output = 0.0; // multiplied by the output's element count at the end
  double macs = 0.0;            // or a total known at the start
  std::string module;           // the submodule running it, when attributing
};

// The interpreter's hierarchy reads ["TOP(Net)::forward", "model(ResNet)::forward",
// "layer1(Sequential)::forward", "SELF(Conv2d)::_conv_forward", "::relu"]: the
// instance names after TOP, without calls on SELF or free functions, are the
// submodule's path.
std::string currentModulePath() {
  std::string path;
  const std::vector<std::string> frames = torch::jit::currentModuleHierarchy();
  for (size_t i = 1; i < frames.size(); ++i) {
    const std::string& frame = frames[i];
    const size_t paren = frame.find('(');
    if (paren == std::string::npos || paren == 0) continue;
    const std::string name = frame.substr(0, paren);
    if (name == "SELF" || name == "INSTANCE_NAME_UNKNOWN") continue;
    path += (path.empty() ? "" : ".") + name;
  }
  return path;
}

// The i-th argument of the operator. Boxed calls from the TorchScript
// interpreter hand the callback the interpreter's whole stack, with the
// operator's arguments at its end: count them from the schema.
torch::Tensor tensorArg(const at::RecordFunction& fn, size_t i) {
  auto inputs = fn.inputs();
  size_t first = 0;
  if (auto schema = fn.operator_schema()) {
    const size_t args = schema->arguments().size();
    if (inputs.size() > args) first = inputs.size() - args;
  }
  if (first + i < inputs.size() && inputs[first + i].isTensor()) return inputs[first + i].toTensor();
  return {};
}

std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction& fn) {
  if (!active) return nullptr;
  const OpKind kind = kindOf(fn.name());
  if (kind == OpKind::Other || active->open > 0) return nullptr;
  auto call = std::make_unique<CountedCall>();
  switch (kind) {
  case OpKind::Convolution: {
    // weight [out, in/groups, k...]: each output element costs in/groups * prod(k) MACs.
    torch::Tensor w = tensorArg(fn, 1);
    if (!w.defined() || w.dim() < 3) return nullptr;
    call->macs_per_output = double(w.numel()) / double(w.size(0));
    break;
  }
  case OpKind::Linear: {
    torch::Tensor x = tensorArg(fn, 0), w = tensorArg(fn, 1);
    if (!x.defined() || !w.defined() || w.dim() != 2) return nullptr;
    call->macs = double(x.numel()) * double(w.size(0));
    break;
  }
  case OpKind::MatrixProduct: { // addmm(bias, a, b) or mm(a, b)
    const size_t first = std::strcmp(fn.name(), "aten::addmm") == 0 ? 1 : 0;
    torch::Tensor a = tensorArg(fn, first), b = tensorArg(fn, first + 1);
    if (!a.defined() || !b.defined() || a.dim() != 2 || b.dim() != 2) return nullptr;
    call->macs = double(a.size(0)) * double(a.size(1)) * double(b.size(1));
    break;
  }
  case OpKind::BatchedProduct: {
    const size_t first = std::strcmp(fn.name(), "aten::baddbmm") == 0 ? 1 : 0;
    torch::Tensor a = tensorArg(fn, first), b = tensorArg(fn, first + 1);
    if (!a.defined() || !b.defined() || a.dim() != 3 || b.dim() != 3) return nullptr;
    call->macs = double(a.size(0)) * double(a.size(1)) * double(a.size(2)) * double(b.size(2));
    break;
  }
  case OpKind::Matmul: { // each output element sums over the last dimension of a
    torch::Tensor a = tensorArg(fn, 0);
    if (!a.defined() || a.dim() < 1) return nullptr;
    call->macs_per_output = double(a.size(-1));
    break;
  }
  case OpKind::Other: return nullptr;
  }
  if (active->by_module) call->module = currentModulePath();
  ++active->open;
  return call;
}

void onEnd(const at::RecordFunction& fn, at::ObserverContext* context) {
  auto* call = static_cast<CountedCall*>(context);
  if (!active || !call) return;
  --active->open;
  double macs = call->macs;
  if (call->macs_per_output > 0.0) {
    const auto& outputs = fn.outputs();
    if (!outputs.empty() && outputs[0].isTensor()) macs = call->macs_per_output * double(outputs[0].toTensor().numel());
  }
  active->macs += macs;
  if (active->by_module) (*active->by_module)[call->module] += macs;
}

double count(const std::function<void()>& forward, std::map<std::string, double>* by_module) {
  CountState state;
  state.by_module = by_module;
  CountState* outer = active;
  active = &state;
  at::RecordFunctionCallback callback(onStart, onEnd);
  callback.needsInputs(true).needsOutputs(true).scopes({at::RecordScope::FUNCTION});
  const at::CallbackHandle handle = at::addThreadLocalCallback(callback);
  try {
    forward();
  } catch (...) {
    at::removeCallback(handle);
    active = outer;
    throw;
  }
  at::removeCallback(handle);
  active = outer;
  return state.macs;
}

} // namespace

double countOperatorMacs(const std::function<void()>& forward) { return count(forward, nullptr); }

ModuleMacs countOperatorMacsByModule(const std::function<void()>& forward) {
  ModuleMacs result;
  result.total = count(forward, &result.by_module);
  return result;
}

} // namespace distillery
