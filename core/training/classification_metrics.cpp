#include "core/training/classification_metrics.h"

namespace distillery {

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (labels.numel() == 0) return 0.0;
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

double agreement(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) {
  if (student_logits.size(0) == 0) return 0.0;
  return student_logits.argmax(1).eq(teacher_logits.argmax(1)).to(torch::kFloat64).mean().item<double>();
}

double teacherStudentKl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) {
  if (student_logits.size(0) == 0) return 0.0;
  auto log_p_t = torch::log_softmax(teacher_logits.to(torch::kFloat64), 1);
  auto log_p_s = torch::log_softmax(student_logits.to(torch::kFloat64), 1);
  return (log_p_t.exp() * (log_p_t - log_p_s)).sum(1).mean().item<double>();
}

} // namespace distillery
