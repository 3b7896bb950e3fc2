#pragma once
// The training loop of language-model runs: random windows of the corpus, the
// method's per-token loss (or, for seq_kd and on_policy, generated batches,
// each row sampled from a generator of its own: seed, step and row),
// periodic validation (perplexity, and with a teacher: top-1 agreement and
// KL(teacher || student) per token), cost counters in tokens, recording
// through a RunRecorder, and checkpoints to resume from.
#include "core/config/lm_config.h"
#include "core/distributed/data_parallel_group.h"
#include "core/store/checkpoint.h"
#include "core/store/cost_counters.h"
#include "core/lm/gpt_model.h"
#include "core/config/optim_config.h"
#include "core/store/run_recorder.h"
#include "core/base/stop_token.h"
#include "core/lm/text_corpus.h"

#include <torch/torch.h>

#include <functional>
#include <limits>
#include <map>
#include <string>

namespace distillery {

struct LmTeacherModel {
  Gpt model{nullptr};
  double flops_per_token = 0.0;
  LmWatermarkConfig watermark; // on the text it writes (seq_kd) or the scores it gives (on_policy)
};

struct LmTrainSettings {
  int64_t steps = 1000;
  int batch_size = 32;
  int64_t context = 64;        // window length; the teacher's context must be at least this
  OptimConfig optim;
  std::string lr_field = "optim.lr"; // where optim.lr is set, for the hint when the loss diverges
  uint64_t seed = 0;
  int64_t eval_every = 100;
  int64_t eval_tokens = 16384; // validation tokens per pass (0: all)
  int log_every = 20;
  bool select_best = true;     // keep the weights of the lowest validation loss
  std::string method = "none";
  std::map<std::string, double> method_params;
  // Checkpoints go to on_checkpoint (none when it is empty): every
  // checkpoint_every steps, or after every validation pass when it is 0, at
  // the latest checkpoint_seconds after the last one (0: no time bound), and
  // when the run is cancelled. Points up to the checkpoint's step are flushed
  // to the recorder first.
  int64_t checkpoint_every = 0;
  double checkpoint_seconds = 600.0;
  std::function<void(const TrainingCheckpoint&)> on_checkpoint;
  // Continue from this checkpoint (same corpus, model and settings) instead
  // of from step 0; the windows drawn afterwards are the ones the run would
  // have drawn.
  const TrainingCheckpoint* resume = nullptr;
  // Data-parallel (docs/distributed.md): batch_size is the global batch; each
  // rank trains on its strided share of the rows, gradients are averaged over
  // the global batch's tokens, and only rank 0 validates, records and
  // checkpoints (core/training/data_parallel_training.h, as the image loop).
  DataParallelGroup* parallel = nullptr;
};

struct LmEvaluation {
  double loss = 0.0;       // student CE per token, nats
  double agreement = -1.0; // top-1 agreement with the teacher (-1: no teacher)
  double kl = -1.0;        // KL(teacher || student) per token
};

struct LmTrainResult {
  bool cancelled = false;
  CostCounters cost; // samples are predicted tokens (a window of context + 1 tokens predicts context)
  double wall_s = 0.0;
  double eval_s = 0.0; // of wall_s, spent validating (and on the teacher's validation logits)
  double best_val_loss = std::numeric_limits<double>::infinity();
  LmEvaluation initial; // at step 0
  LmEvaluation final;   // of the weights the model holds at the end
  double teacher_val_loss = -1.0;
  int64_t selected_step = 0;
  int64_t val_tokens = 0; // tokens in each validation pass
  // seq_kd with a watermark: teacher-written tokens of watermarked rows and how
  // many of them are green (this process's steps; a resumed run counts anew).
  int64_t watermark_tokens = 0, watermark_green = 0;
};

class LmTrainer {
public:
  using ProgressFn = std::function<void(int64_t step, int64_t total_steps, double epoch)>;
  LmTrainer(const TextCorpus& corpus, torch::Device device, RunRecorder& recorder, const StopToken& stop,
            ProgressFn progress);

  // teacher may be null (method "none" without a teacher to compare with).
  LmTrainResult train(Gpt student, double student_flops_per_token, const LmTeacherModel* teacher,
                      const LmTrainSettings& settings);

private:
  friend class LmTrainingLoop; // the loop of one train() call (lm_trainer.cpp)

  const TextCorpus& corpus_;
  torch::Device device_;
  RunRecorder& recorder_;
  const StopToken& stop_;
  ProgressFn progress_;
  CostCounters cost_;
  std::chrono::steady_clock::time_point start_;
};

// Logits of model on windows ([N, T] int64) in eval mode without autograd,
// chunk windows at a time; [N, T, V] on the CPU.
torch::Tensor windowLogits(Gpt model, const torch::Tensor& inputs, torch::Device device, int64_t chunk = 32);

// Validation of student logits against targets and, when defined, teacher logits.
LmEvaluation evaluateLogits(const torch::Tensor& student_logits, const torch::Tensor& targets,
                            const torch::Tensor& teacher_logits);

} // namespace distillery
