#pragma once
// The training loop shared by supervised training and distillation: seeded
// batches by index_select, the method's loss, periodic validation, cost
// counters, and recording through a RunRecorder.
#include "core/store/checkpoint.h"
#include "core/store/cost_counters.h"
#include "core/data/dataset.h"
#include "core/models/model_zoo.h"
#include "core/config/run_config.h"
#include "core/store/run_recorder.h"
#include "core/base/stop_token.h"
#include "core/methods/teacher_output_cache.h"
#include "core/distributed/data_parallel_group.h"

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace distillery {

// What the student may see of its teacher; logits on val/test are computed once.
struct TeacherOutputs {
  Classifier model;
  double flops_per_sample = 0.0;
  torch::Tensor val_logits;
  torch::Tensor test_logits;
  // Training-set logits from the teacher-output cache, rows in the order of
  // data.train; when set, batches read them instead of running the teacher.
  std::shared_ptr<TeacherCacheEntry> train_cache;
  // With a cache, the run obtains the teacher's outputs for every training
  // sample once, up front: that many queries and teacher FLOPs from step 0,
  // whether this run computed them or found them cached (a cached answer was
  // paid for by whoever computed it, and the run that uses it is charged).
  double cache_queries = 0.0;
  // An API teacher: its answers for data.train's rows as log-probabilities,
  // in memory (rows never bought are never read), and what the answers
  // counted in cache_queries cost.
  torch::Tensor train_logits;
  double cache_money = 0.0;
  bool hasModel() const { return bool(model); }
  bool answersTraining() const { return hasModel() || train_logits.defined(); }
};

struct TrainerSettings {
  int epochs = 1;
  int batch_size = 128;
  OptimConfig optim;
  std::string lr_field = "optim.lr"; // where optim.lr is set, for the hint when the loss diverges
  uint64_t seed = 0;
  int evals_per_epoch = 4;
  int log_every = 20;
  std::string method = "none";
  std::map<std::string, double> method_params;
  // Text parameters of the method (feature methods: teacher_layer, student_layer).
  std::map<std::string, std::string> method_text_params;
  // Keep the weights of the best validation pass rather than the last step's.
  bool select_best = true;
  // Evaluate the test split at every validation pass too (best_test_* in the result).
  bool track_test = false;
  // bf16 autocast of forward passes; applies on CUDA devices only.
  bool bf16_autocast = false;
  // Labels hidden (transfer set): the teacher's top-1 answers replace them.
  bool labels_from_teacher = false;
  // Checkpoints go to on_checkpoint (none when it is empty): every
  // checkpoint_every steps, or at the end of every epoch when it is 0, and at
  // the step where a stop request ends training. Points up to the
  // checkpoint's step are flushed to the recorder first.
  int64_t checkpoint_every = 0;
  // Also checkpoint once this many seconds passed since the last one (0: no
  // time limit), so a long epoch loses at most this much work to a crash.
  double checkpoint_seconds = 600.0;
  std::function<void(const TrainingCheckpoint&)> on_checkpoint;
  // Continue from this checkpoint (same model, data and settings) instead of
  // starting at step 0. Throws DataError when it does not fit.
  const TrainingCheckpoint* resume = nullptr;
  // Active learning (core/api/query_plan.h): before each epoch, epoch_rows
  // returns the rows of data.train the epoch may train on (the ones whose
  // answers were bought so far; it may buy more, and sets the cost's queries
  // and money), and every epoch takes epoch_samples of them, cycling. Called
  // again for finished epochs on resume, where it must replay, not buy.
  int64_t epoch_samples = 0;
  std::function<torch::Tensor(int epoch, CostCounters& cost)> epoch_rows;
  // Data-parallel (docs/distributed.md): batch_size is the global batch; each
  // rank trains on its strided shard of it, gradients are averaged over the
  // global batch, and only rank 0 validates, records and checkpoints.
  DataParallelGroup* parallel = nullptr;
  // Data-parallel: BatchNorm statistics over the global batch (distributed.sync_batchnorm).
  bool sync_batchnorm = false;
};

struct TrainerResult {
  bool cancelled = false;
  CostCounters cost;
  double wall_s = 0.0;
  double best_val_accuracy = 0.0;
  double final_val_accuracy = 0.0;
  double final_val_agreement = -1.0;
  double final_val_kl = -1.0;
  int64_t selected_step = 0; // the step whose weights the model holds at the end
  // With track_test: the best test accuracy and agreement over all passes (-1: not measured).
  double best_test_accuracy = -1.0;
  double best_test_agreement = -1.0;
  // Feature methods: the layers read and the parameters trained besides the
  // student (adapter, embedding heads), which the artifact does not keep.
  std::string teacher_layer, student_layer;
  int64_t extra_params = 0;
};

class Trainer {
public:
  using ProgressFn = std::function<void(int64_t step, int64_t total_steps, double epoch)>;

  Trainer(const Dataset& data, torch::Device device, RunRecorder& recorder, const StopToken& stop,
          ProgressFn progress);

  // teacher may be null (supervised training or a method without a teacher).
  TrainerResult train(const Classifier& model, double model_flops, const TeacherOutputs* teacher,
                      const TrainerSettings& settings);


private:
  friend class ImageTrainingLoop; // the loop of one train() call (trainer.cpp)
  struct Evaluation {
    double loss = 0.0, accuracy = 0.0, agreement = -1.0, kl = -1.0;
  };
  Evaluation evaluate(const Classifier& model, const TensorSplit& split, const torch::Tensor& teacher_logits);

  const Dataset& data_;
  torch::Device device_;
  RunRecorder& recorder_;
  const StopToken& stop_;
  ProgressFn progress_;
  CostCounters cost_;
  std::chrono::steady_clock::time_point start_;
};

// Optimiser steps that training on `samples` examples with these settings takes.
int64_t trainingSteps(int64_t samples, const TrainerSettings& settings);

// Logits of model over a split, in eval mode and chunks, without autograd.
// Small chunks are faster on CPU: a conv layer's im2col buffer for 1,024
// images no longer fits in cache (cnn teacher: 2.3k samples/s at 128, 0.8k at 1,024).
torch::Tensor predictLogits(const Classifier& model, const torch::Tensor& x, torch::Device device,
                            int64_t chunk = 128);

} // namespace distillery
