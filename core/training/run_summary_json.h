#pragma once
// The summary an image run stores when it finishes (runs.summary_json): what
// the run table, the compare views, reports and `distillery-cli show` read.
#include "core/data/dataset.h"
#include "core/methods/method_registry.h"
#include "core/training/prepared_model.h"
#include "core/training/trainer.h"

#include <nlohmann/json.hpp>

#include <torch/torch.h>

namespace distillery {

// Final metrics, model size and FLOPs, cost counters and throughput, device,
// versions, dataset and its preprocessing, for a run that trained `trained`.
nlohmann::json trainingSummary(const TrainedModel& trained, const TrainerResult& r, double test_accuracy,
                               torch::Device device, const Dataset& data);

// What a distill run adds: agreement and KL with the teacher, the teacher's
// source, size and accuracy, compression, the method, the transfer set and the
// teacher-output cache.
struct DistillFigures {
  const TrainedModel& teacher;
  const TrainedModel& student;
  const TrainerResult& result;
  const MethodInfo& method;
  double test_agreement = 0.0, test_kl = 0.0, teacher_test_accuracy = 0.0;
  nlohmann::json transfer;      // transferSummary of the student's data
  nlohmann::json teacher_cache; // what attaching the teacher-output cache said
  // Validation and test rows whose teacher logits were computed once: queries too.
  int64_t teacher_logit_rows = 0;
};
void addDistillSummary(nlohmann::json& summary, const DistillFigures& f);

} // namespace distillery
