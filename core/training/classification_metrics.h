#pragma once
#include <torch/torch.h>

namespace distillery {

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels);
// Fraction of samples where student and teacher pick the same top-1 class.
double agreement(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits);
// Mean over samples of KL(softmax(teacher) || softmax(student)), in nats, at T = 1.
double teacherStudentKl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits);

} // namespace distillery
