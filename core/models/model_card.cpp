#include "core/models/model_card.h"

#include "core/training/device.h"
#include "core/base/errors.h"
#include "core/models/model_zoo.h"
#include "core/models/scripted_classifier.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <vector>

namespace distillery {

namespace {

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Median milliseconds of `repeats` forwards, after two warm-up ones; -1 when cancelled.
double medianLatencyMs(const Classifier& model, const torch::Tensor& x, int repeats, const std::atomic<bool>* cancel) {
  auto cancelled = [&] { return cancel && cancel->load(); };
  auto timed = [&] {
    const auto start = std::chrono::steady_clock::now();
    model->forward(x);
    synchronize(x.device());
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  double warm = 0.0;
  for (int i = 0; i < 2; ++i) {
    if (cancelled()) return -1.0;
    warm = timed();
  }
  // A slow network (seconds per batch on a CPU) gets fewer repeats.
  if (warm > 1000.0) repeats = std::min(repeats, 3);
  std::vector<double> times;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    if (cancelled()) return -1.0;
    times.push_back(timed());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::string humanBytes(int64_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  if (bytes >= (int64_t(1) << 20)) out << double(bytes) / double(1 << 20) << " MiB";
  else if (bytes >= 1024) out << double(bytes) / 1024.0 << " KiB";
  else out << bytes << " B";
  return out.str();
}

std::string humanCount(double v) {
  std::ostringstream out;
  out << std::fixed;
  if (v >= 1e9) out << std::setprecision(2) << v / 1e9 << "G";
  else if (v >= 1e6) out << std::setprecision(2) << v / 1e6 << "M";
  else if (v >= 1e3) out << std::setprecision(1) << v / 1e3 << "k";
  else out << std::setprecision(0) << v;
  return out.str();
}

std::string ms(double v) {
  if (v < 0) return "not measured";
  std::ostringstream out;
  out << std::fixed << std::setprecision(v < 10 ? 3 : 1) << v << " ms";
  return out.str();
}

std::string ratio(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << v << "x";
  return out.str();
}

} // namespace

ModelCard makeModelCard(const ModelSpec& spec, const CardInput& in, const CardOptions& options) {
  ModelCard card;
  card.label = describe(spec);
  card.info = describeModel(spec, in.channels, in.height, in.width, in.classes);
  Classifier model;
  if (spec.isTorchScript()) {
    std::error_code ec;
    card.size_bytes = int64_t(std::filesystem::file_size(spec.torchscript, ec));
    if (options.measure_latency) model = buildModel(spec, InputShape{in.channels, in.height, in.width}, in.classes);
  } else {
    model = buildModelKeepingRandomStream(spec, InputShape{in.channels, in.height, in.width}, in.classes);
    card.size_bytes = int64_t(saveModelBytes(model).size());
  }
  if (!options.measure_latency) return card;
  const torch::Device device = resolveDevice(options.device);
  card.device = device.str();
  torch::NoGradGuard no_grad;
  model->to(device);
  model->eval();
  card.latency_ms_batch1 = medianLatencyMs(model, torch::randn({1, in.channels, in.height, in.width}, device),
                                           options.repeats, options.cancel);
  if (card.latency_ms_batch1 >= 0)
    card.latency_ms_batch128 = medianLatencyMs(
        model, torch::randn({128, in.channels, in.height, in.width}, device), options.repeats, options.cancel);
  return card;
}

void compareWithTeacher(ModelCard& card, const ModelCard& teacher) {
  card.has_teacher = true;
  card.teacher_label = teacher.label;
  auto divide = [](double a, double b) { return a > 0 && b > 0 ? a / b : 0.0; };
  card.compression = divide(double(teacher.info.params), double(card.info.params));
  card.flops_ratio = divide(teacher.info.flops_per_sample, card.info.flops_per_sample);
  card.speedup_batch1 = divide(teacher.latency_ms_batch1, card.latency_ms_batch1);
  card.speedup_batch128 = divide(teacher.latency_ms_batch128, card.latency_ms_batch128);
}

nlohmann::json toJson(const ModelCard& c) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : c.info.layers)
    layers.push_back({{"name", l.name}, {"kind", l.kind}, {"output", l.output}, {"params", l.params},
                      {"flops", l.flops}});
  nlohmann::json j = {{"model", c.label},
                      {"params", c.info.params},
                      {"flops_per_sample", c.info.flops_per_sample},
                      {"macs_per_sample", c.info.flops_per_sample / 2.0}, // FLOPs = 2 x multiply-adds
                      {"size_bytes", c.size_bytes},
                      {"layers", layers}};
  if (c.latency_ms_batch1 >= 0) {
    j["device"] = c.device;
    j["latency_ms_batch1"] = c.latency_ms_batch1;
    if (c.latency_ms_batch128 >= 0) j["latency_ms_batch128"] = c.latency_ms_batch128;
  }
  if (c.has_teacher) {
    j["teacher"] = c.teacher_label;
    j["compression"] = c.compression;
    j["flops_ratio"] = c.flops_ratio;
    if (c.speedup_batch1 > 0) j["speedup_batch1"] = c.speedup_batch1;
    if (c.speedup_batch128 > 0) j["speedup_batch128"] = c.speedup_batch128;
  }
  return j;
}

std::string formatModelCard(const ModelCard& c) {
  std::ostringstream out;
  out << "model: " << c.label << "\n"
      << "parameters: " << c.info.params << " (" << humanCount(double(c.info.params)) << ")\n"
      << "FLOPs per sample: " << humanCount(c.info.flops_per_sample) << " (2 x " << humanCount(c.info.flops_per_sample / 2.0)
      << " multiply-adds; torchvision and fvcore list multiply-adds as \"FLOPs\")\n"
      << "size on disk: " << humanBytes(c.size_bytes) << " (" << c.size_bytes << " bytes)\n";
  if (c.latency_ms_batch1 >= 0)
    out << "latency on " << c.device << ": batch 1 " << ms(c.latency_ms_batch1) << ", batch 128 "
        << ms(c.latency_ms_batch128) << "\n";
  if (c.has_teacher) {
    out << "against " << c.teacher_label << ": compression " << ratio(c.compression) << ", FLOPs "
        << ratio(c.flops_ratio);
    if (c.speedup_batch1 > 0) out << ", speed-up " << ratio(c.speedup_batch1) << " at batch 1";
    if (c.speedup_batch128 > 0) out << ", " << ratio(c.speedup_batch128) << " at batch 128";
    out << "\n";
  }
  out << "layers:\n";
  for (const auto& l : c.info.layers) {
    out << "  " << std::left << std::setw(10) << l.name << " " << std::setw(40) << l.kind << " " << std::setw(12)
        << l.output << " " << std::right << std::setw(9) << l.params << " params";
    if (l.flops > 0) out << "  " << humanCount(l.flops) << " FLOPs";
    out << "\n";
  }
  return out.str();
}

ModelSpec parseModelArgument(const std::string& text, const std::string& field) {
  if (text.empty()) throw ConfigError(field, "expected a zoo name, a spec in JSON or a TorchScript file");
  auto endsWith = [&](const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::error_code ec;
  if (endsWith(".pt") || endsWith(".pth") || std::filesystem::is_regular_file(text, ec)) {
    ModelSpec spec;
    spec.zoo = "torchscript";
    spec.torchscript = text;
    return spec;
  }
  if (text.front() == '{') {
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range for a number like 1e400
      throw ConfigError(field, std::string("not valid JSON (") + e.what() + ")");
    }
    return modelSpecFromJson(json, field);
  }
  return modelSpecFromJson(nlohmann::json{{"zoo", text}}, field);
}

} // namespace distillery
