#include "core/training/run_summary_json.h"

#include "core/training/device.h"

#include "core/base/version.h"

#include <algorithm>

namespace distillery {

nlohmann::json trainingSummary(const TrainedModel& trained, const TrainerResult& r, double test_accuracy,
                               torch::Device device, const Dataset& data) {
  nlohmann::json s;
  s["test_accuracy"] = test_accuracy;
  s["best_val_accuracy"] = r.best_val_accuracy;
  s["final_val_accuracy"] = r.final_val_accuracy;
  if (r.best_test_accuracy >= 0) s["best_test_accuracy"] = r.best_test_accuracy;
  if (r.best_test_agreement >= 0) s["best_test_agreement"] = r.best_test_agreement;
  s["params"] = trained.info.params;
  s["flops_per_sample"] = trained.info.flops_per_sample;
  s["model"] = describe(trained.spec);
  s["wall_s"] = r.wall_s;
  s["samples"] = r.cost.samples;
  s["samples_per_s"] = r.wall_s > 0 ? r.cost.samples / r.wall_s : 0.0;
  s["train_flops"] = r.cost.flops;
  s["teacher_queries"] = r.cost.teacher_queries;
  s["money"] = r.cost.money;
  s["steps"] = r.cost.step;
  s["selected_step"] = r.selected_step;
  s["epochs"] = r.cost.epoch;
  s["device"] = device.str();
  s["device_name"] = deviceHardwareName(device);
  s["dataset"] = data.name;
  s["dataset_path"] = data.path;
  s["dataset_hash"] = data.content_hash;
  s["app_version"] = appVersion();
  s["libtorch_version"] = libtorchVersion();
  s["input_shape"] = {data.shape.channels, data.shape.height, data.shape.width};
  s["num_classes"] = data.num_classes;
  if (trained.spec.isTorchScript()) s["source"] = torchScriptSource(trained);
  s["data"] = data.summaryJson();
  return s;
}

void addDistillSummary(nlohmann::json& summary, const DistillFigures& f) {
  const TrainerResult& r = f.result;
  summary["test_agreement"] = f.test_agreement;
  summary["test_kl"] = f.test_kl;
  summary["val_agreement"] = r.final_val_agreement;
  summary["val_kl"] = r.final_val_kl;
  summary["teacher_run_id"] = f.teacher.run_id;
  summary["teacher"] = f.teacher.spec.isTorchScript() && f.teacher.run_id == 0
                           ? torchScriptSource(f.teacher)
                           : nlohmann::json{{"kind", "run"}, {"run_id", f.teacher.run_id}};
  summary["teacher_model"] = describe(f.teacher.spec);
  summary["teacher_test_accuracy"] = f.teacher_test_accuracy;
  summary["teacher_params"] = f.teacher.info.params;
  summary["teacher_flops_per_sample"] = f.teacher.info.flops_per_sample;
  summary["compression"] = double(f.teacher.info.params) / double(std::max<int64_t>(1, f.student.info.params));
  summary["method"] = f.method.name;
  summary["teacher_access"] = f.method.teacher_access;
  if (f.method.needs_features) {
    summary["teacher_layer"] = r.teacher_layer;
    summary["student_layer"] = r.student_layer;
    summary["method_extra_params"] = r.extra_params; // adapter / heads, trained but not kept
  }
  nlohmann::json cache = f.teacher_cache;
  cache["teacher_passes_saved"] = r.cost.teacher_passes_saved;
  summary["transfer"] = f.transfer;
  summary["teacher_cache"] = cache;
  summary["teacher_queries"] = r.cost.teacher_queries + double(f.teacher_logit_rows);
  // What the teacher's answers on the training batches cost this run. Their
  // FLOPs are inside train_flops (cached or not); the seconds of a cache are
  // spent before the training loop starts, so they are apart from wall_s.
  summary["teacher_inference_flops"] = f.teacher.info.flops_per_sample * r.cost.teacher_queries;
  summary["teacher_inference_s"] = cache.value("teacher_seconds", 0.0);
}

} // namespace distillery
